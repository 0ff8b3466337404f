//! `ctibridge decode --adapter smdr --format NAME|FILE.toml CAPTURE`: the records the
//! adapter would send for a capture, through the same framing, format, dedup and
//! joining as the live link. `--format` is a built-in name, or the path of a TOML
//! file holding the `[switch.format]` keys at its top level. Times stay as the
//! switch printed them (switch-local, see [`ctibridge_adapter::SwitchTime`]); dates
//! without a year or a day are read as of now.

use ctibridge_adapter::{AdapterEvent, DecodeIssue, DecodeOptions, Decoded, SwitchEvent};

use crate::dedup::DEFAULT_WINDOW;
use crate::format::custom::{Custom, CustomSpec};
use crate::format::Format;
use crate::framing::Terminator;
use crate::reader::{Output, Reader};

pub fn decode(options: &DecodeOptions, input: &[u8]) -> Result<Vec<Decoded>, String> {
    let format = match options.format.as_deref() {
        None => return Err("--format is required for smdr: a built-in name or a FILE.toml".into()),
        Some(f) if f.ends_with(".toml") => format_file(f)?,
        Some(name) => Format::named(name)?,
    };
    let mut reader = Reader::new(format, Terminator::Auto, None, DEFAULT_WINDOW);
    let mut outputs = reader.push(input);
    outputs.extend(reader.finish());
    Ok(outputs
        .into_iter()
        .map(|output| match output {
            Output::Record(done) => Decoded::Event(AdapterEvent {
                event: SwitchEvent::CallRecord(done.record),
                raw: Some(done.raw),
            }),
            Output::Issue(issue) => Decoded::Issue(DecodeIssue {
                position: issue.position(),
                message: issue.error.to_string(),
            }),
        })
        .collect())
}

fn format_file(path: &str) -> Result<Format, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
    let spec: CustomSpec = toml::from_str(&text).map_err(|e| format!("{path}: {e}"))?;
    Ok(Format::Custom(Box::new(
        Custom::new(spec).map_err(|e| format!("{path}: {e}"))?,
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(format: &str) -> DecodeOptions {
        DecodeOptions {
            format: Some(format.into()),
            phase: None,
        }
    }

    #[test]
    fn records_and_issues_in_order() {
        let input = b"CallStart,ConnectedTime\r\n2026/03/10 09:14:02,00:03:41,6,4155550123,I,2001,2001,,0,1000042,0,E2001,Anna,T9001,Line 1.1,0,0\r\nnot a record\r\n2026/03/10 09:15:00,00:00:10,2,2002,O,2001,2001,,1,1000043,0,E2002,Ben,E2001,Anna,0,0";
        let items = decode(&options("avaya-ipo"), input).unwrap();
        assert_eq!(items.len(), 3);
        assert!(
            matches!(&items[0], Decoded::Event(e) if e.raw.as_deref().unwrap().contains("1000042"))
        );
        match &items[1] {
            Decoded::Issue(issue) => {
                let at = input.windows(3).position(|w| w == b"not").unwrap();
                assert_eq!(issue.position, format!("line 3 (byte {at})"));
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(&items[2], Decoded::Event(_)));
    }

    #[test]
    fn unknown_format_is_an_error() {
        let err = decode(&options("acme"), b"").unwrap_err();
        assert!(err.contains("avaya-ipo"), "{err}");
        assert!(decode(&DecodeOptions::default(), b"").is_err());
        assert!(decode(&options("no-such-file.toml"), b"").is_err());
    }
}
