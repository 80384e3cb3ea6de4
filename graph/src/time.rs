//! Instants as whole seconds since the Unix epoch (UTC). Scores are computed
//! "as of" an instant, never from the wall clock, so they are reproducible.

use std::fmt;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::model::ModelError;

pub const SECONDS_PER_DAY: f64 = 86_400.0;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Timestamp(i64);

impl Timestamp {
    pub const fn from_epoch_seconds(s: i64) -> Self {
        Timestamp(s)
    }
    pub const fn epoch_seconds(self) -> i64 {
        self.0
    }
    /// Parses RFC 3339 (`2025-03-04T09:30:00Z`, offsets allowed), or a bare
    /// date `2025-03-04` taken as midnight UTC.
    pub fn parse(s: &str) -> Result<Self, ModelError> {
        let t = s.trim();
        if let Ok(dt) = DateTime::parse_from_rfc3339(t) {
            return Ok(Timestamp(dt.timestamp()));
        }
        if let Ok(d) = chrono::NaiveDate::parse_from_str(t, "%Y-%m-%d") {
            return Ok(Timestamp(
                d.and_hms_opt(0, 0, 0)
                    .expect("midnight")
                    .and_utc()
                    .timestamp(),
            ));
        }
        Err(ModelError::invalid(
            "timestamp",
            "an RFC 3339 time like 2025-03-04T09:30:00Z (or a date 2025-03-04)",
            s,
        ))
    }
    pub fn to_datetime(self) -> DateTime<Utc> {
        DateTime::from_timestamp(self.0, 0).unwrap_or_default()
    }
    pub fn to_rfc3339(self) -> String {
        self.to_datetime()
            .to_rfc3339_opts(SecondsFormat::Secs, true)
    }
    /// Fractional days from `self` back to `earlier` (positive when `earlier` is before).
    pub fn days_since(self, earlier: Timestamp) -> f64 {
        (self.0 - earlier.0) as f64 / SECONDS_PER_DAY
    }
    pub fn plus_days(self, days: f64) -> Timestamp {
        Timestamp(self.0 + (days * SECONDS_PER_DAY).round() as i64)
    }
}

impl From<DateTime<Utc>> for Timestamp {
    fn from(dt: DateTime<Utc>) -> Self {
        Timestamp(dt.timestamp())
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_rfc3339())
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_rfc3339())
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Timestamp::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_rfc3339_offsets_and_dates() {
        let t = Timestamp::parse("2026-01-01T00:00:00Z").unwrap();
        assert_eq!(t.epoch_seconds(), 1_767_225_600);
        let u = Timestamp::parse("2026-01-01T01:00:00+01:00").unwrap();
        assert_eq!(t, u);
        assert_eq!(Timestamp::parse("2026-01-01").unwrap(), t);
        assert_eq!(t.to_rfc3339(), "2026-01-01T00:00:00Z");
        assert!(Timestamp::parse("01/02/2026").is_err());
        assert!(Timestamp::parse("2026-13-01T00:00:00Z").is_err());
    }

    #[test]
    fn day_arithmetic() {
        let t = Timestamp::parse("2026-01-01T00:00:00Z").unwrap();
        let s = Timestamp::parse("2025-12-31T12:00:00Z").unwrap();
        assert_eq!(t.days_since(s), 0.5);
        assert_eq!(s.plus_days(0.5), t);
    }
}
