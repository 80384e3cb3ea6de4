//! Numbers and times formatted for people: "12 days ago", "63%".

use renmai_graph::Timestamp;

/// How long before `now` an instant was, in the largest sensible unit.
pub fn ago(t: Timestamp, now: Timestamp) -> String {
    let days = now.days_since(t);
    if days < 0.0 {
        return "in the future".into();
    }
    let d = days.floor() as i64;
    match d {
        0 => "today".into(),
        1 => "yesterday".into(),
        2..=59 => format!("{d} days ago"),
        60..=729 => format!("{} months ago", d / 30),
        _ => format!("{} years ago", d / 365),
    }
}

/// A 0..1 share as a whole percent.
pub fn percent(x: f64) -> String {
    format!("{:.0}%", (x * 100.0).clamp(0.0, 100.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ago_units() {
        let now = Timestamp::parse("2026-01-31T12:00:00Z").unwrap();
        let at = |s: &str| Timestamp::parse(s).unwrap();
        assert_eq!(ago(at("2026-01-31T08:00:00Z"), now), "today");
        assert_eq!(ago(at("2026-01-30T08:00:00Z"), now), "yesterday");
        assert_eq!(ago(at("2026-01-19T12:00:00Z"), now), "12 days ago");
        assert_eq!(ago(at("2025-10-31T12:00:00Z"), now), "3 months ago");
        assert_eq!(ago(at("2023-01-01T12:00:00Z"), now), "3 years ago");
        assert_eq!(percent(0.634), "63%");
    }
}
