//! Leads from service (孵化商机): the pure scorer's accounts and stakeholders
//! ([`renmai_graph::service::leads_from_service`]) with their names and the
//! recent cases that make each one a lead, for the CLI, the page and the API.

use std::collections::HashMap;

use renmai_graph::service::{Lead, LeadsConfig, ServiceCase, leads_from_service};
use renmai_graph::{OrgId, PersonId, Timestamp};
use serde::Serialize;
use utoipa::ToSchema;

use crate::store::{Store, StoreError};

/// One recent case, shown as the evidence of a lead.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct CaseEvidence {
    pub case_id: String,
    #[schema(value_type = String, format = DateTime)]
    pub opened: Timestamp,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub closed: Option<Timestamp>,
    /// critical, high, medium or low; absent when the desk did not grade it.
    #[schema(value_type = Option<String>)]
    pub severity: Option<renmai_graph::service::Severity>,
    pub subject: Option<String>,
}

/// A lead with names and evidence.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct LeadRow {
    #[schema(value_type = String)]
    pub account: OrgId,
    pub account_name: String,
    /// Absent for an account-level lead.
    #[schema(value_type = Option<String>)]
    pub person: Option<PersonId>,
    pub person_name: Option<String>,
    pub title: Option<String>,
    /// Cases opened in the recent window.
    pub recent: u32,
    /// Cases opened in the window before it.
    pub prior: u32,
    /// Recent cases graded critical or high.
    pub recent_urgent: u32,
    /// `recent / max(prior, 1)`.
    pub growth: f64,
    #[schema(value_type = String, format = DateTime)]
    pub last_opened: Timestamp,
    pub reason: String,
    /// The recent cases, newest first.
    pub cases: Vec<CaseEvidence>,
}

/// The leads list as of an instant.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct LeadsReport {
    #[schema(value_type = String, format = DateTime)]
    pub as_of: Timestamp,
    /// Start of the recent window (exclusive).
    #[schema(value_type = String, format = DateTime)]
    pub recent_from: Timestamp,
    /// Start of the window it is compared with (exclusive).
    #[schema(value_type = String, format = DateTime)]
    pub prior_from: Timestamp,
    pub window_days: u32,
    pub min_recent: u32,
    pub cases_considered: u32,
    pub accounts: Vec<LeadRow>,
    pub stakeholders: Vec<LeadRow>,
}

/// Why the settings of a leads run are refused.
pub fn check_config(cfg: &LeadsConfig) -> Result<(), String> {
    if !(1..=3650).contains(&cfg.window_days) {
        return Err(format!(
            "window_days: expected 1 to 3650 days, got {}",
            cfg.window_days
        ));
    }
    if !(1..=10_000).contains(&cfg.min_recent) {
        return Err(format!(
            "min_cases: expected 1 to 10000, got {}",
            cfg.min_recent
        ));
    }
    Ok(())
}

/// Scores the leads from the stored service cases.
pub async fn leads(
    store: &dyn Store,
    as_of: Timestamp,
    cfg: LeadsConfig,
) -> Result<LeadsReport, StoreError> {
    let since = as_of.plus_days(-2.0 * f64::from(cfg.window_days));
    let cases = store.service_cases(Some(since)).await?;
    let contacts: Vec<_> = cases.iter().map(ServiceCase::contact).collect();
    let scored = leads_from_service(&contacts, as_of, cfg);
    let account_names: HashMap<OrgId, String> =
        if scored.accounts.is_empty() && scored.stakeholders.is_empty() {
            HashMap::new()
        } else {
            store
                .accounts()
                .await?
                .into_iter()
                .map(|a| (a.id, a.name))
                .collect()
        };
    let recent = |l: &Lead| -> Vec<CaseEvidence> {
        let mut v: Vec<CaseEvidence> = cases
            .iter()
            .filter(|c| {
                c.account == l.account
                    && l.person.as_ref().is_none_or(|p| *p == c.contact)
                    && c.opened > scored.recent_from
                    && c.opened <= as_of
            })
            .map(|c| CaseEvidence {
                case_id: c.case_id.clone(),
                opened: c.opened,
                closed: c.closed,
                severity: c.severity,
                subject: c.subject.clone(),
            })
            .collect();
        v.reverse();
        v
    };
    let rows = |list: &[Lead]| -> Vec<LeadRow> {
        list.iter()
            .map(|l| LeadRow {
                account: l.account.clone(),
                account_name: account_names
                    .get(&l.account)
                    .cloned()
                    .unwrap_or_else(|| l.account.to_string()),
                person: l.person.clone(),
                person_name: None,
                title: None,
                recent: l.recent,
                prior: l.prior,
                recent_urgent: l.recent_urgent,
                growth: l.growth,
                last_opened: l.last_opened,
                reason: l.reason.clone(),
                cases: recent(l),
            })
            .collect()
    };
    let accounts = rows(&scored.accounts);
    let mut stakeholders = rows(&scored.stakeholders);
    for s in &mut stakeholders {
        if let Some(p) = &s.person
            && let Some(rec) = store.person(p).await?
        {
            s.person_name = Some(rec.person.name);
            s.title = rec.person.title;
        }
    }
    Ok(LeadsReport {
        as_of,
        recent_from: scored.recent_from,
        prior_from: scored.prior_from,
        window_days: cfg.window_days,
        min_recent: cfg.min_recent,
        cases_considered: scored.cases_considered,
        accounts,
        stakeholders,
    })
}
