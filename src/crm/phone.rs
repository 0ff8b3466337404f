//! Phone numbers: ANIs as switches give them and contacts' numbers as people write
//! them, normalised to E.164.
//!
//! Parsing and validation are libphonenumber's, through the `rlibphonenumber` crate
//! (a port of Google's library that follows its C++ code closely and ships recent
//! metadata). It replaced the `phonenumber` crate, which refused real numbers: checked
//! against every example number libphonenumber's own metadata lists (one per region
//! and number type, `tests/captures/phone/`), written in five common ways, the old
//! normaliser refused or mis-read 207 of 5,000 forms (188 of 1,144 numbers), among
//! them `+33 1 42 68 50 10` read with default country US (the crate stripped the
//! `1` after the country code as if it were the US trunk prefix), every Russian and
//! Kazakh `8xx` service number, and French overseas departments dialled nationally.
//! With `rlibphonenumber` and the rules below, none is refused.
//!
//! What is accepted:
//! - a number libphonenumber calls valid (its ranges for the country code);
//! - a number written with its country code (`+CC …`, or the default country's
//!   international prefix such as `00`/`011`) whose length is possible for that
//!   country although its range is not (yet) in the metadata: country codes and
//!   lengths change rarely, number ranges often, and a number someone wrote down with
//!   its country code is a real number, not an extension. Without a country code
//!   there is nothing to tell a new range from a typo, so a national form must be
//!   valid.
//!
//! What is refused, with a [`Refusal`] saying why: text that holds no number,
//! internal extensions and short codes (fewer than [`MIN_NATIONAL_DIGITS`] digits
//! written without a country code; a valid short number is still taken when it is
//! written exactly as its country writes it nationally, trunk prefix included where
//! that country uses one, so `62889` on Ascension Island or `030 12…` is a number and
//! a German PBX's extension `3012` is not), numbers with an extension (`x45`: an E.164
//! number cannot carry one), and numbers no range or length of their country fits.

use std::fmt;

use rlibphonenumber::{
    get_national_significant_number_owned, CountryCodeSource, NumberLengthType, PhoneNumber,
    PhoneNumberFormat, Region, PHONE_NUMBER_UTIL,
};

/// Fewer digits than this, written without a country code, are an extension or a
/// short code (PBX extensions are 2 to 5 digits; several countries' plans have
/// valid 4- and 5-digit local numbers that would otherwise swallow them).
pub const MIN_NATIONAL_DIGITS: usize = 6;

/// A number in its normalised forms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Normalised {
    /// `+14155550123`
    pub e164: String,
    /// The national significant number, `4155550123`.
    pub national: String,
}

/// Why a text is not a public phone number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// Nothing but blanks.
    Empty,
    /// No phone number can be read from the text (libphonenumber's reason).
    NotANumber(String),
    /// Too few digits for a public number: an extension or a short code.
    Short { digits: usize },
    /// A number with an extension; `number` is the number without it.
    Extension { number: String, extension: String },
    /// Read as `e164`, but no range or length of that country code fits.
    Invalid { e164: String },
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::Empty => write!(f, "no number"),
            Refusal::NotANumber(why) => write!(f, "not a phone number ({why})"),
            Refusal::Short { digits } => write!(
                f,
                "{digits} digits without a country code: an extension or short code, not a public number"
            ),
            Refusal::Extension { number, extension } => write!(
                f,
                "has an extension ({extension}); give the number without it ({number})"
            ),
            Refusal::Invalid { e164 } => write!(
                f,
                "read as {e164}, which is not a possible number for that country code"
            ),
        }
    }
}

/// Check a `default_country` value.
pub fn check_country(country: &str) -> Result<(), String> {
    region(country).map(|_| ()).ok_or_else(|| {
        format!("default_country `{country}` is not an ISO 3166 country code (e.g. \"US\", \"DE\", \"GB\")")
    })
}

fn region(country: &str) -> Option<Region> {
    let country = country.trim().to_ascii_uppercase();
    let region = country.parse::<Region>().ok()?;
    // Only regions with a numbering plan (not "001", the non-geographic codes).
    PHONE_NUMBER_UTIL.get_country_code_for_region(region)?;
    (country.len() == 2).then_some(region)
}

/// Normalise `raw` as dialled in `country`. `None` for extensions, short codes,
/// withheld numbers and anything that is not a public number (see [`parse`]).
pub fn normalise(raw: &str, country: &str) -> Option<Normalised> {
    parse(raw, country).ok()
}

/// Read `raw` (any human or switch format: spaces, dots, dashes, parentheses, `+` or
/// an international prefix, a national trunk prefix) as a number dialled in
/// `country`.
pub fn parse(raw: &str, country: &str) -> Result<Normalised, Refusal> {
    let text = raw.trim();
    if text.is_empty() {
        return Err(Refusal::Empty);
    }
    let home = region(country);
    let number = PHONE_NUMBER_UTIL
        .parse_and_keep_raw_input(text, home)
        .map_err(|e| Refusal::NotANumber(e.to_string()))?;
    let e164 = PHONE_NUMBER_UTIL
        .format(&number, PhoneNumberFormat::E164)
        .to_string();
    let national = get_national_significant_number_owned(&number);
    if let Some(extension) = number.extension.as_ref().filter(|e| !e.is_empty()) {
        return Err(Refusal::Extension {
            number: e164,
            extension: extension.clone(),
        });
    }
    let with_country_code = with_country_code(&number);
    if !with_country_code
        && national.len() < MIN_NATIONAL_DIGITS
        && !(number.is_valid() && written_nationally(text, &number))
    {
        return Err(Refusal::Short {
            digits: national.len(),
        });
    }
    let accepted = number.is_valid()
        || (with_country_code
            && PHONE_NUMBER_UTIL.is_possible_number_with_reason(&number)
                == Ok(NumberLengthType::IsPossible));
    if accepted {
        Ok(Normalised { e164, national })
    } else {
        Err(Refusal::Invalid { e164 })
    }
}

/// Whether the text carried the country code (`+CC`, or an international prefix).
fn with_country_code(number: &PhoneNumber) -> bool {
    !matches!(
        number
            .country_code_source
            .and_then(|s| CountryCodeSource::try_from(s).ok()),
        None | Some(CountryCodeSource::FromDefaultCountry) | Some(CountryCodeSource::Unspecified)
    )
}

/// Whether `text` holds exactly the digits of the number's national format (with
/// the trunk prefix where the country writes one, without it where not).
fn written_nationally(text: &str, number: &PhoneNumber) -> bool {
    let national = PHONE_NUMBER_UTIL.format(number, PhoneNumberFormat::National);
    PHONE_NUMBER_UTIL.normalize_digits_only(text)
        == PHONE_NUMBER_UTIL.normalize_digits_only(&national)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn us_numbers_in_every_shape() {
        for raw in [
            "+14155550123",
            "14155550123",
            "4155550123",
            "(415) 555-0123",
            "+1 415 555 0123",
            "415.555.0123",
            "011 1 415 555 0123",
        ] {
            let n = normalise(raw, "US").unwrap_or_else(|| panic!("{raw}"));
            assert_eq!(n.e164, "+14155550123", "{raw}");
            assert_eq!(n.national, "4155550123", "{raw}");
        }
    }

    #[test]
    fn foreign_numbers_keep_their_country() {
        let n = normalise("+442079460000", "US").unwrap();
        assert_eq!(n.e164, "+442079460000");
        let n = normalise("02079460000", "GB").unwrap();
        assert_eq!(n.e164, "+442079460000");
        assert_eq!(n.national, "2079460000");
    }

    /// The number of issue 15, in the ways people write it.
    #[test]
    fn a_paris_number_is_a_number() {
        for (raw, country) in [
            ("+33 1 42 68 50 10", "US"),
            ("+33142685010", "DE"),
            ("+33 (0)1 42 68 50 10", "GB"),
            ("0033 1 42 68 50 10", "DE"),
            ("01 42 68 50 10", "FR"),
            ("01.42.68.50.10", "FR"),
        ] {
            let n = parse(raw, country).unwrap_or_else(|e| panic!("{raw}: {e}"));
            assert_eq!(n.e164, "+33142685010", "{raw}");
            assert_eq!(n.national, "142685010", "{raw}");
        }
    }

    #[test]
    fn extensions_and_junk_are_not_numbers() {
        assert_eq!(normalise("1001", "US"), None);
        assert_eq!(normalise("", "US"), None);
        assert_eq!(normalise("anonymous", "US"), None);
        assert_eq!(normalise("+1", "US"), None);
        assert_eq!(normalise("99999999999999999999999999", "US"), None);
        assert_eq!(normalise("112", "DE"), None);
        // Valid 4- and 5-digit numbers exist in Germany and Austria; written without a
        // country code they are a PBX's extensions.
        assert_eq!(parse("3012", "DE"), Err(Refusal::Short { digits: 4 }));
        assert_eq!(parse("30123", "AT"), Err(Refusal::Short { digits: 5 }));
        // Too short for any US number, even with the country code.
        assert!(matches!(
            parse("+1 555 0100", "US"),
            Err(Refusal::Invalid { .. })
        ));
        assert_eq!(
            parse("+1 415 555 0123 ext. 45", "US"),
            Err(Refusal::Extension {
                number: "+14155550123".into(),
                extension: "45".into()
            })
        );
    }

    /// A national form must be valid; with its country code a number of a possible
    /// length is taken even where the metadata knows no range for it yet.
    #[test]
    fn possible_numbers_with_a_country_code_are_kept() {
        // +1 0xx is no NANP range, but 10 digits is a NANP length.
        assert_eq!(parse("+1 055 555 0123", "DE").unwrap().e164, "+10555550123");
        assert!(matches!(
            parse("055 555 0123", "US"),
            Err(Refusal::Invalid { .. }) | Err(Refusal::NotANumber(_))
        ));
    }

    #[test]
    fn short_numbers_written_as_at_home_are_numbers() {
        // Ascension Island: five-digit fixed lines.
        assert_eq!(parse("62889", "AC").unwrap().e164, "+24762889");
        assert!(parse("62889", "US").is_err());
    }

    #[test]
    fn countries_are_checked() {
        assert!(check_country("DE").is_ok());
        assert!(check_country("XX").is_err());
        assert!(check_country("001").is_err());
        assert!(check_country("").is_err());
    }
}
