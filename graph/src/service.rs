//! Service (CSM): service cases and the "leads from service" list.
//!
//! A customer who opens more service cases than before is using the product
//! harder, hitting its limits or growing: a conversation worth having, and a
//! source of new opportunities (孵化商机). [`leads_from_service`] compares the
//! number of cases of each account and each stakeholder in the latest window
//! (90 days by default) with the window before it, and lists those whose
//! contact is rising, with both counts as the evidence. Fewer recent cases
//! than a minimum is never a lead: two cases after none is noise, not a trend.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::model::{InteractionId, ModelError, OrgId, PersonId};
use crate::time::Timestamp;

/// How urgent a service case was, as service desks grade them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Critical,
    High,
    Medium,
    Low,
}

impl Severity {
    pub const ALL: [Severity; 4] = [
        Severity::Critical,
        Severity::High,
        Severity::Medium,
        Severity::Low,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Critical => "critical",
            Severity::High => "high",
            Severity::Medium => "medium",
            Severity::Low => "low",
        }
    }

    /// Accepts the names (any case) and the usual grades: `1`–`4`, `P1`–`P4`,
    /// `S1`–`S4`, `Sev1`–`Sev4` (1 is critical).
    pub fn parse(s: &str) -> Result<Self, ModelError> {
        let t = s.trim().to_ascii_lowercase();
        let grade = t
            .strip_prefix("sev")
            .or_else(|| t.strip_prefix('p'))
            .or_else(|| t.strip_prefix('s'))
            .unwrap_or(&t)
            .trim_start_matches([' ', '-']);
        match grade {
            "1" => return Ok(Severity::Critical),
            "2" => return Ok(Severity::High),
            "3" => return Ok(Severity::Medium),
            "4" => return Ok(Severity::Low),
            _ => {}
        }
        Severity::ALL
            .into_iter()
            .find(|v| v.as_str() == t)
            .ok_or_else(|| {
                ModelError::invalid(
                    "severity",
                    "one of critical, high, medium, low (or 1-4, P1-P4, S1-S4, Sev1-Sev4)",
                    s,
                )
            })
    }
}

impl std::fmt::Display for Severity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A service case as stored: the interaction it became, whose it is, and
/// its own fields. Metadata and the case title only, never its description.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServiceCase {
    /// The service desk's id of the case.
    pub case_id: String,
    /// The `service_case` interaction it became.
    pub interaction: InteractionId,
    pub account: OrgId,
    /// The stakeholder who raised it.
    pub contact: PersonId,
    /// The one of our people who handled it.
    pub owner: Option<PersonId>,
    pub opened: Timestamp,
    pub closed: Option<Timestamp>,
    pub severity: Option<Severity>,
    pub subject: Option<String>,
}

impl ServiceCase {
    /// What the lead scorer needs of it.
    pub fn contact(&self) -> ServiceContact {
        ServiceContact {
            account: self.account.clone(),
            person: self.contact.clone(),
            opened: self.opened,
            severity: self.severity,
        }
    }
}

/// One service case as the lead scorer needs it: whose, and when it opened.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServiceContact {
    pub account: OrgId,
    /// The customer stakeholder who raised the case.
    pub person: PersonId,
    pub opened: Timestamp,
    pub severity: Option<Severity>,
}

/// Settings of [`leads_from_service`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LeadsConfig {
    /// Length of the recent window and of the window before it it is compared with.
    pub window_days: u32,
    /// Fewest cases in the recent window for an account or stakeholder to be a lead.
    pub min_recent: u32,
}

impl Default for LeadsConfig {
    fn default() -> Self {
        LeadsConfig {
            window_days: 90,
            min_recent: 3,
        }
    }
}

/// An account or a stakeholder whose service contact is rising, with the
/// counts that say so.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Lead {
    pub account: OrgId,
    /// `None` for an account-level lead.
    pub person: Option<PersonId>,
    /// Cases opened in the recent window `(as_of - window, as_of]`.
    pub recent: u32,
    /// Cases opened in the window before it.
    pub prior: u32,
    /// Recent cases rated critical or high.
    pub recent_urgent: u32,
    /// The newest case.
    pub last_opened: Timestamp,
    /// `recent / max(prior, 1)`: how many times the earlier contact.
    pub growth: f64,
    /// Why this is a lead, in words, with the counts.
    pub reason: String,
}

/// The leads of one run, accounts and stakeholders apart, strongest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Leads {
    pub as_of: Timestamp,
    pub recent_from: Timestamp,
    pub prior_from: Timestamp,
    pub config: LeadsConfig,
    /// How many cases fell in either window.
    pub cases_considered: u32,
    pub accounts: Vec<Lead>,
    pub stakeholders: Vec<Lead>,
}

#[derive(Default)]
struct Tally {
    recent: u32,
    prior: u32,
    recent_urgent: u32,
    last_opened: Option<Timestamp>,
}

impl Tally {
    fn add(&mut self, c: &ServiceContact, recent: bool) {
        if recent {
            self.recent += 1;
            if matches!(c.severity, Some(Severity::Critical | Severity::High)) {
                self.recent_urgent += 1;
            }
        } else {
            self.prior += 1;
        }
        self.last_opened = self.last_opened.max(Some(c.opened));
    }
}

/// Accounts and stakeholders whose service contact is rising: at least
/// `min_recent` cases in the last `window_days` and more than in the
/// `window_days` before. Cases after `as_of` are ignored.
pub fn leads_from_service(cases: &[ServiceContact], as_of: Timestamp, cfg: LeadsConfig) -> Leads {
    let window = f64::from(cfg.window_days);
    let recent_from = as_of.plus_days(-window);
    let prior_from = recent_from.plus_days(-window);
    let mut by_account: BTreeMap<&OrgId, Tally> = BTreeMap::new();
    let mut by_person: BTreeMap<(&OrgId, &PersonId), Tally> = BTreeMap::new();
    let mut considered = 0;
    for c in cases {
        if c.opened > as_of || c.opened <= prior_from {
            continue;
        }
        considered += 1;
        let recent = c.opened > recent_from;
        by_account.entry(&c.account).or_default().add(c, recent);
        by_person
            .entry((&c.account, &c.person))
            .or_default()
            .add(c, recent);
    }
    let lead = |account: &OrgId, person: Option<&PersonId>, t: &Tally| -> Option<Lead> {
        if t.recent < cfg.min_recent || t.recent <= t.prior {
            return None;
        }
        let growth = f64::from(t.recent) / f64::from(t.prior.max(1));
        let days = cfg.window_days;
        let reason = if t.prior == 0 {
            format!(
                "{} cases in the last {days} days, none in the {days} days before",
                t.recent
            )
        } else {
            format!(
                "{} cases in the last {days} days against {} in the {days} days before ({growth:.1}×)",
                t.recent, t.prior
            )
        };
        Some(Lead {
            account: account.clone(),
            person: person.cloned(),
            recent: t.recent,
            prior: t.prior,
            recent_urgent: t.recent_urgent,
            last_opened: t.last_opened.unwrap_or(as_of),
            growth,
            reason,
        })
    };
    let mut accounts: Vec<Lead> = by_account
        .iter()
        .filter_map(|(a, t)| lead(a, None, t))
        .collect();
    let mut stakeholders: Vec<Lead> = by_person
        .iter()
        .filter_map(|((a, p), t)| lead(a, Some(p), t))
        .collect();
    let strongest_first = |x: &Lead, y: &Lead| {
        (y.recent - y.prior.min(y.recent))
            .cmp(&(x.recent - x.prior.min(x.recent)))
            .then(y.recent.cmp(&x.recent))
            .then(x.account.cmp(&y.account))
            .then(x.person.cmp(&y.person))
    };
    accounts.sort_by(strongest_first);
    stakeholders.sort_by(strongest_first);
    Leads {
        as_of,
        recent_from,
        prior_from,
        config: cfg,
        cases_considered: considered,
        accounts,
        stakeholders,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(d: i64) -> Timestamp {
        Timestamp::from_epoch_seconds(d * 86_400)
    }

    fn case(account: &str, person: &str, d: i64, severity: Severity) -> ServiceContact {
        ServiceContact {
            account: OrgId::parse(account).unwrap(),
            person: PersonId::parse(person).unwrap(),
            opened: day(d),
            severity: Some(severity),
        }
    }

    #[test]
    fn severity_names_and_grades() {
        assert_eq!(Severity::parse("High").unwrap(), Severity::High);
        assert_eq!(Severity::parse("P1").unwrap(), Severity::Critical);
        assert_eq!(Severity::parse("sev-3").unwrap(), Severity::Medium);
        assert_eq!(Severity::parse(" 4 ").unwrap(), Severity::Low);
        let err = Severity::parse("urgent").unwrap_err().to_string();
        assert!(err.contains("critical, high, medium, low"), "{err}");
        assert!(Severity::parse("5").is_err());
    }

    /// A fixture whose answer is known: account `a` rises (person `a1`
    /// from 1 to 4 cases, `a2` steady at 1), `b` is steady (2 and 2), `c`
    /// has 2 new cases only (under the minimum of 3), `d` falls.
    #[test]
    fn rising_accounts_and_stakeholders_are_leads_with_their_counts() {
        let as_of = day(1000);
        let m = Severity::Medium;
        let cases = vec![
            // a: prior window (820, 910]: a1 once, a2 once; recent: a1 ×4, a2 once.
            case("a", "a1", 850, m),
            case("a", "a2", 860, m),
            case("a", "a1", 920, Severity::Critical),
            case("a", "a1", 950, m),
            case("a", "a1", 980, Severity::High),
            case("a", "a1", 1000, m),
            case("a", "a2", 990, m),
            // b: steady.
            case("b", "b1", 850, m),
            case("b", "b1", 870, m),
            case("b", "b1", 930, m),
            case("b", "b1", 960, m),
            // c: too few.
            case("c", "c1", 940, m),
            case("c", "c1", 970, m),
            // d: falling.
            case("d", "d1", 830, m),
            case("d", "d1", 840, m),
            case("d", "d1", 850, m),
            case("d", "d1", 860, m),
            case("d", "d1", 950, m),
            case("d", "d1", 960, m),
            case("d", "d1", 970, m),
            // Outside both windows, and after as_of: ignored.
            case("b", "b1", 700, m),
            case("c", "c1", 1001, m),
        ];
        let leads = leads_from_service(&cases, as_of, LeadsConfig::default());
        assert_eq!(leads.cases_considered, 20);
        let accounts: Vec<(&str, u32, u32)> = leads
            .accounts
            .iter()
            .map(|l| (l.account.as_str(), l.recent, l.prior))
            .collect();
        assert_eq!(accounts, vec![("a", 5, 2)]);
        assert_eq!(leads.accounts[0].recent_urgent, 2);
        assert_eq!(leads.accounts[0].last_opened, day(1000));
        assert!((leads.accounts[0].growth - 2.5).abs() < 1e-9);
        assert!(
            leads.accounts[0].reason.contains("5 cases")
                && leads.accounts[0].reason.contains("2 in"),
            "{}",
            leads.accounts[0].reason
        );
        let people: Vec<(&str, u32, u32)> = leads
            .stakeholders
            .iter()
            .map(|l| (l.person.as_ref().unwrap().as_str(), l.recent, l.prior))
            .collect();
        assert_eq!(people, vec![("a1", 4, 1)]);
    }

    #[test]
    fn the_minimum_is_configurable_and_new_contact_reads_as_none_before() {
        let cases = vec![
            case("c", "c1", 940, Severity::Low),
            case("c", "c1", 970, Severity::Low),
        ];
        let cfg = LeadsConfig {
            window_days: 90,
            min_recent: 2,
        };
        let leads = leads_from_service(&cases, day(1000), cfg);
        assert_eq!(leads.accounts.len(), 1);
        assert_eq!(leads.accounts[0].prior, 0);
        assert!(
            leads.accounts[0]
                .reason
                .contains("none in the 90 days before")
        );
        assert_eq!(leads.stakeholders.len(), 1);
    }
}
