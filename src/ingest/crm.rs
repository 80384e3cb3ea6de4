//! CRM exports: Salesforce's data export (a folder of CSVs with the
//! standard field names), HubSpot's contacts and companies exports, and any
//! CSV with a small TOML mapping file. Files go through
//! [`super::table::Table`]: any encoding [`super::decode`] accepts, CRLF,
//! duplicated column names (the first non-empty value is taken), ids that a
//! spreadsheet turned into scientific notation (`3.5E+14`: refused with the
//! reason, never imported), empty-date markers (`0000-00-00`, `1/1/1900`,
//! `N/A`), dates as `YYYY-MM-DD`, Salesforce's
//! `YYYY-MM-DDTHH:MM:SS.000+0000` or `M/D/YYYY`. A malformed record is
//! skipped with its file and line; a file without a required column is
//! unreadable, naming the column and the columns it has.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use renmai_graph::{BuyingRole, Email, ExternalId, InteractionKind, OpportunityStatus, PhoneKind};
use sha2::{Digest, Sha256};

use super::table::{
    Col, Row, Table, check_id, domain_of_website, emails_in, join_name, parse_amount, parse_bool,
    parse_date, parse_time, read_file,
};
use super::{
    IngestError, OUR_COMPANY, Observations, ObservedDealContact, ObservedInteraction,
    ObservedOpportunity, OrgRef, PersonHint, PersonRef, SourcePos, display_path,
};

// ---------------------------------------------------------------- Salesforce

/// A Salesforce id as `salesforce:{18-character id}`. 15-character ids
/// (case-sensitive, as reports show them) get the 3-character checksum
/// suffix Salesforce defines, so both forms of one record match; an
/// 18-character id whose letters were all lower- or upper-cased by a
/// case-insensitive tool has its case restored from the suffix; any other
/// 18-character id whose suffix is not its checksum is refused.
/// `Ok(None)` for an empty cell and for Salesforce's null id
/// `000000000000000AAA`.
pub fn salesforce_id(s: &str) -> Result<Option<ExternalId>, String> {
    let t = s.trim();
    if t.is_empty() {
        return Ok(None);
    }
    check_id(t, "id")?;
    if !(t.len() == 15 || t.len() == 18) || !t.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(format!(
            "{t:?} is not a Salesforce id (15 or 18 letters and digits)"
        ));
    }
    if t.starts_with("000000000000000") {
        return Ok(None);
    }
    let mut id: Vec<u8> = t.as_bytes()[..15].to_vec();
    let suffix = checksum(&id);
    if t.len() == 18 && !t.as_bytes()[15..].eq_ignore_ascii_case(&suffix) {
        let letters = || id.iter().filter(|b| b.is_ascii_alphabetic());
        let folded = letters().all(u8::is_ascii_lowercase) || letters().all(u8::is_ascii_uppercase);
        if !folded {
            return Err(format!(
                "{t:?} is not a Salesforce id (its last 3 characters are not its checksum)"
            ));
        }
        // Case-folded: the suffix says which of the 15 characters are upper case.
        for (chunk, c) in t.as_bytes()[15..].iter().enumerate() {
            let Some(bits) = SUFFIX_ALPHABET
                .iter()
                .position(|a| a.eq_ignore_ascii_case(c))
            else {
                return Err(format!("{t:?} is not a Salesforce id (bad checksum)"));
            };
            for j in 0..5 {
                let b = &mut id[chunk * 5 + j];
                *b = if bits & (1 << j) != 0 {
                    b.to_ascii_uppercase()
                } else {
                    b.to_ascii_lowercase()
                };
            }
        }
    }
    let suffix = checksum(&id);
    id.extend_from_slice(&suffix);
    let id = String::from_utf8(id).unwrap_or_default();
    Ok(Some(ExternalId {
        system: "salesforce".into(),
        id,
    }))
}

const SUFFIX_ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ012345";

fn checksum(id15: &[u8]) -> [u8; 3] {
    let mut out = [0u8; 3];
    for (chunk, o) in out.iter_mut().enumerate() {
        let mut bits = 0usize;
        for j in 0..5 {
            if id15[chunk * 5 + j].is_ascii_uppercase() {
                bits |= 1 << j;
            }
        }
        *o = SUFFIX_ALPHABET[bits];
    }
    out
}

/// Salesforce's key prefixes of records that are people: Contact, User, Lead.
fn is_person_id(x: &ExternalId) -> bool {
    ["003", "005", "00Q"].iter().any(|p| x.id.starts_with(p))
}

/// The buying role of a Salesforce OpportunityContactRole `Role`:
/// Decision Maker and Economic Buyer → economic_buyer; Technical Buyer and
/// Evaluator → technical_buyer (they evaluate and can say no); Business
/// User → user_buyer; Influencer and Executive Sponsor → influencer (a
/// sponsor backs the project, the budget is the economic buyer's); Other,
/// empty or a custom value → no role.
pub fn salesforce_role(role: &str) -> Option<BuyingRole> {
    match role.trim().to_ascii_lowercase().as_str() {
        "decision maker" | "economic buyer" | "economic decision maker" => {
            Some(BuyingRole::EconomicBuyer)
        }
        "technical buyer" | "evaluator" => Some(BuyingRole::TechnicalBuyer),
        "business user" | "user" => Some(BuyingRole::UserBuyer),
        "influencer" | "executive sponsor" => Some(BuyingRole::Influencer),
        "coach" => Some(BuyingRole::Coach),
        "procurement" | "purchasing" => Some(BuyingRole::Procurement),
        "gatekeeper" => Some(BuyingRole::Gatekeeper),
        _ => None,
    }
}

/// The interaction kind of an Event's `Type` (or `EventSubtype`): a meeting
/// unless it says call, e-mail, visit, demo, dinner/lunch or workshop.
fn event_kind(t: Option<&str>) -> InteractionKind {
    let t = t.unwrap_or("").to_ascii_lowercase();
    if t.contains("call") || t.contains("phone") {
        InteractionKind::Call
    } else if t.contains("email") || t.contains("e-mail") {
        InteractionKind::Email
    } else if t.contains("visit") {
        InteractionKind::Visit
    } else if t.contains("demo") {
        InteractionKind::Demo
    } else if t.contains("dinner") || t.contains("lunch") {
        InteractionKind::Dinner
    } else if t.contains("workshop") {
        InteractionKind::Workshop
    } else {
        InteractionKind::Meeting
    }
}

/// A Salesforce data export (Setup → Data Export): a folder of CSVs with
/// the standard field names. Every file is optional, but the folder needs
/// Account.csv, Contact.csv or User.csv. Read, in this order:
///
/// - `User.csv` (Id, Name or FirstName/LastName, Email, Title, Department,
///   CompanyName, UserType): our own people. Their organization is one org
///   with [`super::ObservedOrg::is_ours`] set, named by the first
///   `CompanyName` or else [`OUR_COMPANY`]. Users whose UserType is not
///   `Standard` (partner and customer portal users, automated process
///   users, guests) are skipped: they are not our people.
/// - `Account.csv` (Id, Name, ParentId, Industry, Website → e-mail domain).
/// - `Contact.csv` (Id, AccountId, FirstName, LastName, Title, Department,
///   Email, ReportsToId).
/// - `Opportunity.csv` (Id, AccountId, Name, Amount, StageName, IsClosed,
///   IsWon, CloseDate, OwnerId); status from IsClosed/IsWon, else from a
///   StageName "Closed Won"/"Closed Lost".
/// - `OpportunityContactRole.csv` (OpportunityId, ContactId, Role; IsPrimary
///   is not used): roles per [`salesforce_role`].
/// - `EventRelation.csv` (EventId, RelationId, Status, IsWhat): the further
///   invitees of events; declined invitees and non-people are left out.
/// - `Event.csv` (Id, WhoId, OwnerId, ActivityDateTime or ActivityDate,
///   Type, IsDeleted): a meeting (or the kind its Type names) whose
///   initiator is the owner and whose participants are the owner, WhoId
///   and the event's relations. Subject, Description are never read.
/// - `Task.csv` (Id, WhoId, OwnerId, ActivityDate or CompletedDateTime,
///   TaskSubtype or Type, IsClosed): logged calls and e-mails only; other
///   subtypes and open tasks are skipped with the reason.
///
/// External ids are `salesforce:{Id}` in the 18-character form (see
/// [`salesforce_id`]); interaction keys `salesforce:{Event or Task Id}`.
/// A reference to a record not in the export (a WhoId of a Lead, an
/// OwnerId of a user missing from User.csv) is a person known by that id
/// only, for the resolver to match; an account missing from Account.csv
/// leaves a contact without an organization and skips an opportunity. A
/// ParentId or ReportsToId that names no record in the export is left out.
pub fn read_salesforce(dir: &Path, out: &mut Observations) -> Result<(), IngestError> {
    let files = salesforce_files(dir)?;
    read_salesforce_tables(
        dir,
        |name| files.contains_key(name),
        |name| files.get(name).map(|p| Table::read(p)).transpose(),
        out,
    )
}

/// [`read_salesforce`] of files already in memory: `(file name, bytes)`,
/// the names as in the export (`Contact.csv`...), labelled `{dir}/{name}`
/// in positions and errors.
pub fn read_salesforce_bytes(
    dir: &Path,
    files: &[(&str, &[u8])],
    out: &mut Observations,
) -> Result<(), IngestError> {
    let find = |name: &str| files.iter().find(|(n, _)| n.eq_ignore_ascii_case(name));
    read_salesforce_tables(
        dir,
        |name| find(name).is_some(),
        |name| {
            find(name)
                .map(|(n, bytes)| Table::from_bytes(display_path(&dir.join(n)), bytes))
                .transpose()
        },
        out,
    )
}

/// The reading order of [`read_salesforce`]: `has(name)` says whether the
/// export has a file (lower-cased name), `table(name)` reads it.
fn read_salesforce_tables(
    dir: &Path,
    has: impl Fn(&str) -> bool,
    table: impl Fn(&str) -> Result<Option<Table>, IngestError>,
    out: &mut Observations,
) -> Result<(), IngestError> {
    if !has("account.csv") && !has("contact.csv") && !has("user.csv") {
        return Err(IngestError::unreadable(
            display_path(dir),
            "not a Salesforce data export: it has no Account.csv, Contact.csv or User.csv",
        ));
    }
    if let Some(t) = table("user.csv")? {
        sf_users(&t, out)?;
    }
    if let Some(t) = table("account.csv")? {
        sf_accounts(&t, out)?;
    }
    if let Some(t) = table("contact.csv")? {
        sf_contacts(&t, out)?;
    }
    let mut opportunities = HashSet::new();
    if let Some(t) = table("opportunity.csv")? {
        sf_opportunities(&t, out, &mut opportunities)?;
    }
    if let Some(t) = table("opportunitycontactrole.csv")? {
        sf_contact_roles(&t, out, &opportunities)?;
    }
    let mut relations = HashMap::new();
    if let Some(t) = table("eventrelation.csv")? {
        relations = sf_event_relations(&t, out)?;
    }
    if let Some(t) = table("event.csv")? {
        sf_events(&t, out, &relations)?;
    }
    if let Some(t) = table("task.csv")? {
        sf_tasks(&t, out)?;
    }
    Ok(())
}

/// The CSV files of a folder by lower-cased file name.
fn salesforce_files(dir: &Path) -> Result<HashMap<String, PathBuf>, IngestError> {
    let entries =
        std::fs::read_dir(dir).map_err(|e| IngestError::unreadable(display_path(dir), e))?;
    Ok(entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file())
        .filter_map(|p| {
            let name = p.file_name()?.to_str()?.to_ascii_lowercase();
            Some((name, p))
        })
        .collect())
}

/// One row's id cell as an external id, or the reason to skip the row.
fn sf_cell(r: &Row, c: &Col, what: &str) -> Result<Option<ExternalId>, String> {
    match r.get(c) {
        None => Ok(None),
        Some(v) => salesforce_id(v).map_err(|e| format!("{what}: {e}")),
    }
}

/// The person a Salesforce id names: known already, or known by the id only.
fn sf_person(out: &mut Observations, id: ExternalId, pos: &SourcePos) -> Option<PersonRef> {
    out.person_by_external_id(&id).or_else(|| {
        out.person(
            PersonHint {
                external_id: Some(id),
                ..Default::default()
            },
            pos,
        )
    })
}

/// Runs `row` over the rows of a table inside its file tally; `row`
/// returns the reason to skip a record.
fn each_row(
    t: &Table,
    out: &mut Observations,
    mut row: impl FnMut(&Row, &SourcePos, &mut Observations) -> Result<(), String>,
) {
    t.begin(out);
    for r in &t.rows {
        let pos = t.pos(r);
        let res = match r.overflow_reason(t.headers.len()) {
            Some(reason) => Err(reason),
            None => row(r, &pos, out),
        };
        if let Err(reason) = res {
            out.skip(pos, reason);
        }
    }
    out.end_file();
}

/// An activity's time: the exact one when the export has it, else its day.
fn time_or_day(r: &Row, exact: &Col, day: &Col) -> Result<Option<renmai_graph::Timestamp>, String> {
    match r
        .get(exact)
        .map(|s| parse_time(s, None))
        .transpose()?
        .flatten()
    {
        Some(t) => Ok(Some(t)),
        None => Ok(r
            .get(day)
            .map(|s| parse_time(s, None))
            .transpose()?
            .flatten()),
    }
}

fn required_id(r: &Row, c: &Col, what: &str) -> Result<ExternalId, String> {
    sf_cell(r, c, what)?.ok_or_else(|| format!("no {what}"))
}

fn sf_users(t: &Table, out: &mut Observations) -> Result<(), IngestError> {
    let id = t.require(&["Id"])?;
    let name = t.col(&["Name"]);
    let first = t.col(&["FirstName"]);
    let last = t.col(&["LastName"]);
    if !name.is_found() && !last.is_found() {
        t.require(&["Name", "LastName"])?;
    }
    let email = t.col(&["Email"]);
    let title = t.col(&["Title"]);
    let dept = t.col(&["Department"]);
    let company = t.col(&["CompanyName"]);
    let user_type = t.col(&["UserType"]);
    let company_name = t
        .rows
        .iter()
        .find_map(|r| r.get(&company))
        .unwrap_or(OUR_COMPANY)
        .to_owned();
    let mut ours: Option<OrgRef> = None;
    each_row(t, out, |r, pos, out| {
        let x = required_id(r, &id, "Id")?;
        if let Some(ty) = r.get(&user_type)
            && !ty.eq_ignore_ascii_case("Standard")
        {
            return Err(format!(
                "user type {ty:?} is not one of our people (only Standard users are)"
            ));
        }
        let org = match ours {
            Some(o) => o,
            None => {
                let o = out
                    .org(&company_name, None, pos)
                    .ok_or("no name for our company")?;
                out.org_mut(o).is_ours = true;
                ours = Some(o);
                o
            }
        };
        let name = r
            .get(&name)
            .map(str::to_owned)
            .or_else(|| join_name(&[r.get(&first), r.get(&last)]));
        let p = out
            .person(
                PersonHint {
                    name,
                    email: r.get(&email).and_then(|e| Email::parse(e).ok()),
                    external_id: Some(x),
                    org: Some(org),
                },
                pos,
            )
            .ok_or("names nobody")?;
        let p = out.person_mut(p);
        p.described = true;
        p.title = p.title.take().or(r.get(&title).map(str::to_owned));
        p.department = p.department.take().or(r.get(&dept).map(str::to_owned));
        Ok(())
    });
    Ok(())
}

fn sf_accounts(t: &Table, out: &mut Observations) -> Result<(), IngestError> {
    let id = t.require(&["Id"])?;
    let name = t.require(&["Name"])?;
    let parent = t.col(&["ParentId"]);
    let industry = t.col(&["Industry"]);
    let website = t.col(&["Website"]);
    let mut parents = Vec::new();
    each_row(t, out, |r, pos, out| {
        let x = required_id(r, &id, "Id")?;
        let parent = sf_cell(r, &parent, "ParentId")?;
        let n = r.get(&name).ok_or("no Name")?;
        let o = out.org(n, Some(x), pos).ok_or("no Name")?;
        let org = out.org_mut(o);
        if org.industry.is_none() {
            org.industry = r.get(&industry).map(str::to_owned);
        }
        if let Some(d) = r.get(&website).and_then(domain_of_website)
            && !org.domains.contains(&d)
        {
            org.domains.push(d);
        }
        if let Some(p) = parent {
            parents.push((o, p));
        }
        Ok(())
    });
    for (o, p) in parents {
        if let Some(p) = out.org_by_external_id(&p)
            && p != o
        {
            out.org_mut(o).parent = Some(p);
        }
    }
    Ok(())
}

fn sf_contacts(t: &Table, out: &mut Observations) -> Result<(), IngestError> {
    let id = t.require(&["Id"])?;
    let name = t.col(&["Name"]);
    let first = t.col(&["FirstName"]);
    let last = t.col(&["LastName"]);
    if !name.is_found() && !last.is_found() {
        t.require(&["LastName", "Name"])?;
    }
    let account = t.col(&["AccountId"]);
    let email = t.col(&["Email"]);
    let title = t.col(&["Title"]);
    let dept = t.col(&["Department"]);
    let reports = t.col(&["ReportsToId"]);
    let phones = [
        (t.col(&["Phone"]), Some(PhoneKind::Work)),
        (t.col(&["MobilePhone"]), Some(PhoneKind::Mobile)),
        (t.col(&["HomePhone"]), Some(PhoneKind::Home)),
        (t.col(&["OtherPhone"]), Some(PhoneKind::Other)),
    ];
    let mut lines = Vec::new();
    each_row(t, out, |r, pos, out| {
        let x = required_id(r, &id, "Id")?;
        let account = sf_cell(r, &account, "AccountId")?;
        let boss = sf_cell(r, &reports, "ReportsToId")?;
        let email = match r.get(&email) {
            None => None,
            Some(e) => Some(Email::parse(e).map_err(|_| format!("Email {e:?} is not an address"))?),
        };
        let org = account.and_then(|a| out.org_by_external_id(&a));
        let name =
            join_name(&[r.get(&first), r.get(&last)]).or_else(|| r.get(&name).map(str::to_owned));
        let p = out
            .person(
                PersonHint {
                    name,
                    email,
                    external_id: Some(x),
                    org,
                },
                pos,
            )
            .ok_or("names nobody")?;
        let person = out.person_mut(p);
        person.described = true;
        if person.org.is_none() {
            person.org = org;
        }
        person.title = person.title.take().or(r.get(&title).map(str::to_owned));
        person.department = person.department.take().or(r.get(&dept).map(str::to_owned));
        for (c, kind) in &phones {
            if let Some(v) = r.get(c) {
                out.add_phone(p, v, *kind, pos);
            }
        }
        if let Some(b) = boss {
            lines.push((p, b));
        }
        Ok(())
    });
    for (p, b) in lines {
        if let Some(b) = out.person_by_external_id(&b)
            && b != p
        {
            out.person_mut(p).reports_to = Some(b);
        }
    }
    Ok(())
}

fn sf_opportunities(
    t: &Table,
    out: &mut Observations,
    seen: &mut HashSet<ExternalId>,
) -> Result<(), IngestError> {
    let id = t.require(&["Id"])?;
    let account = t.require(&["AccountId"])?;
    let name = t.require(&["Name"])?;
    let amount = t.col(&["Amount"]);
    let stage = t.col(&["StageName"]);
    let closed = t.col(&["IsClosed"]);
    let won = t.col(&["IsWon"]);
    let close_date = t.col(&["CloseDate"]);
    let owner = t.col(&["OwnerId"]);
    each_row(t, out, |r, pos, out| {
        let x = required_id(r, &id, "Id")?;
        let a = required_id(r, &account, "AccountId")?;
        let owner = sf_cell(r, &owner, "OwnerId")?;
        let account = out
            .org_by_external_id(&a)
            .ok_or_else(|| format!("its account {} is not in Account.csv", a.id))?;
        let n = r.get(&name).ok_or("no Name")?;
        let amount = r.get(&amount).map(parse_amount).transpose()?.flatten();
        let close_date = r
            .get(&close_date)
            .map(|d| parse_date(d, None))
            .transpose()?
            .flatten();
        let stage = r.get(&stage).map(str::to_owned);
        let lower = stage.as_deref().unwrap_or("").to_ascii_lowercase();
        let is_closed = r
            .get(&closed)
            .and_then(parse_bool)
            .unwrap_or(lower.starts_with("closed"));
        let is_won = r
            .get(&won)
            .and_then(parse_bool)
            .unwrap_or(lower == "closed won");
        let status = match (is_closed, is_won) {
            (false, _) => OpportunityStatus::Open,
            (true, true) => OpportunityStatus::Won,
            (true, false) => OpportunityStatus::Lost,
        };
        let owner = owner.and_then(|o| sf_person(out, o, pos));
        seen.insert(x.clone());
        out.opportunities.push(ObservedOpportunity {
            external_id: x,
            account,
            name: n.to_owned(),
            amount,
            stage,
            status,
            close_date,
            owner,
            source: pos.clone(),
        });
        Ok(())
    });
    Ok(())
}

fn sf_contact_roles(
    t: &Table,
    out: &mut Observations,
    opportunities: &HashSet<ExternalId>,
) -> Result<(), IngestError> {
    let opp = t.require(&["OpportunityId"])?;
    let contact = t.require(&["ContactId"])?;
    let role = t.col(&["Role"]);
    each_row(t, out, |r, pos, out| {
        let o = required_id(r, &opp, "OpportunityId")?;
        let c = required_id(r, &contact, "ContactId")?;
        if !opportunities.contains(&o) {
            return Err(format!(
                "its opportunity {} is not in Opportunity.csv",
                o.id
            ));
        }
        let person = sf_person(out, c, pos).ok_or("names nobody")?;
        out.deal_contacts.push(ObservedDealContact {
            opportunity: o,
            person,
            role: r.get(&role).and_then(salesforce_role),
            attitude: None,
            solution_acceptance: None,
            price_acceptance: None,
            at: None,
            source: pos.clone(),
        });
        Ok(())
    });
    Ok(())
}

/// EventId → the people invited besides WhoId (declined ones left out).
fn sf_event_relations(
    t: &Table,
    out: &mut Observations,
) -> Result<HashMap<ExternalId, Vec<ExternalId>>, IngestError> {
    let event = t.require(&["EventId"])?;
    let relation = t.require(&["RelationId"])?;
    let status = t.col(&["Status"]);
    let is_what = t.col(&["IsWhat"]);
    let deleted = t.col(&["IsDeleted"]);
    let mut map: HashMap<ExternalId, Vec<ExternalId>> = HashMap::new();
    each_row(t, out, |r, _pos, _out| {
        let e = required_id(r, &event, "EventId")?;
        let rel = required_id(r, &relation, "RelationId")?;
        if r.get(&deleted).and_then(parse_bool) == Some(true) {
            return Err("deleted in Salesforce".into());
        }
        if r.get(&is_what).and_then(parse_bool) == Some(true) || !is_person_id(&rel) {
            // The event's account or opportunity, not an invitee: nothing to skip.
            return Ok(());
        }
        if r.get(&status)
            .is_some_and(|s| s.eq_ignore_ascii_case("Declined"))
        {
            return Err(format!("{} declined the event", rel.id));
        }
        map.entry(e).or_default().push(rel);
        Ok(())
    });
    Ok(map)
}

fn sf_events(
    t: &Table,
    out: &mut Observations,
    relations: &HashMap<ExternalId, Vec<ExternalId>>,
) -> Result<(), IngestError> {
    let id = t.require(&["Id"])?;
    let owner = t.require(&["OwnerId"])?;
    let who = t.col(&["WhoId"]);
    let at = t.col(&["ActivityDateTime", "StartDateTime"]);
    let day = t.col(&["ActivityDate"]);
    if !at.is_found() && !day.is_found() {
        t.require(&["ActivityDateTime", "ActivityDate"])?;
    }
    let ty = t.col(&["Type", "EventSubtype"]);
    let deleted = t.col(&["IsDeleted"]);
    each_row(t, out, |r, pos, out| {
        let x = required_id(r, &id, "Id")?;
        let owner = required_id(r, &owner, "OwnerId")?;
        let who = sf_cell(r, &who, "WhoId")?;
        if r.get(&deleted).and_then(parse_bool) == Some(true) {
            return Err("deleted in Salesforce".into());
        }
        let time = time_or_day(r, &at, &day)
            .and_then(|t| t.ok_or_else(|| "no ActivityDateTime or ActivityDate".to_owned()))?;
        let initiator = sf_person(out, owner, pos).ok_or("no owner")?;
        let mut participants = vec![initiator];
        for p in who
            .into_iter()
            .chain(relations.get(&x).into_iter().flatten().cloned())
        {
            participants.extend(sf_person(out, p, pos));
        }
        out.interaction(ObservedInteraction {
            key: x.to_string(),
            kind: event_kind(r.get(&ty)),
            at: time,
            initiator,
            participants,
            in_reply_to: None,
            source: pos.clone(),
        });
        Ok(())
    });
    Ok(())
}

fn sf_tasks(t: &Table, out: &mut Observations) -> Result<(), IngestError> {
    let id = t.require(&["Id"])?;
    let owner = t.require(&["OwnerId"])?;
    let who = t.col(&["WhoId"]);
    let subtype = t.col(&["TaskSubtype"]);
    let ty = t.col(&["Type"]);
    if !subtype.is_found() && !ty.is_found() {
        t.require(&["TaskSubtype", "Type"])?;
    }
    let day = t.col(&["ActivityDate"]);
    let done_at = t.col(&["CompletedDateTime"]);
    if !day.is_found() && !done_at.is_found() {
        t.require(&["ActivityDate", "CompletedDateTime"])?;
    }
    let closed = t.col(&["IsClosed"]);
    let deleted = t.col(&["IsDeleted"]);
    each_row(t, out, |r, pos, out| {
        let x = required_id(r, &id, "Id")?;
        let owner = required_id(r, &owner, "OwnerId")?;
        let who = sf_cell(r, &who, "WhoId")?;
        if r.get(&deleted).and_then(parse_bool) == Some(true) {
            return Err("deleted in Salesforce".into());
        }
        let sub = r.get(&subtype).or_else(|| r.get(&ty)).unwrap_or("");
        let kind = match sub.to_ascii_lowercase().as_str() {
            "call" => InteractionKind::Call,
            "email" | "e-mail" => InteractionKind::Email,
            _ => {
                return Err(format!(
                    "task subtype {sub:?} is not a call or an e-mail (only those are interactions)"
                ));
            }
        };
        if r.get(&closed).and_then(parse_bool) == Some(false) {
            return Err("an open task: the call or e-mail has not happened yet".into());
        }
        let time = time_or_day(r, &done_at, &day)
            .and_then(|t| t.ok_or_else(|| "no ActivityDate or CompletedDateTime".to_owned()))?;
        let initiator = sf_person(out, owner, pos).ok_or("no owner")?;
        let mut participants = vec![initiator];
        if let Some(w) = who {
            participants.extend(sf_person(out, w, pos));
        }
        out.interaction(ObservedInteraction {
            key: x.to_string(),
            kind,
            at: time,
            initiator,
            participants,
            in_reply_to: None,
            source: pos.clone(),
        });
        Ok(())
    });
    Ok(())
}

// ------------------------------------------------------------------- HubSpot

/// HubSpot's contacts and companies exports (CRM → Export, CSV), a file or
/// a folder of them; each file is recognised by its header (a companies
/// export has `Company name` and no `First Name`), and in a folder the
/// companies are read first.
///
/// - Companies: `Record ID`, `Company name`, `Company Domain Name`,
///   `Parent Company` (a record id or a name), `Industry`; external id
///   `hubspot-company:{Record ID}`.
/// - Contacts: `Record ID`, `First Name`, `Last Name`, `Email`,
///   `Additional email addresses`, `Company Name`, `Job Title`,
///   `Associated Company ID` (the first of several); external id
///   `hubspot:{Record ID}`. Contacts and companies are numbered
///   separately by HubSpot, hence the two systems.
///
/// Record ids in scientific notation (a spreadsheet's doing) are refused.
pub fn read_hubspot(path: &Path, out: &mut Observations) -> Result<(), IngestError> {
    let mut files = Vec::new();
    if path.is_dir() {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(path)
            .map_err(|e| IngestError::unreadable(display_path(path), e))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.is_file() && p.extension().is_some_and(|x| x.eq_ignore_ascii_case("csv")))
            .collect();
        entries.sort();
        for p in entries {
            files.push(Table::read(&p)?);
        }
        if files.is_empty() {
            return Err(IngestError::unreadable(
                display_path(path),
                "the folder holds no .csv file",
            ));
        }
    } else {
        files.push(Table::read(path)?);
    }
    hubspot_tables(&files, out)
}

/// [`read_hubspot`] of one export's bytes; `file` names it in positions and errors.
pub fn read_hubspot_bytes(
    file: Arc<str>,
    bytes: &[u8],
    out: &mut Observations,
) -> Result<(), IngestError> {
    hubspot_tables(&[Table::from_bytes(file, bytes)?], out)
}

/// Companies first, so that contacts find their company.
fn hubspot_tables(files: &[Table], out: &mut Observations) -> Result<(), IngestError> {
    let is_companies = |t: &Table| t.has("Company name") && !t.has("First Name");
    for t in files.iter().filter(|t| is_companies(t)) {
        hubspot_companies(t, out)?;
    }
    for t in files.iter().filter(|t| !is_companies(t)) {
        if !t.has("First Name") && !t.has("Email") {
            return Err(IngestError::unreadable(
                &t.file,
                format!(
                    "neither a HubSpot contacts export (\"First Name\", \"Email\") nor a \
                     companies export (\"Company name\"); the columns found are: {}",
                    t.headers_list()
                ),
            ));
        }
        hubspot_contacts(t, out)?;
    }
    Ok(())
}

fn hubspot_id(system: &str, r: &Row, c: &Col) -> Result<Option<ExternalId>, String> {
    let Some(v) = r.get(c) else {
        return Ok(None);
    };
    let v = check_id(v, "Record ID")?;
    ExternalId::parse(&format!("{system}:{v}"))
        .map(Some)
        .map_err(|e| e.to_string())
}

fn hubspot_companies(t: &Table, out: &mut Observations) -> Result<(), IngestError> {
    let id = t.require(&["Record ID", "Company ID"])?;
    let name = t.require(&["Company name"])?;
    let domain = t.col(&["Company Domain Name", "Website URL"]);
    let parent = t.col(&["Parent Company", "Parent Company ID"]);
    let industry = t.col(&["Industry"]);
    let mut parents = Vec::new();
    each_row(t, out, |r, pos, out| {
        let x = hubspot_id("hubspot-company", r, &id)?.ok_or("no Record ID")?;
        let n = r.get(&name).ok_or("no Company name")?;
        let o = out.org(n, Some(x), pos).ok_or("no Company name")?;
        let org = out.org_mut(o);
        if org.industry.is_none() {
            org.industry = r.get(&industry).map(str::to_owned);
        }
        if let Some(d) = r.get(&domain).and_then(domain_of_website)
            && !org.domains.contains(&d)
        {
            org.domains.push(d);
        }
        if let Some(p) = r.get(&parent) {
            let p = check_id(p, "Parent Company")?;
            parents.push((o, p.to_owned(), pos.clone()));
        }
        Ok(())
    });
    for (o, p, pos) in parents {
        let parent = if p.bytes().all(|b| b.is_ascii_digit()) {
            ExternalId::parse(&format!("hubspot-company:{p}"))
                .ok()
                .and_then(|x| out.org_by_external_id(&x))
        } else {
            out.org(&p, None, &pos)
        };
        if let Some(parent) = parent
            && parent != o
        {
            out.org_mut(o).parent = Some(parent);
        }
    }
    Ok(())
}

fn hubspot_contacts(t: &Table, out: &mut Observations) -> Result<(), IngestError> {
    let id = t.require(&["Record ID", "Contact ID"])?;
    let first = t.col(&["First Name"]);
    let last = t.col(&["Last Name"]);
    let email = t.col(&["Email"]);
    let more = t.col(&["Additional email addresses"]);
    let company = t.col(&["Company Name", "Associated Company"]);
    let company_id = t.col(&[
        "Associated Company ID",
        "Associated Company IDs",
        "Company ID",
    ]);
    let title = t.col(&["Job Title"]);
    let phones = [
        (t.col(&["Phone Number", "Phone"]), None),
        (
            t.col(&["Mobile Phone Number", "Mobile Phone"]),
            Some(PhoneKind::Mobile),
        ),
    ];
    each_row(t, out, |r, pos, out| {
        let x = hubspot_id("hubspot", r, &id)?.ok_or("no Record ID")?;
        let company_id = match r.get(&company_id) {
            None => None,
            Some(v) => {
                let first = v.split(';').map(str::trim).find(|s| !s.is_empty());
                match first {
                    None => None,
                    Some(f) => {
                        let f = check_id(f, "Associated Company ID")?;
                        ExternalId::parse(&format!("hubspot-company:{f}")).ok()
                    }
                }
            }
        };
        let org = match company_id.as_ref().and_then(|c| out.org_by_external_id(c)) {
            Some(o) => Some(o),
            None => r
                .get(&company)
                .and_then(|n| out.org(n, company_id.clone(), pos)),
        };
        let mut emails = r.get(&email).map(emails_in).unwrap_or_default();
        for e in r.get(&more).map(emails_in).unwrap_or_default() {
            if !emails.contains(&e) {
                emails.push(e);
            }
        }
        let name = join_name(&[r.get(&first), r.get(&last)]);
        if name.is_none() && emails.is_empty() {
            return Err("no name and no valid e-mail address".into());
        }
        let mut emails = emails.into_iter();
        let p = out
            .person(
                PersonHint {
                    name,
                    email: emails.next(),
                    external_id: Some(x),
                    org,
                },
                pos,
            )
            .ok_or("names nobody")?;
        for e in emails {
            out.add_email(p, e);
        }
        for (c, kind) in &phones {
            if let Some(v) = r.get(c) {
                out.add_phone(p, v, *kind, pos);
            }
        }
        let person = out.person_mut(p);
        person.described = true;
        person.title = person.title.take().or(r.get(&title).map(str::to_owned));
        Ok(())
    });
    Ok(())
}

// ---------------------------------------------------------------- mapped CSV

/// What the rows of a mapped CSV are.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MappedRows {
    /// One described person per row (a contact list, an ERP's customer contacts).
    #[default]
    People,
    /// One interaction per row (a call log, a visit report list).
    Interactions,
}

/// One column or several.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(untagged)]
pub enum Columns {
    One(String),
    Many(Vec<String>),
}

impl Columns {
    fn names(&self) -> Vec<&str> {
        match self {
            Columns::One(c) => vec![c.as_str()],
            Columns::Many(cs) => cs.iter().map(String::as_str).collect(),
        }
    }
}

/// The mapping file of [`read_mapped_csv`].
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mapping {
    #[serde(default)]
    pub rows: MappedRows,
    /// External ids and interaction keys are `{system}:{value}`; default `csv`.
    #[serde(default)]
    pub system: Option<String>,
    /// A chrono format for the time column, e.g. `%d.%m.%Y %H:%M`.
    #[serde(default)]
    pub date_format: Option<String>,
    /// `,` `;` `|` or `tab`; sniffed when absent.
    #[serde(default)]
    pub delimiter: Option<String>,
    /// The kind of an interaction whose kind cell is empty or absent.
    #[serde(default)]
    pub default_kind: Option<String>,
    /// The source's kind values → renmai's kinds (meeting, visit, call,
    /// email, dinner, demo, workshop, service_case).
    #[serde(default)]
    pub kinds: HashMap<String, String>,
    pub columns: MappedColumns,
}

/// `[columns]` of a mapping file: which column holds what.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MappedColumns {
    pub name: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub email: Option<Columns>,
    pub org: Option<String>,
    pub title: Option<String>,
    pub department: Option<String>,
    pub external_id: Option<String>,
    /// One or several phone columns (people); a cell may hold several
    /// numbers separated by `;`.
    pub phone: Option<Columns>,
    pub time: Option<String>,
    pub kind: Option<String>,
    pub key: Option<String>,
    pub initiator: Option<String>,
    pub participants: Option<Columns>,
}

/// Any CSV with a small TOML mapping file saying which column is what.
///
/// ```toml
/// # People: one described person per row (the default).
/// rows = "people"
/// system = "erp"                # external ids become erp:{value} (default "csv")
/// delimiter = ";"               # optional: "," ";" "|" or "tab"; sniffed otherwise
///
/// [columns]
/// name = "Full name"            # or first_name + last_name
/// first_name = "Vorname"
/// last_name = "Nachname"
/// email = ["E-Mail", "E-Mail privat"]   # one column or several; a cell may
///                                       # hold several addresses (, ; :::)
/// org = "Firma"
/// title = "Position"
/// department = "Abteilung"
/// external_id = "Kundennummer"
/// ```
///
/// ```toml
/// # Interactions: one meeting, call, ... per row.
/// rows = "interactions"
/// system = "calllog"            # keys become calllog:{key} (default "csv")
/// date_format = "%d.%m.%Y %H:%M" # optional chrono format; otherwise
///                               # YYYY-MM-DD[THH:MM:SS[offset]] or M/D/YYYY
/// default_kind = "call"         # for rows whose kind cell is empty (default meeting)
///
/// [columns]
/// time = "Datum"                # required; times without an offset are UTC
/// kind = "Art"                  # optional
/// key = "Vorgangsnummer"        # optional: the row's stable id; without it
///                               # the key is a hash of time, kind and people
/// initiator = "Von"             # optional e-mail column; else the first participant
/// participants = ["Von", "An", "Cc"]   # required: e-mail columns
///
/// [kinds]                       # optional: the file's kind values → renmai's
/// "Telefonat" = "call"
/// "Kundenbesuch" = "visit"
/// ```
///
/// Column names are matched ignoring case; a name the file does not have,
/// an unknown key or a mapping missing what its rows need makes the
/// mapping unreadable with the reason. Kinds are renmai's (meeting, visit,
/// call, email, dinner, demo, workshop, service_case), also accepted
/// capitalised or as `e-mail`.
pub fn read_mapped_csv(
    path: &Path,
    mapping: &Path,
    out: &mut Observations,
) -> Result<(), IngestError> {
    let (mfile, mbytes) = read_file(mapping)?;
    let (file, bytes) = read_file(path)?;
    read_mapped_csv_bytes(file, &bytes, mfile, &mbytes, out)
}

/// [`read_mapped_csv`] of the bytes of the CSV file (named `file`) and of
/// the mapping file (named `mfile`).
pub fn read_mapped_csv_bytes(
    file: Arc<str>,
    bytes: &[u8],
    mfile: Arc<str>,
    mbytes: &[u8],
    out: &mut Observations,
) -> Result<(), IngestError> {
    let text = super::decode::text(&mfile, mbytes)?;
    let m: Mapping = toml::from_str(&text)
        .map_err(|e| IngestError::unreadable(&mfile, format!("not a valid mapping file: {e}")))?;
    let delimiter = match m.delimiter.as_deref() {
        None => None,
        Some("tab" | "\t") => Some(b'\t'),
        Some(d) if d.len() == 1 && d.is_ascii() => Some(d.as_bytes()[0]),
        Some(d) => {
            return Err(IngestError::unreadable(
                &mfile,
                format!("delimiter {d:?} is not one character (or \"tab\")"),
            ));
        }
    };
    let t = Table::from_bytes_with(file, bytes, delimiter, "", |_| true)?;
    let system = m.system.clone().unwrap_or_else(|| "csv".into());
    if ExternalId::parse(&format!("{system}:x")).is_err() {
        return Err(IngestError::unreadable(
            &mfile,
            format!("system {system:?} must be letters, digits, - or _"),
        ));
    }
    let col = |name: &Option<String>| -> Result<Col, IngestError> {
        match name {
            None => Ok(Col::default()),
            Some(n) => t.require(&[n.as_str()]),
        }
    };
    let cols = |names: &Option<Columns>| -> Result<Vec<Col>, IngestError> {
        names
            .iter()
            .flat_map(Columns::names)
            .map(|n| t.require(&[n]))
            .collect()
    };
    let c = &m.columns;
    let emails = cols(&c.email)?;
    let phone_cols = cols(&c.phone)?;
    match m.rows {
        MappedRows::People => {
            let (name, first, last) = (col(&c.name)?, col(&c.first_name)?, col(&c.last_name)?);
            if !name.is_found() && !first.is_found() && !last.is_found() && emails.is_empty() {
                return Err(IngestError::unreadable(
                    &mfile,
                    "rows = \"people\" needs a name, first_name/last_name or email column",
                ));
            }
            let (org, title, dept, xid) = (
                col(&c.org)?,
                col(&c.title)?,
                col(&c.department)?,
                col(&c.external_id)?,
            );
            each_row(&t, out, |r, pos, out| {
                let external_id = match r.get(&xid) {
                    None => None,
                    Some(v) => {
                        let v = check_id(v, "external id")?;
                        Some(
                            ExternalId::parse(&format!("{system}:{v}"))
                                .map_err(|e| e.to_string())?,
                        )
                    }
                };
                let name = r
                    .get(&name)
                    .map(str::to_owned)
                    .or_else(|| join_name(&[r.get(&first), r.get(&last)]));
                let mut all: Vec<Email> = Vec::new();
                for e in emails
                    .iter()
                    .flat_map(|c| r.get(c).map(emails_in).unwrap_or_default())
                {
                    if !all.contains(&e) {
                        all.push(e);
                    }
                }
                if name.is_none() && all.is_empty() {
                    return Err("no name and no valid e-mail address".into());
                }
                let org = r.get(&org).and_then(|o| out.org(o, None, pos));
                let mut all = all.into_iter();
                let p = out
                    .person(
                        PersonHint {
                            name,
                            email: all.next(),
                            external_id,
                            org,
                        },
                        pos,
                    )
                    .ok_or("names nobody")?;
                for e in all {
                    out.add_email(p, e);
                }
                for v in phone_cols.iter().filter_map(|c| r.get(c)) {
                    for number in v.split(';') {
                        out.add_phone(p, number, None, pos);
                    }
                }
                let person = out.person_mut(p);
                person.described = true;
                person.title = person.title.take().or(r.get(&title).map(str::to_owned));
                person.department = person.department.take().or(r.get(&dept).map(str::to_owned));
                Ok(())
            });
        }
        MappedRows::Interactions => {
            let time = match &c.time {
                Some(_) => col(&c.time)?,
                None => {
                    return Err(IngestError::unreadable(
                        &mfile,
                        "rows = \"interactions\" needs a time column",
                    ));
                }
            };
            let participants = cols(&c.participants)?;
            if participants.is_empty() {
                return Err(IngestError::unreadable(
                    &mfile,
                    "rows = \"interactions\" needs participants (e-mail columns)",
                ));
            }
            let (kind, key, initiator) = (col(&c.kind)?, col(&c.key)?, col(&c.initiator)?);
            let kinds: HashMap<String, String> = m
                .kinds
                .iter()
                .map(|(k, v)| (k.trim().to_lowercase(), v.clone()))
                .collect();
            let default_kind = match &m.default_kind {
                None => InteractionKind::Meeting,
                Some(k) => parse_kind(k).map_err(|e| IngestError::unreadable(&mfile, e))?,
            };
            for v in kinds.values() {
                parse_kind(v).map_err(|e| IngestError::unreadable(&mfile, e))?;
            }
            let format = m.date_format.as_deref();
            each_row(&t, out, |r, pos, out| {
                let at = r
                    .get(&time)
                    .map(|s| parse_time(s, format))
                    .transpose()?
                    .flatten()
                    .ok_or("no time")?;
                let kind = match r.get(&kind) {
                    None => default_kind,
                    Some(k) => match kinds.get(&k.to_lowercase()) {
                        Some(mapped) => parse_kind(mapped)?,
                        None => parse_kind(k)?,
                    },
                };
                let mut people: Vec<Email> = r.get(&initiator).map(emails_in).unwrap_or_default();
                people.truncate(1);
                for e in participants
                    .iter()
                    .flat_map(|c| r.get(c).map(emails_in).unwrap_or_default())
                {
                    if !people.contains(&e) {
                        people.push(e);
                    }
                }
                let key = match r.get(&key) {
                    Some(k) => format!("{system}:{}", check_id(k, "key")?),
                    None => {
                        let mut sorted: Vec<&str> = people.iter().map(Email::as_str).collect();
                        sorted.sort_unstable();
                        let digest = Sha256::digest(format!(
                            "{}|{}|{}",
                            at.epoch_seconds(),
                            kind,
                            sorted.join(",")
                        ));
                        let hex: String = digest[..10].iter().map(|b| format!("{b:02x}")).collect();
                        format!("{system}:{hex}")
                    }
                };
                let refs: Vec<PersonRef> = people
                    .into_iter()
                    .filter_map(|e| {
                        out.person(
                            PersonHint {
                                email: Some(e),
                                ..Default::default()
                            },
                            pos,
                        )
                    })
                    .collect();
                let Some(&initiator) = refs.first() else {
                    return Err("no valid e-mail address in the participant columns".into());
                };
                out.interaction(ObservedInteraction {
                    key,
                    kind,
                    at,
                    initiator,
                    participants: refs,
                    in_reply_to: None,
                    source: pos.clone(),
                });
                Ok(())
            });
        }
    }
    Ok(())
}

fn parse_kind(s: &str) -> Result<InteractionKind, String> {
    let t = s.trim().to_lowercase().replace(['-', ' '], "_");
    let t = match t.as_str() {
        "e_mail" | "mail" => "email",
        "phone" | "phone_call" => "call",
        "service" | "case" => "service_case",
        other => other,
    };
    InteractionKind::parse(t).map_err(|_| {
        format!(
            "kind {:?} is not one of meeting, visit, call, email, dinner, demo, workshop, \
             service_case (map it under [kinds] in the mapping file)",
            s.trim()
        )
    })
}

#[cfg(test)]
mod tests {
    use std::fmt::Write as _;

    use super::*;

    fn fixture(name: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/ingest/crm")
            .join(name)
    }

    /// Everything observed, one line a record, file paths shortened to
    /// their name, for exact comparison.
    fn dump(o: &Observations) -> String {
        let short = |p: &SourcePos| {
            let f = p.file.rsplit('/').next().unwrap_or("").to_owned();
            format!("{f}:{}", p.line)
        };
        let who = |r: PersonRef| {
            let p = &o.people[r.0 as usize];
            p.name
                .clone()
                .or_else(|| p.emails.first().map(|e| e.to_string()))
                .or_else(|| p.external_ids.first().map(|x| x.to_string()))
                .unwrap_or_default()
        };
        let mut s = String::new();
        for g in &o.orgs {
            writeln!(
                s,
                "org {:?} ids={:?} parent={:?} industry={:?} domains={:?} ours={}",
                g.name,
                g.external_ids
                    .iter()
                    .map(|x| x.to_string())
                    .collect::<Vec<_>>(),
                g.parent.map(|p| o.orgs[p.0 as usize].name.clone()),
                g.industry,
                g.domains,
                g.is_ours
            )
            .unwrap();
        }
        for p in &o.people {
            writeln!(
                s,
                "person {:?} emails={:?} ids={:?} org={:?} title={:?} dept={:?} reports_to={:?} described={}",
                p.name,
                p.emails.iter().map(|e| e.as_str()).collect::<Vec<_>>(),
                p.external_ids.iter().map(|x| x.to_string()).collect::<Vec<_>>(),
                p.org.map(|r| o.orgs[r.0 as usize].name.clone()),
                p.title,
                p.department,
                p.reports_to.map(who),
                p.described
            )
            .unwrap();
        }
        for d in &o.opportunities {
            writeln!(
                s,
                "opportunity {} {:?} account={:?} amount={:?} stage={:?} status={} close={:?} owner={:?}",
                d.external_id,
                d.name,
                o.orgs[d.account.0 as usize].name,
                d.amount,
                d.stage,
                d.status,
                d.close_date.map(|d| d.to_string()),
                d.owner.map(who)
            )
            .unwrap();
        }
        for c in &o.deal_contacts {
            writeln!(
                s,
                "deal_contact {} {:?} role={:?}",
                c.opportunity,
                who(c.person),
                c.role.map(|r| r.as_str())
            )
            .unwrap();
        }
        for i in &o.interactions {
            writeln!(
                s,
                "interaction {} {} {} by {:?} with {:?} ({})",
                i.key,
                i.kind,
                i.at.to_rfc3339(),
                who(i.initiator),
                i.participants.iter().map(|p| who(*p)).collect::<Vec<_>>(),
                short(&i.source)
            )
            .unwrap();
        }
        for k in &o.skipped {
            writeln!(s, "skipped {}: {}", short(&k.source), k.reason).unwrap();
        }
        for f in &o.files {
            let name = f.file.rsplit('/').next().unwrap_or("");
            writeln!(s, "file {name} read={} skipped={}", f.read, f.skipped).unwrap();
        }
        s
    }

    #[test]
    fn salesforce_ids_15_and_18() {
        let id = |s| salesforce_id(s).unwrap().map(|x| x.to_string());
        assert_eq!(
            id("001A0000006Vm9r"),
            Some("salesforce:001A0000006Vm9rIAC".into())
        );
        assert_eq!(
            id("001A0000006Vm9rIAC"),
            Some("salesforce:001A0000006Vm9rIAC".into())
        );
        // Lower-cased by a case-insensitive tool: the suffix restores the case.
        assert_eq!(
            id("001a0000006vm9riac"),
            Some("salesforce:001A0000006Vm9rIAC".into())
        );
        assert_eq!(id("000000000000000AAA"), None);
        assert_eq!(id(""), None);
        assert!(
            salesforce_id("3.5E+14")
                .unwrap_err()
                .contains("scientific notation")
        );
        assert!(salesforce_id("12345").is_err());
        assert!(
            salesforce_id("0065g00000Op004AAA")
                .unwrap_err()
                .contains("checksum")
        );
    }

    #[test]
    fn salesforce_export() {
        let mut o = Observations::new();
        read_salesforce(&fixture("salesforce"), &mut o).unwrap();
        let got = dump(&o);
        assert_eq!(
            got,
            r#"org "Renmai Demo GmbH" ids=[] parent=None industry=None domains=[] ours=true
org "Acme Holding AG" ids=["salesforce:0015g00000AcmHQAAZ"] parent=None industry=Some("Manufacturing") domains=["acme-holding.example"] ours=false
org "Acme Industrie Süd GmbH" ids=["salesforce:0015g00000AcmInAAJ"] parent=Some("Acme Holding AG") industry=Some("Manufacturing") domains=["acme-sued.example"] ours=false
org "Globex Société Anonyme" ids=["salesforce:0015g00000GlbX1AAJ"] parent=None industry=Some("Energy") domains=[] ours=false
person Some("Sara Seller") emails=["sara@renmai-demo.example"] ids=["salesforce:0055g00000SaRa1AAF"] org=Some("Renmai Demo GmbH") title=Some("Account Executive") dept=Some("Sales") reports_to=None described=true
person Some("Pete Presales") emails=["pete@renmai-demo.example"] ids=["salesforce:0055g00000PeTe2AAF"] org=Some("Renmai Demo GmbH") title=Some("Solutions Engineer") dept=Some("Presales") reports_to=None described=true
person Some("Jürgen Weiß") emails=["j.weiss@acme-sued.example"] ids=["salesforce:0035g00000JuRg1AAF"] org=Some("Acme Industrie Süd GmbH") title=Some("CFO") dept=Some("Finanzen") reports_to=None described=true
person Some("Chloé Dubois") emails=["chloe.dubois@acme-sued.example"] ids=["salesforce:0035g00000ChLo2AAF"] org=Some("Acme Industrie Süd GmbH") title=Some("Leiterin IT – Infrastruktur") dept=Some("IT") reports_to=Some("Jürgen Weiß") described=true
person Some("Ana Pérez") emails=["ana.perez@globex.example"] ids=["salesforce:0035g00000AnAp3AAF"] org=Some("Globex Société Anonyme") title=Some("Directora de Compras") dept=Some("Compras") reports_to=None described=true
person None emails=[] ids=["salesforce:00Q5g00000LeAd1EAF"] org=None title=None dept=None reports_to=None described=false
opportunity salesforce:0065g00000Op001AAB "Acme Süd – Plant digitalisation" account="Acme Industrie Süd GmbH" amount=Some(1200000.0) stage=Some("Negotiation/Review") status=open close=Some("2025-06-30") owner=Some("Sara Seller")
opportunity salesforce:0065g00000Op002AAB "Globex pilot" account="Globex Société Anonyme" amount=Some(50000.0) stage=Some("Closed Won") status=won close=Some("2025-03-15") owner=Some("Sara Seller")
deal_contact salesforce:0065g00000Op001AAB "Jürgen Weiß" role=Some("economic_buyer")
deal_contact salesforce:0065g00000Op001AAB "Chloé Dubois" role=Some("technical_buyer")
deal_contact salesforce:0065g00000Op002AAB "Ana Pérez" role=Some("user_buyer")
deal_contact salesforce:0065g00000Op002AAB "salesforce:00Q5g00000LeAd1EAF" role=None
interaction salesforce:00U5g00000Ev001EAB meeting 2025-03-04T09:30:00Z by "Sara Seller" with ["Sara Seller", "Jürgen Weiß", "Chloé Dubois", "Pete Presales"] (Event.csv:2)
interaction salesforce:00U5g00000Ev002EAB visit 2025-03-10T00:00:00Z by "Sara Seller" with ["Sara Seller", "Ana Pérez"] (Event.csv:3)
interaction salesforce:00T5g00000Tk001EAB call 2025-03-05T00:00:00Z by "Sara Seller" with ["Sara Seller", "Jürgen Weiß"] (Task.csv:2)
interaction salesforce:00T5g00000Tk002EAB email 2025-03-06T10:00:00Z by "Pete Presales" with ["Pete Presales", "Chloé Dubois"] (Task.csv:3)
skipped User.csv:4: user type "PowerPartner" is not one of our people (only Standard users are)
skipped EventRelation.csv:4: 0035g00000AnAp3AAF declined the event
skipped Task.csv:4: task subtype "Task" is not a call or an e-mail (only those are interactions)
skipped Task.csv:5: an open task: the call or e-mail has not happened yet
file User.csv read=3 skipped=1
file Account.csv read=3 skipped=0
file Contact.csv read=3 skipped=0
file Opportunity.csv read=2 skipped=0
file OpportunityContactRole.csv read=4 skipped=0
file EventRelation.csv read=4 skipped=1
file Event.csv read=2 skipped=0
file Task.csv read=4 skipped=2
"#
        );
    }

    #[test]
    fn salesforce_malformed_records() {
        let mut o = Observations::new();
        read_salesforce(&fixture("salesforce-malformed"), &mut o).unwrap();
        let got = dump(&o);
        assert_eq!(
            got,
            r#"org "Acme Holding AG" ids=["salesforce:0015g00000AcmHQAAZ"] parent=None industry=None domains=[] ours=false
person Some("Jürgen Weiß") emails=["j.weiss@acme.example"] ids=["salesforce:0035g00000JuRg1AAF"] org=Some("Acme Holding AG") title=None dept=None reports_to=None described=true
person None emails=[] ids=["salesforce:0055g00000SaRa1AAF"] org=None title=None dept=None reports_to=None described=false
opportunity salesforce:0065g00000Op004AAB "Empty date marker" account="Acme Holding AG" amount=Some(100.0) stage=Some("Closed Lost") status=lost close=None owner=None
skipped Account.csv:3: Id: id "1.5E+14" was mangled by a spreadsheet (scientific notation): its digits are lost; export again and do not open the file in a spreadsheet, or format the column as text
skipped Account.csv:4: no Name
skipped Contact.csv:3: Id: "12345" is not a Salesforce id (15 or 18 letters and digits)
skipped Contact.csv:4: Email "chloe at acme" is not an address
skipped Contact.csv:5: 7 cells where the header has 6: an unquoted delimiter inside a value? (1 too many)
skipped Opportunity.csv:2: amount "lots" is not a number
skipped Opportunity.csv:3: date "2025-13-45" is not YYYY-MM-DD, YYYY-MM-DDTHH:MM:SS (with an offset or UTC) or M/D/YYYY
skipped Opportunity.csv:4: its account 0015g00000GlbX1AAJ is not in Account.csv
skipped Event.csv:2: no ActivityDateTime or ActivityDate
skipped Event.csv:3: fewer than two distinct participants
skipped Event.csv:4: Id: "00U5g00000Ev003AAA" is not a Salesforce id (its last 3 characters are not its checksum)
skipped Task.csv:2: date "yesterday" is not YYYY-MM-DD, YYYY-MM-DDTHH:MM:SS (with an offset or UTC) or M/D/YYYY
skipped Task.csv:3: no ActivityDate or CompletedDateTime
file Account.csv read=3 skipped=2
file Contact.csv read=4 skipped=3
file Opportunity.csv read=4 skipped=3
file Event.csv read=3 skipped=3
file Task.csv read=2 skipped=2
"#
        );
    }

    #[test]
    fn hubspot_folder_companies_first() {
        let mut o = Observations::new();
        read_hubspot(&fixture("hubspot"), &mut o).unwrap();
        let got = dump(&o);
        assert_eq!(
            got,
            r#"org "Initech Holdings" ids=["hubspot-company:5012345678"] parent=None industry=Some("COMPUTER_SOFTWARE") domains=["initech.example"] ours=false
org "Initech Europe" ids=["hubspot-company:5012345679"] parent=Some("Initech Holdings") industry=Some("COMPUTER_SOFTWARE") domains=["initech-eu.example"] ours=false
org "Chotchkie's Gastronomie" ids=["hubspot-company:5012345680"] parent=Some("Initech Holdings") industry=Some("RESTAURANTS") domains=[] ours=false
org "Chotchkie's Bistro" ids=[] parent=None industry=None domains=[] ours=false
person Some("Peter Gibbons") emails=["peter@initech-eu.example", "p.gibbons@mail.example"] ids=["hubspot:101"] org=Some("Initech Europe") title=Some("Software Engineer") dept=None reports_to=None described=true
person Some("Samir Nagheenanajar") emails=["samir@initech.example"] ids=["hubspot:102"] org=Some("Initech Holdings") title=Some("Software Engineer") dept=None reports_to=None described=true
person Some("Joanna Jöhnsen") emails=["joanna@chotchkies.example"] ids=["hubspot:104"] org=Some("Chotchkie's Bistro") title=Some("Server") dept=None reports_to=None described=true
skipped hubspot-crm-exports-all-companies-2025-03-01.csv:4: Record ID "5.01235E+09" was mangled by a spreadsheet (scientific notation): its digits are lost; export again and do not open the file in a spreadsheet, or format the column as text
skipped hubspot-crm-exports-all-contacts-2025-03-01.csv:4: Record ID "1.03E+02" was mangled by a spreadsheet (scientific notation): its digits are lost; export again and do not open the file in a spreadsheet, or format the column as text
skipped hubspot-crm-exports-all-contacts-2025-03-01.csv:6: no name and no valid e-mail address
file hubspot-crm-exports-all-companies-2025-03-01.csv read=4 skipped=1
file hubspot-crm-exports-all-contacts-2025-03-01.csv read=5 skipped=2
"#
        );
    }

    fn phones_of(o: &Observations, i: usize) -> Vec<(&str, Option<PhoneKind>)> {
        o.people[i]
            .phones
            .iter()
            .map(|p| (p.number.as_str(), p.kind))
            .collect()
    }

    #[test]
    fn salesforce_contact_phones_in_windows_1252() {
        let account = b"Id,Name\r\n0015g00000AcmIn,Acme Sued GmbH\r\n";
        let contact = b"Id,AccountId,LastName,FirstName,Email,Phone,MobilePhone\r\n\
0035g00000JuRg1,0015g00000AcmIn,Wei\xdf,J\xfcrgen,j.weiss@acme-sued.example,089 1234567,+49 171 2345678\r\n\
0035g00000ChLo2,0015g00000AcmIn,Dubois,Chlo\xe9,chloe@acme-sued.example,,frag J\xfcrgen\r\n";
        let mut o = Observations::new();
        o.phone_region = Some(renmai_graph::PhoneRegion::parse("DE").unwrap());
        read_salesforce_bytes(
            Path::new("sf"),
            &[("Account.csv", account), ("Contact.csv", contact)],
            &mut o,
        )
        .unwrap();
        assert_eq!(o.people[0].name.as_deref(), Some("Jürgen Weiß"));
        assert_eq!(
            phones_of(&o, 0),
            [
                ("+49891234567", Some(PhoneKind::Work)),
                ("+491712345678", Some(PhoneKind::Mobile))
            ]
        );
        assert!(o.people[1].phones.is_empty());
        assert_eq!(o.skipped.len(), 1, "{:?}", o.skipped);
        assert_eq!(o.skipped[0].source.line, 3);
        assert!(
            o.skipped[0].reason.contains("frag Jürgen"),
            "{:?}",
            o.skipped
        );
    }

    #[test]
    fn hubspot_phone_columns() {
        let csv = "Record ID,First Name,Last Name,Email,Phone Number,Mobile Phone Number\n\
                   101,Peter,Gibbons,peter@initech.example,+1 415 555 2671,+1 (415) 555-2672\n\
                   102,Samir,N,samir@initech.example,TBD,\n";
        let mut o = Observations::new();
        read_hubspot_bytes(Arc::from("contacts.csv"), csv.as_bytes(), &mut o).unwrap();
        assert_eq!(
            phones_of(&o, 0),
            [
                ("+14155552671", None),
                ("+14155552672", Some(PhoneKind::Mobile))
            ]
        );
        assert_eq!(o.skipped.len(), 1, "{:?}", o.skipped);
        assert!(o.skipped[0].reason.contains("\"TBD\""));
    }

    #[test]
    fn mapped_phone_columns() {
        let csv = "Name,Firma,Telefon,Handy\n\
                   Jürgen Weiß,Acme,+49 89 1234567,+49 171 2345678; +49 171 2345679\n\
                   Ana Pérez,Globex,,kaputt\n";
        let mapping = "rows = \"people\"\ndelimiter = \",\"\n[columns]\nname = \"Name\"\norg = \"Firma\"\nphone = [\"Telefon\", \"Handy\"]\n";
        let mut o = Observations::new();
        read_mapped_csv_bytes(
            Arc::from("k.csv"),
            csv.as_bytes(),
            Arc::from("k.toml"),
            mapping.as_bytes(),
            &mut o,
        )
        .unwrap();
        assert_eq!(
            phones_of(&o, 0),
            [
                ("+49891234567", None),
                ("+491712345678", None),
                ("+491712345679", None)
            ]
        );
        assert!(o.people[1].phones.is_empty());
        assert_eq!(o.skipped.len(), 1, "{:?}", o.skipped);
        assert!(o.skipped[0].reason.contains("\"kaputt\""));
    }

    #[test]
    fn mapped_people() {
        let mut o = Observations::new();
        read_mapped_csv(
            &fixture("mapped/kontakte.csv"),
            &fixture("mapped/kontakte.toml"),
            &mut o,
        )
        .unwrap();
        let got = dump(&o);
        assert_eq!(
            got,
            r#"org "Acme Industrie Süd GmbH" ids=[] parent=None industry=None domains=[] ours=false
person Some("Jürgen Weiß") emails=["j.weiss@acme-sued.example", "jw@mail.example"] ids=["erp:K-1001"] org=Some("Acme Industrie Süd GmbH") title=Some("CFO") dept=Some("Finanzen") reports_to=None described=true
skipped kontakte.csv:3: no name and no valid e-mail address
skipped kontakte.csv:4: external id "3,5E+14" was mangled by a spreadsheet (scientific notation): its digits are lost; export again and do not open the file in a spreadsheet, or format the column as text
file kontakte.csv read=3 skipped=2
"#
        );
    }

    #[test]
    fn mapped_interactions() {
        let mut o = Observations::new();
        read_mapped_csv(
            &fixture("mapped/anrufe.csv"),
            &fixture("mapped/anrufe.toml"),
            &mut o,
        )
        .unwrap();
        let got = dump(&o);
        assert_eq!(
            got,
            r#"person None emails=["sara@renmai-demo.example"] ids=[] org=None title=None dept=None reports_to=None described=false
person None emails=["j.weiss@acme-sued.example"] ids=[] org=None title=None dept=None reports_to=None described=false
person None emails=["chloe@acme-sued.example"] ids=[] org=None title=None dept=None reports_to=None described=false
person None emails=["pete@renmai-demo.example"] ids=[] org=None title=None dept=None reports_to=None described=false
interaction calllog:A-1 call 2025-03-04T09:30:00Z by "sara@renmai-demo.example" with ["sara@renmai-demo.example", "j.weiss@acme-sued.example"] (anrufe.csv:2)
interaction calllog:1aea069ab7d14c0719ef visit 2025-03-05T14:00:00Z by "sara@renmai-demo.example" with ["sara@renmai-demo.example", "j.weiss@acme-sued.example", "chloe@acme-sued.example", "pete@renmai-demo.example"] (anrufe.csv:3)
skipped anrufe.csv:4: date "2025-03-06" does not match the format "%d.%m.%Y %H:%M"
skipped anrufe.csv:5: kind "Brieftaube" is not one of meeting, visit, call, email, dinner, demo, workshop, service_case (map it under [kinds] in the mapping file)
skipped anrufe.csv:6: fewer than two distinct participants
skipped anrufe.csv:7: no time
file anrufe.csv read=6 skipped=4
"#
        );
    }

    #[test]
    fn unreadable_files_name_the_reason() {
        let mut o = Observations::new();
        let err = read_mapped_csv(
            &fixture("mapped/anrufe.csv"),
            &fixture("mapped/bad-mapping.toml"),
            &mut o,
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.ends_with(
                "anrufe.csv: it has no column \"Empfänger\"; the columns found are: \
                 \"Vorgang\", \"Datum\", \"Art\", \"Von\", \"An\", \"Cc\""
            ),
            "{err}"
        );
        let dir = tempfile::tempdir().unwrap();
        let typo = dir.path().join("typo.toml");
        std::fs::write(&typo, "rows = \"people\"\n[columns]\nmail = \"E-Mail\"\n").unwrap();
        let err = read_mapped_csv(&fixture("mapped/kontakte.csv"), &typo, &mut o)
            .unwrap_err()
            .to_string();
        assert!(err.contains("not a valid mapping file: "), "{err}");
        assert!(err.contains("unknown field `mail`"), "{err}");

        let err = read_salesforce(&fixture("hubspot"), &mut o)
            .unwrap_err()
            .to_string();
        assert!(
            err.ends_with(
                "not a Salesforce data export: it has no Account.csv, Contact.csv or User.csv"
            ),
            "{err}"
        );
        std::fs::write(dir.path().join("Contact.csv"), "AccountId,LastName\r\n").unwrap();
        let err = read_salesforce(dir.path(), &mut o).unwrap_err().to_string();
        assert!(
            err.ends_with(
                "Contact.csv: it has no column \"Id\"; the columns found are: \
                 \"AccountId\", \"LastName\""
            ),
            "{err}"
        );
        std::fs::write(
            dir.path().join("Contact.csv"),
            b"Id,LastName\n\x00\x01\x02\xff\xfe",
        )
        .unwrap();
        assert!(read_salesforce(dir.path(), &mut o).is_err());
        let err = read_hubspot(&fixture("mapped/kontakte.csv"), &mut o)
            .unwrap_err()
            .to_string();
        assert!(err.contains("neither a HubSpot contacts export"), "{err}");
    }

    #[test]
    fn no_panic_on_odd_csv() {
        let dir = tempfile::tempdir().unwrap();
        let inputs: [&[u8]; 6] = [
            b"",
            b"\"",
            b"Id,Name\n\"unterminated",
            b"Id\n001A0000006Vm9r\n\n\n",
            b"Id,Name,ParentId\n001A0000006Vm9rIAC,A,001A0000006Vm9rIAC\n",
            "Id,OwnerId,WhoId,ActivityDate,TaskSubtype\n\u{feff},,,,\n".as_bytes(),
        ];
        for bytes in inputs {
            for name in [
                "Account.csv",
                "Contact.csv",
                "User.csv",
                "Event.csv",
                "Task.csv",
            ] {
                std::fs::write(dir.path().join(name), bytes).unwrap();
            }
            let mut o = Observations::new();
            let _ = read_salesforce(dir.path(), &mut o);
            let _ = read_hubspot(&dir.path().join("Account.csv"), &mut o);
        }
    }
}
