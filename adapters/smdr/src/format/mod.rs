//! Record formats: what the fields of one record line mean.
//!
//! One module per built-in format, each documenting its field layout, and
//! [`custom`] for a layout a sysadmin writes in TOML. A format turns one line into a
//! [`Line`]: a record, or a line to skip quietly (headers, page titles, status lines
//! that are not calls). A line it cannot read is a [`ParseError`] naming the field.
//!
//! Shared reading helpers (columns, CSV, durations, year-less dates) are in [`fields`].

pub mod asterisk_csv;
pub mod avaya_ipo;
pub mod axxess;
pub mod custom;
pub mod fields;
pub mod mitel_mivb;
pub mod mitel_sx200;
pub mod nec_flexible;
pub mod nec_neax;
pub mod panasonic_tda;

use ctibridge_adapter::CallRecord;

use crate::error::ParseError;
use fields::Clock;

/// What one line turned out to be.
// A `Line` lives only while its line is handled; boxing the record would cost an
// allocation per record for nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum Line {
    Record(Parsed),
    /// A header, page title, separator or a status line that is not a call.
    Skip,
}

/// One record line, read.
#[derive(Debug, Clone, PartialEq)]
pub struct Parsed {
    pub record: CallRecord,
    /// More lines of the same call follow (they carry the same `call_id`).
    pub continues: bool,
}

impl Parsed {
    pub fn new(record: CallRecord) -> Self {
        Parsed {
            record,
            continues: false,
        }
    }
}

/// The built-in formats, by their `format = "…"` name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Builtin {
    AvayaIpo,
    MitelMivb,
    MitelMivbExtended,
    MitelSx200,
    Axxess,
    NecFlexible,
    PanasonicTda,
    PanasonicTa,
    AsteriskCsv,
}

impl Builtin {
    pub const ALL: [Builtin; 9] = [
        Builtin::AvayaIpo,
        Builtin::MitelMivb,
        Builtin::MitelMivbExtended,
        Builtin::MitelSx200,
        Builtin::Axxess,
        Builtin::NecFlexible,
        Builtin::PanasonicTda,
        Builtin::PanasonicTa,
        Builtin::AsteriskCsv,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Builtin::AvayaIpo => "avaya-ipo",
            Builtin::MitelMivb => "mitel-mivb",
            Builtin::MitelMivbExtended => "mitel-mivb-extended",
            Builtin::MitelSx200 => "mitel-sx200",
            Builtin::Axxess => "axxess",
            Builtin::NecFlexible => "nec-flexible",
            Builtin::PanasonicTda => "panasonic-tda",
            Builtin::PanasonicTa => "panasonic-ta",
            Builtin::AsteriskCsv => "asterisk-csv",
        }
    }

    pub fn by_name(name: &str) -> Option<Builtin> {
        Builtin::ALL.into_iter().find(|b| b.name() == name)
    }

    fn parse(self, line: &str, clock: &Clock) -> Result<Line, ParseError> {
        match self {
            Builtin::AvayaIpo => avaya_ipo::parse(line, clock),
            Builtin::MitelMivb => mitel_mivb::parse(line, clock),
            Builtin::MitelMivbExtended => mitel_mivb::parse_extended(line, clock),
            Builtin::MitelSx200 => mitel_sx200::parse(line, clock),
            Builtin::Axxess => axxess::parse(line, clock),
            Builtin::NecFlexible => nec_flexible::parse(line, clock),
            Builtin::PanasonicTda => panasonic_tda::parse(line, clock),
            Builtin::PanasonicTa => panasonic_tda::parse_ta(line, clock),
            Builtin::AsteriskCsv => asterisk_csv::parse(line, clock),
        }
    }
}

/// A switch's record format: built in, or written in TOML.
#[derive(Debug, Clone)]
pub enum Format {
    Builtin(Builtin),
    Custom(Box<custom::Custom>),
}

impl Format {
    /// A built-in format by name; the error lists the names there are.
    pub fn named(name: &str) -> Result<Format, String> {
        Builtin::by_name(name).map(Format::Builtin).ok_or_else(|| {
            format!(
                "unknown format `{name}`; built-in formats: {} (or a [switch.format] table)",
                Builtin::ALL.map(Builtin::name).join(", ")
            )
        })
    }

    pub fn parse(&self, line: &str, clock: &Clock) -> Result<Line, ParseError> {
        match self {
            Format::Builtin(builtin) => builtin.parse(line, clock),
            Format::Custom(custom) => custom.parse(line, clock),
        }
    }
}
