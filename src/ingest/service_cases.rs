//! Service cases (CSM) from a service desk's CSV export: one row per case,
//! `renmai import cases.csv --format service-cases`.
//!
//! Columns (names compared ignoring case; the first name found is used):
//!
//! | field | column names | |
//! | --- | --- | --- |
//! | case id | `case_id`, `Case Number`, `CaseNumber`, `Id` | required; the interaction's id is derived from it, so re-importing adds nothing |
//! | account | `account`, `Account Name`, `company` | required |
//! | contact | `contact`, `Contact Email`, `Contact Name`, `Contact` | required: the stakeholder who raised it, an e-mail address or a name |
//! | owner | `owner`, `Owner Email`, `agent`, `assignee` | required: the one of our people who handled it, an e-mail address or a name |
//! | opened | `opened`, `Created Date`, `CreatedDate`, `opened_at` | required |
//! | closed | `closed`, `Closed Date`, `ClosedDate`, `closed_at` | optional, not before opened |
//! | severity | `severity`, `Priority` | optional: critical/high/medium/low, 1–4, P1–P4, S1–S4 |
//! | subject | `subject`, `title` | optional: the case title (business data); descriptions and comments are never read |
//!
//! Each case becomes an interaction of kind `service_case` between the
//! contact (its initiator) and the owner at the time it opened, so it feeds
//! closeness like any other contact; severity, dates and subject are kept
//! beside it (`service_cases` in the store) for the leads list.

use std::path::Path;
use std::sync::Arc;

use renmai_graph::service::Severity;
use renmai_graph::{Email, Timestamp};

use super::table::{Table, parse_time, read_file};
use super::{
    IngestError, OUR_COMPANY, Observations, ObservedInteraction, OrgRef, PersonHint, SourcePos,
};

/// A case's own fields, kept beside its interaction.
#[derive(Debug, Clone, PartialEq)]
pub struct ObservedServiceCase {
    /// The key of its interaction (`case:{case id}`).
    pub key: String,
    pub case_id: String,
    pub opened: Timestamp,
    pub closed: Option<Timestamp>,
    pub severity: Option<Severity>,
    pub subject: Option<String>,
    pub source: SourcePos,
}

/// The interaction key of a case: its id is derived from this.
pub fn case_key(case_id: &str) -> String {
    format!("case:{case_id}")
}

/// Longest subject kept; longer ones are cut at a character boundary.
const MAX_SUBJECT_CHARS: usize = 300;

pub fn read_service_cases(
    path: &Path,
    now: Timestamp,
    out: &mut Observations,
) -> Result<(), IngestError> {
    let (file, bytes) = read_file(path)?;
    read_service_cases_bytes(file, &bytes, now, out)
}

/// [`read_service_cases`] of a file's bytes; `file` names it in positions and errors.
pub fn read_service_cases_bytes(
    file: Arc<str>,
    bytes: &[u8],
    now: Timestamp,
    out: &mut Observations,
) -> Result<(), IngestError> {
    let t = Table::from_bytes(file, bytes)?;
    let id = t.require(&["case_id", "Case Number", "CaseNumber", "Id"])?;
    let account = t.require(&["account", "Account Name", "company"])?;
    let contact = t.require(&["contact", "Contact Email", "Contact Name"])?;
    let owner = t.require(&["owner", "Owner Email", "agent", "assignee"])?;
    let opened = t.require(&["opened", "Created Date", "CreatedDate", "opened_at"])?;
    let closed = t.col(&["closed", "Closed Date", "ClosedDate", "closed_at"]);
    let severity = t.col(&["severity", "Priority"]);
    let subject = t.col(&["subject", "title"]);
    let mut ours: Option<OrgRef> = None;
    t.begin(out);
    for r in &t.rows {
        let pos = t.pos(r);
        if let Some(reason) = r.overflow_reason(t.headers.len()) {
            out.skip(pos, reason);
            continue;
        }
        let row = (|| -> Result<(), String> {
            let case_id = r.get(&id).ok_or("case id: empty; expected the case's id")?;
            let account_name = r
                .get(&account)
                .ok_or("account: empty; expected the customer's name")?;
            let contact_cell = r.get(&contact).ok_or(
                "contact: empty; expected the e-mail address or name of who raised the case",
            )?;
            let owner_cell = r.get(&owner).ok_or(
                "owner: empty; expected the e-mail address or name of the one of our people who handled the case",
            )?;
            let opened_cell = r.get(&opened).unwrap_or("");
            let opened_at = parse_time(opened_cell, None)
                .map_err(|e| format!("opened: {e}"))?
                .ok_or_else(|| {
                    format!("opened: {opened_cell:?} is no date; expected when the case was opened, e.g. 2025-03-04")
                })?;
            if opened_at > now {
                return Err(format!(
                    "opened: {opened_cell} is in the future; expected when the case was opened"
                ));
            }
            let closed_at = match r.get(&closed) {
                None => None,
                Some(c) => parse_time(c, None).map_err(|e| format!("closed: {e}"))?,
            };
            if let Some(c) = closed_at
                && c < opened_at
            {
                return Err(format!(
                    "closed: {} is before opened {}; expected a time at or after it",
                    c.to_rfc3339(),
                    opened_at.to_rfc3339()
                ));
            }
            let severity = r
                .get(&severity)
                .map(Severity::parse)
                .transpose()
                .map_err(|e| e.to_string())?;
            let subject = r.get(&subject).map(|s| {
                let s: String = s.chars().take(MAX_SUBJECT_CHARS).collect();
                s
            });
            let org = out
                .org(account_name, None, &pos)
                .ok_or("account: no name")?;
            let who = out
                .person(hint(contact_cell, Some(org)), &pos)
                .ok_or("contact: names nobody")?;
            let our_org = match ours {
                Some(o) => o,
                None => {
                    let o = out
                        .org(OUR_COMPANY, None, &pos)
                        .ok_or("no name for our company")?;
                    out.org_mut(o).is_ours = true;
                    ours = Some(o);
                    o
                }
            };
            let by = out
                .person(hint(owner_cell, Some(our_org)), &pos)
                .ok_or("owner: names nobody")?;
            let key = case_key(case_id);
            out.service_cases.push(ObservedServiceCase {
                key: key.clone(),
                case_id: case_id.to_owned(),
                opened: opened_at,
                closed: closed_at,
                severity,
                subject,
                source: pos.clone(),
            });
            out.interaction(ObservedInteraction {
                key,
                kind: renmai_graph::InteractionKind::ServiceCase,
                at: opened_at,
                initiator: who,
                participants: vec![who, by],
                in_reply_to: None,
                source: pos.clone(),
            });
            Ok(())
        })();
        if let Err(reason) = row {
            out.skip(pos, reason);
        }
    }
    out.end_file();
    Ok(())
}

/// A cell naming a person: an e-mail address when it is one, else a name.
fn hint(cell: &str, org: Option<OrgRef>) -> PersonHint {
    match Email::parse(cell) {
        Ok(email) => PersonHint {
            email: Some(email),
            org,
            ..Default::default()
        },
        Err(_) => PersonHint {
            name: Some(cell.to_owned()),
            org,
            ..Default::default()
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Observations {
        let mut out = Observations::new();
        read_service_cases_bytes(
            Arc::from("cases.csv"),
            text.as_bytes(),
            Timestamp::parse("2026-01-01").unwrap(),
            &mut out,
        )
        .unwrap();
        out
    }

    #[test]
    fn cases_become_service_case_interactions_with_their_fields() {
        let o = read(
            "case_id,account,contact,owner,opened,closed,severity,subject\n\
             C-1,Acme GmbH,ana@acme.de,sam@northwind.example,2025-03-04,2025-03-05,P2,Login fails\n\
             C-2,Acme GmbH,Bob Baker,Sam Seller,2025-04-01 10:00,,,\n",
        );
        assert_eq!(o.interactions.len(), 2, "{:?}", o.skipped);
        let i = &o.interactions[0];
        assert_eq!(i.kind, renmai_graph::InteractionKind::ServiceCase);
        assert_eq!(i.key, "case:C-1");
        assert_eq!(i.initiator, i.participants[0]);
        let c = &o.service_cases[0];
        assert_eq!(c.severity, Some(Severity::High));
        assert_eq!(c.subject.as_deref(), Some("Login fails"));
        assert_eq!(c.closed, Some(Timestamp::parse("2025-03-05").unwrap()));
        assert_eq!(o.service_cases[1].severity, None);
        let ours = o.orgs.iter().filter(|x| x.is_ours).count();
        assert_eq!(ours, 1);
    }

    #[test]
    fn bad_rows_are_skipped_with_line_field_and_expectation() {
        let o = read(
            "case_id,account,contact,owner,opened,closed,severity\n\
             C-1,Acme,ana@acme.de,sam@northwind.example,yesterday,,\n\
             C-2,Acme,ana@acme.de,,2025-03-04,,\n\
             C-3,Acme,ana@acme.de,sam@northwind.example,2025-03-04,2025-03-01,\n\
             C-4,Acme,ana@acme.de,sam@northwind.example,2025-03-04,,urgent\n\
             C-5,Acme,ana@acme.de,sam@northwind.example,2027-03-04,,\n",
        );
        assert!(o.interactions.is_empty());
        let got: Vec<String> = o
            .skipped
            .iter()
            .map(|s| format!("{}: {}", s.source, s.reason))
            .collect();
        assert!(got[0].starts_with("cases.csv:2: opened:"), "{got:?}");
        assert!(got[1].starts_with("cases.csv:3: owner: empty"), "{got:?}");
        assert!(
            got[2].contains("closed:") && got[2].contains("before opened"),
            "{got:?}"
        );
        assert!(
            got[3].contains("severity") && got[3].contains("critical"),
            "{got:?}"
        );
        assert!(got[4].contains("in the future"), "{got:?}");
        assert_eq!(o.files[0].skipped, 5);
    }

    #[test]
    fn a_file_without_a_required_column_names_it() {
        let mut out = Observations::new();
        let err = read_service_cases_bytes(
            Arc::from("cases.csv"),
            b"case_id,account,contact,opened\nC-1,Acme,a@acme.de,2025-01-01\n",
            Timestamp::parse("2026-01-01").unwrap(),
            &mut out,
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("cases.csv") && err.contains("\"owner\""),
            "{err}"
        );
    }
}
