//! Sales support (MCI): reading presales and expert assignments to deals
//! (`renmai import support.csv --format deal-support`) and the support load
//! per person and month for the CLI, the page and the API.
//!
//! The file: UTF-8 CSV with the header `opportunity_id,person_id,role,from`
//! and optionally `to` (dates `YYYY-MM-DD`; `to` empty while the assignment
//! lasts). Roles: presales, solution_expert, industry_expert,
//! technical_expert. Every row is checked (fields here, the deal and our
//! person against the store) before anything is written.

use std::collections::HashMap;
use std::path::Path;

use chrono::NaiveDate;
use renmai_graph::support::{DealSupport, MonthLoad, SupportRole, support_load};
use renmai_graph::{OpportunityId, PersonId};
use serde::Serialize;
use utoipa::ToSchema;

use crate::import::ImportError;
use crate::store::{Store, StoreError};
use crate::validate::{Location, RecordError};

const COLUMNS: [&str; 5] = ["opportunity_id", "person_id", "role", "from", "to"];

/// Reads a deal-support CSV: every row with its location, or every problem.
pub fn read_csv(path: &Path) -> Result<(Vec<DealSupport>, Vec<Location>), ImportError> {
    let file = path.display().to_string();
    let unreadable = |reason: String| ImportError::Unreadable {
        path: file.clone(),
        reason,
    };
    let bytes = std::fs::read(path).map_err(|e| unreadable(e.to_string()))?;
    let text = std::str::from_utf8(&bytes)
        .map_err(|e| unreadable(format!("not UTF-8: {e}")))?
        .trim_start_matches('\u{feff}');
    let mut rdr = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(text.as_bytes());
    let headers = rdr
        .headers()
        .map_err(|e| unreadable(e.to_string()))?
        .clone();
    let col = |name: &str| {
        headers
            .iter()
            .position(|h| h.trim().eq_ignore_ascii_case(name))
    };
    for h in &headers {
        if !COLUMNS.iter().any(|c| c.eq_ignore_ascii_case(h.trim())) {
            return Err(unreadable(format!(
                "unknown column {h:?}; the columns are {}",
                COLUMNS.join(", ")
            )));
        }
    }
    let mut idx = [0usize; 4];
    for (k, name) in COLUMNS[..4].iter().enumerate() {
        idx[k] = col(name).ok_or_else(|| {
            unreadable(format!(
                "no column {name:?}; expected the header {} (to optional)",
                COLUMNS.join(",")
            ))
        })?;
    }
    let to_col = col("to");
    let mut rows = Vec::new();
    let mut locations = Vec::new();
    let mut errors = Vec::new();
    for rec in rdr.records() {
        let rec = rec.map_err(|e| unreadable(e.to_string()))?;
        let line = rec.position().map_or(0, |p| p.line());
        let at = Location {
            file: file.clone(),
            line,
            path: None,
        };
        let cell = |i: usize| rec.get(i).unwrap_or("").trim();
        let mut err = |field: &str, value: &str, expected: &str| {
            errors.push(RecordError {
                location: at.clone(),
                field: field.into(),
                value: value.into(),
                expected: expected.into(),
            })
        };
        let opp = OpportunityId::parse(cell(idx[0]));
        let person = PersonId::parse(cell(idx[1]));
        let role = SupportRole::parse(cell(idx[2]));
        let date = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d");
        let from = date(cell(idx[3]));
        let to = match to_col.map(cell).filter(|s| !s.is_empty()) {
            None => Ok(None),
            Some(s) => date(s).map(Some),
        };
        if opp.is_err() {
            err("opportunity_id", cell(idx[0]), "an opportunity id");
        }
        if person.is_err() {
            err("person_id", cell(idx[1]), "the id of one of our people");
        }
        if role.is_err() {
            err(
                "role",
                cell(idx[2]),
                "one of presales, solution_expert, industry_expert, technical_expert",
            );
        }
        if from.is_err() {
            err("from", cell(idx[3]), "a date like 2026-03-01");
        }
        if to.is_err() {
            err(
                "to",
                to_col.map(cell).unwrap_or(""),
                "a date like 2026-06-30, or empty while the assignment lasts",
            );
        }
        if let (Ok(opportunity), Ok(person), Ok(role), Ok(from), Ok(to)) =
            (opp, person, role, from, to)
        {
            if let Some(t) = to
                && t < from
            {
                err(
                    "to",
                    &t.to_string(),
                    &format!("a date on or after from ({from})"),
                );
                continue;
            }
            rows.push(DealSupport {
                opportunity,
                person,
                role,
                from,
                to,
            });
            locations.push(at);
        }
    }
    if !errors.is_empty() {
        return Err(ImportError::Invalid(errors));
    }
    Ok((rows, locations))
}

/// One supporter's load with names.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct SupporterLoad {
    #[schema(value_type = String)]
    pub person: PersonId,
    pub name: String,
    /// The roles they hold on the deals in the range.
    pub roles: Vec<String>,
    pub peak: u32,
    pub distinct_deals: u32,
    #[schema(value_type = Vec<Object>)]
    pub months: Vec<MonthLoad>,
}

/// Support load per person and month.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct SupportLoadReport {
    /// First month, `YYYY-MM`.
    pub from: String,
    /// Last month, `YYYY-MM`.
    pub to: String,
    pub people: Vec<SupporterLoad>,
}

/// Parses `YYYY-MM` to the first day of that month.
pub fn parse_month(s: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(&format!("{}-01", s.trim()), "%Y-%m-%d")
        .map_err(|_| format!("expected a month like 2026-03, got {s:?}"))
}

/// The load from month `from` through month `to` (each the first of its month).
pub async fn load_report(
    store: &dyn Store,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<SupportLoadReport, StoreError> {
    let supports = store.deal_support(None).await?;
    let last_day = to
        .checked_add_months(chrono::Months::new(1))
        .and_then(|d| d.pred_opt())
        .unwrap_or(to);
    let loads = support_load(&supports, from, last_day);
    let mut roles: HashMap<&PersonId, Vec<String>> = HashMap::new();
    for s in &supports {
        let r = roles.entry(&s.person).or_default();
        if !r.iter().any(|x| x == s.role.as_str()) {
            r.push(s.role.as_str().to_owned());
        }
    }
    let mut people = Vec::new();
    for l in loads {
        let name = store
            .person(&l.person)
            .await?
            .map_or_else(|| l.person.to_string(), |p| p.person.name);
        people.push(SupporterLoad {
            name,
            roles: roles.get(&l.person).cloned().unwrap_or_default(),
            peak: l.peak,
            distinct_deals: l.distinct_deals,
            months: l.months,
            person: l.person,
        });
    }
    Ok(SupportLoadReport {
        from: from.format("%Y-%m").to_string(),
        to: to.format("%Y-%m").to_string(),
        people,
    })
}
