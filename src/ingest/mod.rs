//! Ingest: the files sellers already have (calendars, mailboxes, CRM exports,
//! contact cards) turned into renmai records. Metadata only: who, when, what
//! kind; never a message body, a meeting description or an attachment.
//!
//! Every reader fills one [`Observations`]: people and organizations as the
//! source names them, and interactions between them, each with the file and
//! line it came from. Identity resolution ([`resolve`]) then matches what
//! was observed against the people already in the store and produces a
//! [`Bundle`] that goes through the store's ordinary import: one
//! transaction, validated before anything is written, idempotent because
//! every id is derived from the source's own keys.

pub mod contacts_csv;
pub mod crm;
pub mod decode;
pub mod ics;
pub mod mail;
pub mod resolve;
pub mod run;
pub mod service_cases;
pub mod table;
pub mod vcard;

use std::collections::HashMap;
use std::fmt;
use std::path::Path;
use std::sync::Arc;

use renmai_graph::{
    Acceptance, Attitude, BuyingRole, Email, ExternalId, InteractionKind, OpportunityStatus,
    PersonPhone, Phone, PhoneKind, PhoneRegion, Timestamp,
};

/// The formats `renmai import --format` names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, clap::ValueEnum)]
pub enum SourceFormat {
    /// Decide from the path and the first bytes of the file.
    Auto,
    /// renmai's own bundle: a folder of CSV files or a JSON document.
    Bundle,
    /// iCalendar files (`.ics`).
    Ics,
    /// An mbox file.
    Mbox,
    /// A Maildir folder (`cur/`, `new/`).
    Maildir,
    /// A folder of Salesforce data-export CSVs (Account.csv, Contact.csv, ...).
    Salesforce,
    /// HubSpot contacts and companies CSV exports.
    Hubspot,
    /// vCard files (`.vcf`), 2.1, 3.0 or 4.0.
    Vcard,
    /// LinkedIn's `Connections.csv`.
    Linkedin,
    /// Google Contacts CSV export.
    GoogleCsv,
    /// Outlook contacts CSV export.
    OutlookCsv,
    /// Any CSV with a mapping file (`--mapping FILE`).
    Csv,
    /// A service desk's cases as CSV (case id, account, contact, owner,
    /// opened, closed, severity, subject).
    ServiceCases,
    /// Presales and experts assigned to deals (opportunity_id, person_id,
    /// role, from, to), by the stored ids.
    DealSupport,
}

impl fmt::Display for SourceFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SourceFormat::Auto => "auto",
            SourceFormat::Bundle => "renmai bundle",
            SourceFormat::Ics => "iCalendar",
            SourceFormat::Mbox => "mbox",
            SourceFormat::Maildir => "Maildir",
            SourceFormat::Salesforce => "Salesforce export",
            SourceFormat::Hubspot => "HubSpot export",
            SourceFormat::Vcard => "vCard",
            SourceFormat::Linkedin => "LinkedIn connections",
            SourceFormat::GoogleCsv => "Google contacts CSV",
            SourceFormat::OutlookCsv => "Outlook contacts CSV",
            SourceFormat::Csv => "mapped CSV",
            SourceFormat::ServiceCases => "service cases CSV",
            SourceFormat::DealSupport => "deal support CSV",
        })
    }
}

/// Why a file (not one record in it) could not be ingested.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("cannot read {path}: {reason}")]
    Unreadable { path: String, reason: String },
    /// `--strict`: a malformed record rejects its whole file.
    #[error("{path}: rejected (--strict): {count} malformed record(s), first: {first}")]
    Strict {
        path: String,
        count: usize,
        first: String,
    },
}

impl IngestError {
    pub fn unreadable(path: impl fmt::Display, reason: impl fmt::Display) -> Self {
        IngestError::Unreadable {
            path: path.to_string(),
            reason: reason.to_string(),
        }
    }
}

/// Where a record came from: the file as the user named it and a 1-based
/// line (0 when the format has no lines worth naming, e.g. a Maildir file).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourcePos {
    pub file: Arc<str>,
    pub line: u32,
}

impl fmt::Display for SourcePos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            f.write_str(&self.file)
        } else {
            write!(f, "{}:{}", self.file, self.line)
        }
    }
}

/// Index of an observed person in [`Observations::people`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PersonRef(pub u32);

/// Index of an observed organization in [`Observations::orgs`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct OrgRef(pub u32);

/// How a source names one person: any of these may be missing, but a
/// person needs an e-mail, an external id or a name to be observed at all.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PersonHint {
    pub name: Option<String>,
    pub email: Option<Email>,
    pub external_id: Option<ExternalId>,
    pub org: Option<OrgRef>,
}

/// A person as the sources describe them, merged within this ingest by
/// e-mail and by external id (never by name: that is the resolver's call,
/// with a confidence).
#[derive(Debug, Clone, PartialEq)]
pub struct ObservedPerson {
    pub name: Option<String>,
    pub emails: Vec<Email>,
    pub external_ids: Vec<ExternalId>,
    /// Phone numbers, parsed with the configured default region.
    pub phones: Vec<PersonPhone>,
    pub org: Option<OrgRef>,
    pub title: Option<String>,
    pub department: Option<String>,
    pub reports_to: Option<PersonRef>,
    pub role: Option<BuyingRole>,
    pub attitude: Option<Attitude>,
    /// Set by contact sources (cards, CRM records): the person was described,
    /// not only seen on a message. Only described people update stored ones.
    pub described: bool,
    pub first_seen: SourcePos,
}

/// An organization as a source names it.
#[derive(Debug, Clone, PartialEq)]
pub struct ObservedOrg {
    pub name: String,
    pub external_ids: Vec<ExternalId>,
    pub parent: Option<OrgRef>,
    pub industry: Option<String>,
    /// E-mail domains the source ties to this organization (e.g. a
    /// company's website in a CRM export).
    pub domains: Vec<String>,
    /// Our own company, not an account: set by sources that list our own
    /// people (Salesforce's User.csv). The resolver maps such an org to the
    /// configured own organization whatever its name (a CRM export rarely
    /// names it, and then it is called [`OUR_COMPANY`]), and never creates
    /// a second own organization from it.
    pub is_ours: bool,
    pub first_seen: SourcePos,
}

/// The name of the observed org that stands for our own company when the
/// source does not name it (see [`ObservedOrg::is_ours`]).
pub const OUR_COMPANY: &str = "(our company)";

/// A meeting, e-mail, call... as read from a source.
#[derive(Debug, Clone, PartialEq)]
pub struct ObservedInteraction {
    /// The source's own stable key, e.g. `mail:<Message-ID>` or
    /// `ics:<UID>@<occurrence start>`: the interaction's id is derived from
    /// it, so importing the same source twice adds nothing.
    pub key: String,
    pub kind: InteractionKind,
    pub at: Timestamp,
    pub initiator: PersonRef,
    /// Everyone who took part, the initiator included.
    pub participants: Vec<PersonRef>,
    /// The source key of the interaction this one answers (an e-mail's
    /// `In-Reply-To` as `mail:<Message-ID>`); its id is derived like `key`'s.
    pub in_reply_to: Option<String>,
    pub source: SourcePos,
}

/// A deal from a CRM export.
#[derive(Debug, Clone, PartialEq)]
pub struct ObservedOpportunity {
    pub external_id: ExternalId,
    pub account: OrgRef,
    pub name: String,
    pub amount: Option<f64>,
    pub stage: Option<String>,
    pub status: OpportunityStatus,
    pub close_date: Option<chrono::NaiveDate>,
    pub owner: Option<PersonRef>,
    pub source: SourcePos,
}

/// A stakeholder's part in a deal (e.g. Salesforce OpportunityContactRole).
#[derive(Debug, Clone, PartialEq)]
pub struct ObservedDealContact {
    pub opportunity: ExternalId,
    pub person: PersonRef,
    pub role: Option<BuyingRole>,
    pub attitude: Option<Attitude>,
    pub solution_acceptance: Option<Acceptance>,
    pub price_acceptance: Option<Acceptance>,
    pub at: Option<Timestamp>,
    pub source: SourcePos,
}

/// A record that was read but not taken, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Skipped {
    pub source: SourcePos,
    pub reason: String,
}

/// Per file: how many records were read and how many skipped.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FileTally {
    pub file: String,
    pub read: usize,
    pub skipped: usize,
}

/// Asks the store, for a batch of source keys (e.g. `mail:<Message-ID>`),
/// whether each key's interaction is stored already.
pub struct StoredKeys(pub Box<StoredKeysFn>);

/// The lookup behind [`StoredKeys`]: one answer per key, in order.
pub type StoredKeysFn = dyn Fn(&[&str]) -> Vec<bool> + Send + Sync;

impl fmt::Debug for StoredKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("StoredKeys(..)")
    }
}

/// Everything one `renmai import` observed, before identity resolution.
#[derive(Debug, Default)]
pub struct Observations {
    pub people: Vec<ObservedPerson>,
    pub orgs: Vec<ObservedOrg>,
    pub interactions: Vec<ObservedInteraction>,
    pub opportunities: Vec<ObservedOpportunity>,
    pub deal_contacts: Vec<ObservedDealContact>,
    /// Service cases' own fields, beside their interactions.
    pub service_cases: Vec<service_cases::ObservedServiceCase>,
    pub skipped: Vec<Skipped>,
    pub files: Vec<FileTally>,
    /// Records not observed because their interaction is stored already
    /// (see [`Observations::with_stored`]).
    pub already_stored: usize,
    /// The country of national phone numbers (`[ingest] default_phone_region`).
    pub phone_region: Option<PhoneRegion>,
    stored: Option<StoredKeys>,
    by_email: HashMap<Email, PersonRef>,
    by_person_id: HashMap<ExternalId, PersonRef>,
    by_org_name: HashMap<String, OrgRef>,
    by_org_id: HashMap<ExternalId, OrgRef>,
}

impl Observations {
    pub fn new() -> Self {
        Self::default()
    }

    /// Observations that skip records whose interaction `stored` says is
    /// in the store already: a re-read mailbox then costs a parse and a
    /// lookup per message, not identity resolution of everything again.
    pub fn with_stored(stored: StoredKeys) -> Self {
        Observations {
            stored: Some(stored),
            ..Self::default()
        }
    }

    /// For each source key, whether its interaction is stored already
    /// (all `false` without a [`StoredKeys`]).
    pub fn stored_keys(&self, keys: &[&str]) -> Vec<bool> {
        match &self.stored {
            Some(f) if !keys.is_empty() => (f.0)(keys),
            _ => vec![false; keys.len()],
        }
    }

    /// The person a source names, merged with earlier sightings of the same
    /// e-mail or external id; missing fields are filled from the hint.
    /// Returns `None` when the hint names nobody (no e-mail, id or name).
    pub fn person(&mut self, hint: PersonHint, at: &SourcePos) -> Option<PersonRef> {
        let known = hint
            .email
            .as_ref()
            .and_then(|e| self.by_email.get(e))
            .or_else(|| {
                hint.external_id
                    .as_ref()
                    .and_then(|x| self.by_person_id.get(x))
            })
            .copied();
        let r = match known {
            Some(r) => r,
            None => {
                if hint.email.is_none()
                    && hint.external_id.is_none()
                    && hint.name.as_deref().is_none_or(|n| n.trim().is_empty())
                {
                    return None;
                }
                let r = PersonRef(self.people.len() as u32);
                self.people.push(ObservedPerson {
                    name: None,
                    emails: Vec::new(),
                    external_ids: Vec::new(),
                    phones: Vec::new(),
                    org: None,
                    title: None,
                    department: None,
                    reports_to: None,
                    role: None,
                    attitude: None,
                    described: false,
                    first_seen: at.clone(),
                });
                r
            }
        };
        let p = &mut self.people[r.0 as usize];
        if let Some(name) = hint.name.map(|n| n.trim().to_owned())
            && !name.is_empty()
            && p.name.is_none()
        {
            p.name = Some(name);
        }
        if p.org.is_none() {
            p.org = hint.org;
        }
        if let Some(e) = hint.email
            && !p.emails.contains(&e)
        {
            p.emails.push(e.clone());
            self.by_email.insert(e, r);
        }
        if let Some(x) = hint.external_id
            && !p.external_ids.contains(&x)
        {
            p.external_ids.push(x.clone());
            self.by_person_id.insert(x, r);
        }
        Some(r)
    }

    /// Adds another e-mail address to an observed person (a card with
    /// several addresses). An address already seen for someone else is left
    /// with them: which of the two is right is the resolver's question.
    pub fn add_email(&mut self, r: PersonRef, email: Email) {
        if self.by_email.contains_key(&email) {
            return;
        }
        self.by_email.insert(email.clone(), r);
        self.people[r.0 as usize].emails.push(email);
    }

    /// Adds another external id to an observed person.
    pub fn add_external_id(&mut self, r: PersonRef, id: ExternalId) {
        if self.by_person_id.contains_key(&id) {
            return;
        }
        self.by_person_id.insert(id.clone(), r);
        self.people[r.0 as usize].external_ids.push(id);
    }

    pub fn person_mut(&mut self, r: PersonRef) -> &mut ObservedPerson {
        &mut self.people[r.0 as usize]
    }

    /// The person a source knows by this external id, if any yet.
    pub fn person_by_external_id(&self, id: &ExternalId) -> Option<PersonRef> {
        self.by_person_id.get(id).copied()
    }

    /// The organization a source names: merged by external id, else by
    /// name (case- and space-insensitive).
    pub fn org(
        &mut self,
        name: &str,
        external_id: Option<ExternalId>,
        at: &SourcePos,
    ) -> Option<OrgRef> {
        let name = name.split_whitespace().collect::<Vec<_>>().join(" ");
        let key = name.to_lowercase();
        let known = external_id
            .as_ref()
            .and_then(|x| self.by_org_id.get(x))
            .or_else(|| self.by_org_name.get(&key))
            .copied();
        let r = match known {
            Some(r) => r,
            None => {
                if name.is_empty() && external_id.is_none() {
                    return None;
                }
                let r = OrgRef(self.orgs.len() as u32);
                self.orgs.push(ObservedOrg {
                    name: name.clone(),
                    external_ids: Vec::new(),
                    parent: None,
                    industry: None,
                    domains: Vec::new(),
                    is_ours: false,
                    first_seen: at.clone(),
                });
                r
            }
        };
        if !key.is_empty() {
            self.by_org_name.entry(key).or_insert(r);
            if self.orgs[r.0 as usize].name.is_empty() {
                self.orgs[r.0 as usize].name = name;
            }
        }
        if let Some(x) = external_id
            && !self.orgs[r.0 as usize].external_ids.contains(&x)
        {
            self.orgs[r.0 as usize].external_ids.push(x.clone());
            self.by_org_id.insert(x, r);
        }
        Some(r)
    }

    pub fn org_mut(&mut self, r: OrgRef) -> &mut ObservedOrg {
        &mut self.orgs[r.0 as usize]
    }

    /// The organization a source knows by this external id, if any yet.
    pub fn org_by_external_id(&self, id: &ExternalId) -> Option<OrgRef> {
        self.by_org_id.get(id).copied()
    }

    /// Records an interaction. Participants are deduplicated and the
    /// initiator added if missing; fewer than two distinct people is a
    /// skipped record, not an error.
    pub fn interaction(&mut self, mut ix: ObservedInteraction) {
        if !ix.participants.contains(&ix.initiator) {
            ix.participants.insert(0, ix.initiator);
        }
        let mut seen = Vec::with_capacity(ix.participants.len());
        ix.participants.retain(|p| {
            if seen.contains(p) {
                false
            } else {
                seen.push(*p);
                true
            }
        });
        if ix.participants.len() < 2 {
            self.skip(ix.source, "fewer than two distinct participants");
            return;
        }
        self.interactions.push(ix);
    }

    /// Adds a phone number as a source wrote it to an observed person. Text
    /// that is not a phone number is left out and listed, with its place,
    /// among the skipped records (the person is kept).
    pub fn add_phone(&mut self, r: PersonRef, text: &str, kind: Option<PhoneKind>, at: &SourcePos) {
        let text = text.trim();
        if text.is_empty() {
            return;
        }
        match Phone::parse(text, self.phone_region) {
            Ok(number) => {
                let phones = &mut self.people[r.0 as usize].phones;
                match phones.iter_mut().find(|p| p.number == number) {
                    Some(known) => known.kind = known.kind.or(kind),
                    None => phones.push(PersonPhone { number, kind }),
                }
            }
            Err(e) => self.skip(
                at.clone(),
                format!("{e}; the number is left out, the person is kept"),
            ),
        }
    }

    /// A record read but not taken.
    pub fn skip(&mut self, source: SourcePos, reason: impl Into<String>) {
        self.skipped.push(Skipped {
            source,
            reason: reason.into(),
        });
    }

    /// Starts the tally of one file; readers call [`Observations::count_read`]
    /// for each record they read from it.
    pub fn begin_file(&mut self, file: &str) {
        self.files.push(FileTally {
            file: file.to_owned(),
            read: 0,
            skipped: self.skipped.len(),
        });
    }

    pub fn count_read(&mut self, n: usize) {
        if let Some(t) = self.files.last_mut() {
            t.read += n;
        }
    }

    /// Closes the tally of the current file: its `skipped` becomes the number
    /// of records skipped since [`Observations::begin_file`].
    pub fn end_file(&mut self) {
        let total = self.skipped.len();
        if let Some(t) = self.files.last_mut() {
            t.skipped = total - t.skipped;
        }
    }
}

/// The file name as shown in messages: the path as the user typed it.
pub fn display_path(path: &Path) -> Arc<str> {
    Arc::from(path.display().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pos() -> SourcePos {
        SourcePos {
            file: Arc::from("t.ics"),
            line: 1,
        }
    }

    #[test]
    fn the_same_email_is_one_person_and_names_fill_in() {
        let mut o = Observations::new();
        let e = Email::parse("Jane@Example.com").unwrap();
        let a = o
            .person(
                PersonHint {
                    email: Some(e.clone()),
                    ..Default::default()
                },
                &pos(),
            )
            .unwrap();
        let b = o
            .person(
                PersonHint {
                    email: Some(e),
                    name: Some(" Jane Doe ".into()),
                    ..Default::default()
                },
                &pos(),
            )
            .unwrap();
        assert_eq!(a, b);
        assert_eq!(o.people.len(), 1);
        assert_eq!(o.people[0].name.as_deref(), Some("Jane Doe"));
    }

    #[test]
    fn a_hint_naming_nobody_is_no_person() {
        let mut o = Observations::new();
        assert!(o.person(PersonHint::default(), &pos()).is_none());
    }

    #[test]
    fn interactions_need_two_distinct_people() {
        let mut o = Observations::new();
        let a = o
            .person(
                PersonHint {
                    name: Some("A".into()),
                    ..Default::default()
                },
                &pos(),
            )
            .unwrap();
        o.interaction(ObservedInteraction {
            key: "k".into(),
            kind: InteractionKind::Email,
            at: Timestamp::from_epoch_seconds(0),
            initiator: a,
            participants: vec![a, a],
            in_reply_to: None,
            source: pos(),
        });
        assert!(o.interactions.is_empty());
        assert_eq!(o.skipped.len(), 1);
    }

    #[test]
    fn orgs_merge_by_name_ignoring_case_and_spaces() {
        let mut o = Observations::new();
        let a = o.org("Acme  Corp", None, &pos()).unwrap();
        let b = o.org("acme corp", None, &pos()).unwrap();
        assert_eq!(a, b);
        assert_eq!(o.orgs[0].name, "Acme Corp");
    }
}
