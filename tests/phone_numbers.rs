//! Every example number libphonenumber's metadata lists (one per region and number
//! type, `tests/captures/phone/example_numbers.tsv`, see its SOURCES.md) normalises
//! to its E.164 form however it is written: with `+CC`, with `+CC` and spaces, with
//! an international prefix (`00CC`), and in national form with the region as the
//! default country (the national significant number alone, and with the trunk
//! prefix where the country writes one).

use ctibridge::crm::phone::{self, MIN_NATIONAL_DIGITS};

struct Example {
    region: String,
    kind: String,
    national: String,
    trunk_prefix: String,
    e164: String,
}

fn examples() -> Vec<Example> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/captures/phone/example_numbers.tsv"
    );
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|line| {
            let f: Vec<&str> = line.split('\t').collect();
            assert_eq!(f.len(), 5, "{line}");
            Example {
                region: f[0].into(),
                kind: f[1].into(),
                national: f[2].into(),
                trunk_prefix: f[3].into(),
                e164: f[4].into(),
            }
        })
        .collect()
}

/// The ways one example is written, each with the default country it is read in.
fn forms(x: &Example) -> Vec<(String, &str)> {
    let cc = &x.e164[1..x.e164.len() - x.national.len()];
    let mut forms = vec![
        (x.e164.clone(), "US"),
        (format!("+{cc} {}", x.national), "GB"),
        (format!("00{cc} {}", x.national), "DE"),
    ];
    // 001: the non-geographic codes (+800, +870, …) have no national form.
    if x.region != "001" {
        forms.push((format!("{}{}", x.trunk_prefix, x.national), &x.region));
        // The bare national number, where that is how the country writes it or long
        // enough not to be taken for an extension (see phone::MIN_NATIONAL_DIGITS).
        if !x.trunk_prefix.is_empty() && x.national.len() >= MIN_NATIONAL_DIGITS {
            forms.push((x.national.clone(), &x.region));
        }
    }
    forms
}

#[test]
fn every_example_number_of_every_region_and_type_normalises() {
    let examples = examples();
    assert!(examples.len() > 1000, "{} examples", examples.len());
    let regions: std::collections::BTreeSet<&str> =
        examples.iter().map(|x| x.region.as_str()).collect();
    assert!(regions.len() > 240, "{} regions", regions.len());
    let mut refused = Vec::new();
    let mut tried = 0;
    for x in &examples {
        for (text, country) in forms(x) {
            tried += 1;
            match phone::parse(&text, country) {
                Ok(n) if n.e164 == x.e164 && x.e164.ends_with(&n.national) => {}
                Ok(n) => refused.push(format!(
                    "{} {} `{text}` in {country}: read as {}, expected {}",
                    x.region, x.kind, n.e164, x.e164
                )),
                Err(e) => refused.push(format!(
                    "{} {} `{text}` in {country}: {e}",
                    x.region, x.kind
                )),
            }
        }
    }
    assert!(
        refused.is_empty(),
        "{} of {tried} forms refused or misread:\n{}",
        refused.len(),
        refused.join("\n")
    );
}
