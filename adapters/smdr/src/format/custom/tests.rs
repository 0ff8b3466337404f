//! Tests of the TOML-defined format: each key and option on lines of the layouts
//! that need it.

use super::*;
use crate::format::fields::test_clock as clock;

fn custom(text: &str) -> Result<Custom, String> {
    let spec: CustomSpec = toml::from_str(text).map_err(|e| e.to_string())?;
    Custom::new(spec)
}

const FIXED: &str = r#"
kind = "fixed"
skip = ['^CLASS ', 'PAGE \d+']
[fields]
direction = { cols = "1-4", map = { PIN = "in", POT = "out", ICM = "internal" } }
start = { cols = "6-16", pattern = "%H:%M %m/%d" }
duration_s = { cols = "18-25", pattern = "%H:%M:%S" }
extension = { cols = "27-30" }
dialed = { cols = "32-50" }
"#;

#[test]
fn the_design_example_reads_lines() {
    let format = custom(FIXED).unwrap();
    let Ok(Line::Record(p)) =
        format.parse("POT  09:12 03/10 00:01:30 2001 0442071838750", &clock())
    else {
        panic!("not a record")
    };
    let r = p.record;
    assert_eq!(r.direction, Some(Direction::Out));
    assert_eq!(r.start, Some("2026-03-10T09:12:00Z".parse().unwrap()));
    assert_eq!(r.duration_s, Some(90.0));
    assert_eq!(r.extension.as_deref(), Some("2001"));
    assert_eq!(r.dialed.as_deref(), Some("0442071838750"));
    assert_eq!(r.answered, Some(true));
    assert_eq!(format.parse("CLASS TIME  DATE", &clock()), Ok(Line::Skip));
    assert_eq!(format.parse("            PAGE 2", &clock()), Ok(Line::Skip));
    let err = format
        .parse("XXX  09:12 03/10 00:01:30 2001", &clock())
        .unwrap_err();
    assert!(err.to_string().contains("direction (columns 1-4)"), "{err}");
}

#[test]
fn csv_kind() {
    let format = custom(
        r#"
kind = "csv"
delimiter = ";"
[fields]
start = { field = 1, pattern = "%d.%m.%Y %H:%M:%S" }
calling = { field = 2 }
extension = { field = 3 }
ring_s = { field = 4 }
answered = { field = 5, map = { A = "true", N = "false" } }
direction = { field = 6 }
"#,
    )
    .unwrap();
    let Ok(Line::Record(p)) = format.parse("10.03.2026 08:00:00;4155550123;2001;12;N;I", &clock())
    else {
        panic!("not a record")
    };
    assert_eq!(p.record.ring_s, Some(12.0));
    assert_eq!(p.record.answered, Some(false));
    assert_eq!(p.record.direction, Some(Direction::In));
}

#[test]
fn bad_specs_are_explained() {
    let err = custom("kind = \"fixed\"\n[fields]\nstart = { field = 1 }").unwrap_err();
    assert!(err.contains("needs cols"), "{err}");
    let err = custom("kind = \"csv\"\n[fields]\nwho = { field = 1 }").unwrap_err();
    assert!(err.contains("unknown field `who`"), "{err}");
    let err =
        custom("kind = \"fixed\"\nskip = ['(']\n[fields]\nstart = { cols = \"1-2\" }").unwrap_err();
    assert!(err.contains("regex"), "{err}");
    let err = custom(
        "kind = \"fixed\"\n[fields]\ndirection = { cols = \"1-2\", map = { X = \"sideways\" } }",
    )
    .unwrap_err();
    assert!(err.contains("sideways"), "{err}");
    let err = custom("kind = \"fixed\"\n[fields]\nstart = { cols = \"9-2\" }").unwrap_err();
    assert!(err.contains("FROM-TO"), "{err}");
}
fn one(format: &Custom, line: &str) -> CallRecord {
    match format.parse(line, &clock()) {
        Ok(Line::Record(p)) => p.record,
        other => panic!("{line:?}: {other:?}"),
    }
}

#[test]
fn epoch_seconds_and_milliseconds() {
    let format = custom(
        r#"
kind = "csv"
skip = ['^"cdrRecordType"', '^INTEGER,']
[fields]
start = { field = 2, pattern = "epoch" }
duration_s = { field = 3 }
answered = { field = 4, map = { "0" = "false" }, default = "true" }
"#,
    )
    .unwrap();
    let r = one(&format, "1,1773133442,75,1773133450");
    // 1773133442 is 2026-03-10T09:04:02Z; an epoch time is absolute.
    assert_eq!(r.start, Some("2026-03-10T09:04:02+00:00".parse().unwrap()));
    assert_eq!(r.duration_s, Some(75.0));
    assert_eq!(r.answered, Some(true));
    assert_eq!(one(&format, "1,1773133442,0,0").answered, Some(false));
    assert_eq!(
        format.parse("INTEGER,INTEGER,INTEGER", &clock()),
        Ok(Line::Skip)
    );
    let ms =
        custom("kind = \"csv\"\n[fields]\nstart = { field = 1, pattern = \"epoch_ms\" }").unwrap();
    let r = one(&ms, "1773133442500");
    assert_eq!(
        r.start,
        Some("2026-03-10T09:04:02.500+00:00".parse().unwrap())
    );
    assert!(ms.parse("yesterday", &clock()).is_err());
}

#[test]
fn date_and_time_apart_with_a_12_hour_clock() {
    let format = custom(
        r#"
kind = "fixed"
[fields]
start_date = { cols = "1-8", pattern = "%m/%d/%y" }
start_time = { cols = "10-16", pattern = "%I:%M%p" }
ring_s = { cols = "18-21", pattern = "%M'%S" }
duration_s = { cols = "23-30", pattern = "%H:%M'%S" }
"#,
    )
    .unwrap();
    let r = one(&format, "03/09/26 01:07PM 0'12 00:02'05");
    assert_eq!(r.start, Some("2026-03-09T13:07:00Z".parse().unwrap()));
    assert_eq!(r.ring_s, Some(12.0));
    assert_eq!(r.duration_s, Some(125.0));
    let err = format
        .parse("03/09/26 13:77PM 0'12 00:02'05", &clock())
        .unwrap_err();
    assert!(
        err.to_string().contains("start_time (columns 10-16)"),
        "{err}"
    );
}

#[test]
fn optional_fields_defaults_and_open_columns() {
    // NEC SL: an extension call has no date; the number runs to the end.
    let format = custom(
        r#"
kind = "fixed"
[fields]
direction = { cols = "1-4", map = { POT = "out", PIN = "in", ICM = "internal" } }
start_time = { cols = "6-10", pattern = "%H:%M" }
start_date = { cols = "12-16", pattern = "%m/%d", optional = true }
trunk = { cols = "18-21" }
duration_s = { cols = "23-30" }
extension = { cols = "32-41" }
dialed = { cols = "43-" }
account = { cols = "64-79", default = "NONE" }
"#,
    )
    .unwrap();
    let r = one(&format, "ICM  10:15                00:00:20 101        102");
    assert_eq!(r.start, Some("2026-03-10T10:15:00Z".parse().unwrap()));
    assert_eq!(r.direction, Some(Direction::Internal));
    assert_eq!(r.dialed.as_deref(), Some("102"));
    assert_eq!(r.account.as_deref(), Some("NONE"));
    let r = one(
        &format,
        "POT  09:02 03/09 003  00:01:10 101        0123456789",
    );
    assert_eq!(r.start, Some("2026-03-09T09:02:00Z".parse().unwrap()));
    assert_eq!(r.trunk.as_deref(), Some("003"));
}

#[test]
fn words_kind() {
    let format = custom(
        r#"
kind = "words"
[fields]
start_date = { field = 1, pattern = "%d.%m.%Y" }
start_time = { field = 2, pattern = "%H:%M:%S" }
extension = { field = 3 }
calling = { field = 4 }
duration_s = { field = 5 }
"#,
    )
    .unwrap();
    let r = one(&format, "09.03.2026   08:00:01  2001   4155550123     95");
    assert_eq!(r.start, Some("2026-03-09T08:00:01Z".parse().unwrap()));
    assert_eq!(r.calling.as_deref(), Some("4155550123"));
    assert_eq!(r.duration_s, Some(95.0));
    let err =
        custom("kind = \"words\"\ndelimiter = \";\"\n[fields]\nstart = { field = 1 }").unwrap_err();
    assert!(err.contains("delimiter"), "{err}");
    let err =
        custom("kind = \"words\"\n[fields]\nstart = { field = 1 }\nstart_time = { field = 2 }")
            .unwrap_err();
    assert!(err.contains("not both"), "{err}");
}
