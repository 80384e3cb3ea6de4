//! Phone numbers of people: validated, normalized to E.164 where the country
//! is known, so that the same number written two ways (`+49 30 1234567`,
//! `030 1234567` in Germany) compares equal for identity resolution.
//!
//! Parsing and the per-country numbering plans come from the `phonenumber`
//! crate (a port of Google's libphonenumber metadata); nothing here is a
//! hand-written table.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::model::ModelError;

/// Longest number accepted, in characters of the source text: ITU-T E.164
/// numbers have at most 15 digits; the rest is room for spaces, brackets and
/// an extension.
const MAX_PHONE_TEXT: usize = 64;

const EXPECTED: &str = "a phone number like +49 30 1234567 (digits, spaces, ()-./, an optional leading + and extension)";

/// A country whose national numbers are understood, e.g. `DE` for `030 1234567`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PhoneRegion(phonenumber::country::Id);

impl PhoneRegion {
    /// Accepts an ISO 3166-1 alpha-2 code (`DE`, `us`).
    pub fn parse(s: &str) -> Result<Self, ModelError> {
        let code = s.trim().to_ascii_uppercase();
        phonenumber::country::Id::from_str(&code)
            .map(PhoneRegion)
            .map_err(|_| {
                ModelError::invalid(
                    "phone region",
                    "a two-letter country code such as DE, US or CN",
                    s,
                )
            })
    }

    pub fn as_str(&self) -> &str {
        self.0.as_ref()
    }
}

impl fmt::Display for PhoneRegion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A validated phone number: E.164 (`+49301234567`) when the source was
/// international or a default region was given, otherwise the cleaned
/// national digits (`0301234567`), which [`Phone::is_normalized`] reports as
/// not normalized: two national forms only match when written identically.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Phone(String);

impl Phone {
    /// Parses the text of a phone field (`tel:` URIs included). National
    /// numbers become E.164 when `region` is given; without it they keep
    /// their cleaned digits. Text that is not a phone number is an error.
    pub fn parse(s: &str, region: Option<PhoneRegion>) -> Result<Self, ModelError> {
        let bad = || ModelError::invalid("phone", EXPECTED, s);
        let text = s.trim();
        let text = strip_prefix_ignore_case(text, "tel:")
            .unwrap_or(text)
            .trim();
        if text.is_empty() || text.len() > MAX_PHONE_TEXT {
            return Err(bad());
        }
        let (main, _extension) = split_extension(text);
        if !main.chars().all(|c| {
            c.is_ascii_digit() || matches!(c, ' ' | '-' | '.' | '/' | '(' | ')' | '+' | '\u{a0}')
        }) {
            return Err(bad());
        }
        let digits: String = main.chars().filter(char::is_ascii_digit).collect();
        let plus = main.trim_start().starts_with('+');
        if main.matches('+').count() > usize::from(plus) || !(3..=17).contains(&digits.len()) {
            return Err(bad());
        }
        let international = plus || digits.starts_with("00");
        if international || region.is_some() {
            let candidate = if plus {
                format!("+{digits}")
            } else if let Some(rest) = digits.strip_prefix("00").filter(|_| region.is_none()) {
                format!("+{rest}")
            } else {
                digits.clone()
            };
            let number = phonenumber::parse(region.map(|r| r.0), &candidate).map_err(|_| bad())?;
            let e164 = number.format().mode(phonenumber::Mode::E164).to_string();
            // E.164: a country code and at most 15 digits in all.
            if e164.len() < 5 || e164.len() > 16 {
                return Err(bad());
            }
            return Ok(Phone(e164));
        }
        Ok(Phone(digits))
    }

    /// Reads a stored value (E.164 or cleaned national digits) back.
    pub fn from_stored(s: &str) -> Result<Self, ModelError> {
        Phone::parse(s, None)
    }

    /// The stored form: `+49301234567` or national digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// True when the number is in E.164 form (its country is known).
    pub fn is_normalized(&self) -> bool {
        self.0.starts_with('+')
    }

    /// For people reading it: `+49 30 1234567`, or the national digits.
    pub fn display(&self) -> String {
        if self.is_normalized()
            && let Ok(n) = phonenumber::parse(None, &self.0)
        {
            return n
                .format()
                .mode(phonenumber::Mode::International)
                .to_string();
        }
        self.0.clone()
    }
}

fn strip_prefix_ignore_case<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &s[prefix.len()..])
}

/// Splits `030 1234-56 ext. 7`, `…;ext=7` and `… x7` into number and extension.
fn split_extension(s: &str) -> (&str, Option<&str>) {
    let lower = s.to_ascii_lowercase();
    for marker in [";ext=", " ext.", " ext", " x", "#"] {
        if let Some(at) = lower.find(marker) {
            let ext = s[at + marker.len()..].trim();
            if !ext.is_empty() && ext.chars().all(|c| c.is_ascii_digit()) {
                return (s[..at].trim_end(), Some(ext));
            }
        }
    }
    (s, None)
}

impl fmt::Display for Phone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for Phone {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Phone {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Phone::from_stored(&s).map_err(serde::de::Error::custom)
    }
}

crate::model::name_enum!(
    /// What a number is for, where the source says so.
    PhoneKind, "phone kind" {
        Work => "work",
        Mobile => "mobile",
        Home => "home",
        Other => "other",
    }
);

/// A person's phone number and, when the source says, what it is for.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PersonPhone {
    pub number: Phone,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<PhoneKind>,
}

impl PersonPhone {
    /// Parses the bundle's cell form: `+4930123456` or `work:+4930123456`.
    pub fn parse_tagged(s: &str) -> Result<Self, ModelError> {
        let t = s.trim();
        match t.split_once(':') {
            Some((kind, number)) if !kind.eq_ignore_ascii_case("tel") => Ok(PersonPhone {
                number: Phone::from_stored(number)?,
                kind: Some(PhoneKind::parse(kind)?),
            }),
            _ => Ok(PersonPhone {
                number: Phone::from_stored(t)?,
                kind: None,
            }),
        }
    }

    /// The bundle's cell form, read back by [`PersonPhone::parse_tagged`].
    pub fn tagged(&self) -> String {
        match self.kind {
            Some(k) => format!("{k}:{}", self.number),
            None => self.number.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn de() -> Option<PhoneRegion> {
        Some(PhoneRegion::parse("DE").unwrap())
    }

    #[test]
    fn international_numbers_become_e164_without_a_region() {
        for text in [
            "+49 30 1234567",
            "+49 (0)30 123-4567",
            "0049 30 1234567",
            "tel:+49-30-1234567",
            "TEL:+49 30 1234567",
        ] {
            let p = Phone::parse(text, None).unwrap();
            assert_eq!(p.as_str(), "+49301234567", "{text}");
            assert!(p.is_normalized());
        }
        assert_eq!(
            Phone::parse("+1 (415) 555-2671", None).unwrap().as_str(),
            "+14155552671"
        );
        assert_eq!(
            Phone::parse("+86 138 0013 8000", None).unwrap().as_str(),
            "+8613800138000"
        );
    }

    #[test]
    fn national_numbers_use_the_default_region() {
        let p = Phone::parse("030 1234567", de()).unwrap();
        assert_eq!(p.as_str(), "+49301234567");
        assert_eq!(p, Phone::parse("+49 30 1234567", None).unwrap());
        // A foreign number stays foreign whatever the default region.
        assert_eq!(
            Phone::parse("+33 1 23 45 67 89", de()).unwrap().as_str(),
            "+33123456789"
        );
        assert_eq!(
            Phone::parse("0170 1234567", de()).unwrap().as_str(),
            "+491701234567"
        );
    }

    #[test]
    fn national_numbers_without_a_region_stay_cleaned_and_unnormalized() {
        let p = Phone::parse("(030) 123-45 67", None).unwrap();
        assert_eq!(p.as_str(), "0301234567");
        assert!(!p.is_normalized());
        assert_eq!(p.display(), "0301234567");
        assert_eq!(Phone::from_stored("0301234567").unwrap(), p);
    }

    #[test]
    fn extensions_are_dropped_from_the_number() {
        assert_eq!(
            Phone::parse("+49 30 1234567 ext. 12", None)
                .unwrap()
                .as_str(),
            "+49301234567"
        );
        assert_eq!(
            Phone::parse("tel:+49-30-1234567;ext=12", None)
                .unwrap()
                .as_str(),
            "+49301234567"
        );
    }

    #[test]
    fn text_that_is_not_a_phone_number_is_rejected_with_what_was_expected() {
        for bad in [
            "",
            "n/a",
            "call me",
            "12",
            "+49 30 12+34",
            "ana@example.com",
            "+",
            "1234567890123456789",
            "030 CALL-NOW",
        ] {
            let err = Phone::parse(bad, de()).unwrap_err().to_string();
            assert!(
                err.contains("phone: expected a phone number"),
                "{bad}: {err}"
            );
            assert!(Phone::parse(bad, None).is_err(), "{bad}");
        }
    }

    #[test]
    fn display_groups_international_numbers() {
        assert_eq!(
            Phone::parse("+49301234567", None).unwrap().display(),
            "+49 30 1234567"
        );
    }

    #[test]
    fn regions_are_country_codes() {
        assert_eq!(PhoneRegion::parse("de").unwrap().as_str(), "DE");
        assert!(PhoneRegion::parse("Germany").is_err());
        assert!(PhoneRegion::parse("").is_err());
    }

    #[test]
    fn tagged_form_round_trips_and_names_bad_kinds() {
        let p = PersonPhone::parse_tagged("mobile:+491701234567").unwrap();
        assert_eq!(p.kind, Some(PhoneKind::Mobile));
        assert_eq!(PersonPhone::parse_tagged(&p.tagged()).unwrap(), p);
        let plain = PersonPhone::parse_tagged("0301234567").unwrap();
        assert_eq!(plain.kind, None);
        assert_eq!(plain.tagged(), "0301234567");
        let err = PersonPhone::parse_tagged("pager:+491701234567")
            .unwrap_err()
            .to_string();
        assert!(err.contains("work, mobile, home, other"), "{err}");
        let json = serde_json::to_string(&p).unwrap();
        assert_eq!(json, r#"{"number":"+491701234567","kind":"mobile"}"#);
        assert!(serde_json::from_str::<PersonPhone>(r#"{"number":"hello"}"#).is_err());
    }
}
