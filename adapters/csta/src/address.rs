//! The number in a CSTA device identifier, whatever syntax the switch writes it in.
//!
//! ECMA-323 leaves the text of a `deviceIdentifier` to the switch, and switches
//! differ:
//!
//! | Switch | Form | Number |
//! |---|---|---|
//! | most | `1001`, `+14155550123` | as written |
//! | OpenScape Voice | `N<+4989700700>;displayNumber=089700700;noa=nk` | inside `N<…>` |
//! | OpenScape Voice (trunks) | `N<6175550148>Trunk22002;displayNumber=…;uid=…` | inside `N<…>` |
//! | Microsoft RCC (uaCSTA) | `tel:48213;phone-context=dialstring` | the `tel:` number |
//! | SIP gateways | `sip:1001@pbx.example.com` | the user part |
//!
//! The number keeps the digits as the switch gave them (a `+` stays); the whole text
//! is kept beside it for diagnostics. Avaya DMCC device ids (`1001:CM1:10.0.0.6:0`)
//! are a naming scheme rather than a syntax and are handled in [`crate::devices`].

/// A device as the switch wrote it and the number it stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Address {
    pub number: String,
    pub raw: String,
}

impl Address {
    /// Read a device identifier's text. `None` when it names no number.
    pub fn parse(text: &str) -> Option<Address> {
        let raw = text.trim();
        let number = number_of(raw)?;
        Some(Address {
            number,
            raw: raw.to_string(),
        })
    }

    /// Whether the switch wrote more than the number (parameters, a name, a scheme).
    pub fn is_decorated(&self) -> bool {
        self.number != self.raw
    }
}

fn number_of(raw: &str) -> Option<String> {
    // OpenScape: `N<number>` then anything (a name, `;param=value` pairs).
    if let Some(rest) = raw.strip_prefix("N<") {
        let inner = rest.split('>').next().unwrap_or_default().trim();
        if !inner.is_empty() {
            return Some(inner.to_string());
        }
        // `N<>` with the number only in the display parameter.
        return param(rest, "displayNumber").map(String::from);
    }
    if let Some(rest) = raw.strip_prefix("tel:") {
        return non_empty(rest.split(';').next().unwrap_or_default());
    }
    if let Some(rest) = raw
        .strip_prefix("sip:")
        .or_else(|| raw.strip_prefix("sips:"))
    {
        let user = rest.split(['@', ';']).next().unwrap_or_default();
        return non_empty(user);
    }
    // Plain digits, possibly followed by `;param=value` pairs.
    non_empty(raw.split(';').next().unwrap_or_default())
}

/// The value of `;name=value` in a parameter list.
fn param<'a>(text: &'a str, name: &str) -> Option<&'a str> {
    text.split(';').skip(1).find_map(|pair| {
        let (key, value) = pair.split_once('=')?;
        (key.trim() == name && !value.trim().is_empty()).then(|| value.trim())
    })
}

fn non_empty(text: &str) -> Option<String> {
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn any_text_reads_or_is_absent_without_panicking(text in "\\PC{0,40}") {
            if let Some(address) = Address::parse(&text) {
                prop_assert!(!address.number.is_empty());
                prop_assert_eq!(address.raw, text.trim());
            }
        }

        #[test]
        fn a_number_in_n_brackets_comes_out_as_given(number in "\\+?[0-9]{1,15}", tail in "(;[a-z]+=[0-9a-z]{0,8}){0,3}") {
            let text = format!("N<{number}>{tail}");
            prop_assert_eq!(Address::parse(&text).map(|a| a.number), Some(number));
        }
    }

    fn number(text: &str) -> Option<String> {
        Address::parse(text).map(|a| a.number)
    }

    #[test]
    fn the_forms_switches_write() {
        for (text, want) in [
            ("1001", "1001"),
            ("+14155550123", "+14155550123"),
            (
                "N<+4989700700>;displayNumber=089700700;noa=nk",
                "+4989700700",
            ),
            ("N<496975520412>;noa=nk", "496975520412"),
            (
                "N<6175550148>Trunk22002;displayNumber=6175550148;uid=FF01",
                "6175550148",
            ),
            ("N<>;displayNumber=20417", "20417"),
            ("tel:48213;phone-context=dialstring", "48213"),
            ("tel:+13125550187", "+13125550187"),
            ("sip:1001@pbx.example.com;transport=tcp", "1001"),
            ("4711;noa=nk", "4711"),
            ("  1002  ", "1002"),
        ] {
            assert_eq!(number(text).as_deref(), Some(want), "{text}");
        }
        for text in ["", "N<>", "N<>;noa=nk", "tel:", "sip:@host", ";noa=nk"] {
            assert_eq!(number(text), None, "{text:?}");
        }
        let address = Address::parse("N<+4989700700>;displayNumber=089700700").unwrap();
        assert!(address.is_decorated());
        assert_eq!(address.raw, "N<+4989700700>;displayNumber=089700700");
        assert!(!Address::parse("1001").unwrap().is_decorated());
    }
}
