//! Phone numbers: ANIs as switches give them, normalised to E.164 with the
//! `phonenumber` crate (a maintained port of libphonenumber's metadata).
//!
//! Switches hand over numbers in every shape: `+14155550123`, `14155550123`,
//! `4155550123`, with an outside-line digit, or an internal extension `1001`. Only a
//! number the metadata says is valid gets an E.164 form; anything else is kept as the
//! switch gave it and simply does not match a contact.

use phonenumber::country::Id;
use phonenumber::Mode;

/// A number in its normalised forms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Normalised {
    /// `+14155550123`
    pub e164: String,
    /// The national significant number, `4155550123`.
    pub national: String,
}

/// Check a `default_country` value.
pub fn check_country(country: &str) -> Result<(), String> {
    country
        .parse::<Id>()
        .map(|_| ())
        .map_err(|_| format!("default_country `{country}` is not an ISO 3166 country code (e.g. \"US\", \"DE\", \"GB\")"))
}

/// Normalise `raw` as dialled in `country`. `None` for extensions, short codes,
/// withheld numbers and anything that is not a valid public number.
pub fn normalise(raw: &str, country: &str) -> Option<Normalised> {
    let digits: String = raw
        .chars()
        .filter(|c| c.is_ascii_digit() || *c == '+')
        .collect();
    // Extensions and service codes: never a public number, and libphonenumber would
    // happily read some short strings as valid in a few countries.
    if digits.trim_start_matches('+').len() < 6 {
        return None;
    }
    let id = country.parse::<Id>().ok();
    let parsed = phonenumber::parse(id, &digits)
        .ok()
        .filter(|n| n.is_valid())?;
    Some(Normalised {
        e164: parsed.format().mode(Mode::E164).to_string(),
        national: parsed.national().to_string(),
    })
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

    #[test]
    fn extensions_and_junk_are_not_numbers() {
        assert_eq!(normalise("1001", "US"), None);
        assert_eq!(normalise("", "US"), None);
        assert_eq!(normalise("anonymous", "US"), None);
        assert_eq!(normalise("+1", "US"), None);
        assert_eq!(normalise("99999999999999999999999999", "US"), None);
    }

    #[test]
    fn countries_are_checked() {
        assert!(check_country("DE").is_ok());
        assert!(check_country("XX").is_err());
        assert!(check_country("").is_err());
    }
}
