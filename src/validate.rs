//! Checks a bundle as a whole before anything is written: duplicate ids,
//! references to records that exist neither in the bundle nor in the store,
//! cycles in the organization tree and the reporting lines.
//!
//! Store-agnostic: a store answers [`ExistingRefs`] for the ids the bundle
//! refers to but does not define, then this module decides.

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use std::fmt;

use renmai_graph::{Interaction, OpportunityId, OrgId, PersonId};

use crate::bundle::Bundle;

/// Where a record came from: a file and a line (CSV) or a JSON pointer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    pub file: String,
    /// 1-based line for CSV; 0 when unknown.
    pub line: u64,
    /// JSON pointer or other path inside the file, when there is one.
    pub path: Option<String>,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if self.line > 0 {
            write!(f, ":{}", self.line)?;
        }
        if let Some(p) = &self.path {
            write!(f, " at {p}")?;
        }
        Ok(())
    }
}

/// Where the records of one kind came from, in bundle order, kept compactly:
/// a CSV file's name once and a line number per record (a million
/// interactions would otherwise hold a million copies of the file name), or
/// JSON pointers made only when an error names one.
#[derive(Debug, Clone, Default)]
pub struct Locations(Repr);

#[derive(Debug, Clone, Default)]
enum Repr {
    #[default]
    Unknown,
    Lines {
        file: String,
        lines: Vec<u64>,
    },
    Pointers {
        file: String,
        kind: &'static str,
        len: usize,
    },
}

impl Locations {
    /// Records read from the lines of one file; add them with [`Self::push_line`].
    pub fn in_file(file: impl Into<String>) -> Locations {
        Locations(Repr::Lines {
            file: file.into(),
            lines: Vec::new(),
        })
    }

    /// `len` records at JSON pointers `/{kind}/{index}` of `file`.
    pub fn pointers(file: impl Into<String>, kind: &'static str, len: usize) -> Locations {
        Locations(Repr::Pointers {
            file: file.into(),
            kind,
            len,
        })
    }

    /// The next record is at `line` of the file given to [`Self::in_file`].
    pub fn push_line(&mut self, line: u64) {
        match &mut self.0 {
            Repr::Lines { lines, .. } => lines.push(line),
            other => {
                *other = Repr::Lines {
                    file: "input".into(),
                    lines: vec![line],
                }
            }
        }
    }

    /// Adds the lines of further records, in order.
    pub fn extend_lines(&mut self, more: impl IntoIterator<Item = u64>) {
        for line in more {
            self.push_line(line);
        }
    }

    pub fn len(&self) -> usize {
        match &self.0 {
            Repr::Unknown => 0,
            Repr::Lines { lines, .. } => lines.len(),
            Repr::Pointers { len, .. } => *len,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Where record `i` came from ("input" when nobody said).
    pub fn get(&self, i: usize) -> Location {
        match &self.0 {
            Repr::Lines { file, lines } if i < lines.len() => Location {
                file: file.clone(),
                line: lines[i],
                path: None,
            },
            Repr::Pointers { file, kind, len } if i < *len => Location {
                file: file.clone(),
                line: 0,
                path: Some(format!("/{kind}/{i}")),
            },
            _ => Location {
                file: "input".into(),
                line: 0,
                path: None,
            },
        }
    }
}

/// Where each record of a bundle came from, kind by kind, in bundle order.
#[derive(Debug, Clone, Default)]
pub struct SourceMap {
    pub organizations: Locations,
    pub people: Locations,
    pub account_team: Locations,
    pub interactions: Locations,
    pub influences: Locations,
    pub assessments: Locations,
    pub opportunities: Locations,
    pub opportunity_contacts: Locations,
    pub opportunity_stages: Locations,
    /// Where the bundle came from and who is writing it, recorded with
    /// every fact it stores.
    pub provenance: crate::privacy::Provenance,
}

impl SourceMap {
    /// Locations for a bundle built in code (API, forms, demo) or read from
    /// JSON: the JSON pointer of each record under a named source.
    pub fn synthetic(source: &str, bundle: &Bundle) -> SourceMap {
        let make = |kind: &'static str, n: usize| Locations::pointers(source, kind, n);
        SourceMap {
            organizations: make("organizations", bundle.organizations.len()),
            people: make("people", bundle.people.len()),
            account_team: make("account_team", bundle.account_team.len()),
            interactions: make("interactions", bundle.interactions.len()),
            influences: make("influences", bundle.influences.len()),
            assessments: make("assessments", bundle.assessments.len()),
            opportunities: make("opportunities", bundle.opportunities.len()),
            opportunity_contacts: make("opportunity_contacts", bundle.opportunity_contacts.len()),
            opportunity_stages: make("opportunity_stages", bundle.opportunity_stages.len()),
            provenance: crate::privacy::Provenance::new(source, "unknown"),
        }
    }

    /// The same map, recording `provenance` with what it stores.
    pub fn with_provenance(mut self, provenance: crate::privacy::Provenance) -> SourceMap {
        self.provenance = provenance;
        self
    }
}

fn at(v: &Locations, i: usize) -> Location {
    v.get(i)
}

/// One problem with one field of one record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordError {
    pub location: Location,
    pub field: String,
    pub value: String,
    pub expected: String,
}

impl fmt::Display for RecordError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: field `{}`: got {:?}, expected {}",
            self.location, self.field, self.value, self.expected
        )
    }
}

/// What a store knows of an organization the bundle refers to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExistingOrg {
    pub parent: Option<OrgId>,
    pub is_ours: bool,
}

/// What a store knows of a person the bundle refers to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExistingPerson {
    pub org: OrgId,
    pub reports_to: Option<PersonId>,
}

/// The stored records a bundle refers to, as far as they exist.
#[derive(Debug, Clone, Default)]
pub struct ExistingRefs {
    pub orgs: HashMap<OrgId, ExistingOrg>,
    pub people: HashMap<PersonId, ExistingPerson>,
    pub opportunities: HashSet<OpportunityId>,
    /// Org ids asked for and found missing, so we do not ask again.
    pub missing_orgs: HashSet<OrgId>,
    pub missing_people: HashSet<PersonId>,
    pub missing_opportunities: HashSet<OpportunityId>,
}

/// Ids a store must look up before [`validate`] can decide.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Wanted {
    pub orgs: Vec<OrgId>,
    pub people: Vec<PersonId>,
    pub opportunities: Vec<OpportunityId>,
}

impl Wanted {
    pub fn is_empty(&self) -> bool {
        self.orgs.is_empty() && self.people.is_empty() && self.opportunities.is_empty()
    }
}

/// The ids the bundle refers to but does not define and that `known` does
/// not answer yet, including the ancestors of known records (to find cycles).
/// Stores call this in a loop, fetching what it asks, until it is empty.
pub fn wanted(bundle: &Bundle, known: &ExistingRefs) -> Wanted {
    let org_ids: HashSet<&OrgId> = bundle.organizations.iter().map(|o| &o.id).collect();
    let person_ids: HashSet<&PersonId> = bundle.people.iter().map(|p| &p.id).collect();
    let opp_ids: HashSet<&OpportunityId> = bundle.opportunities.iter().map(|o| &o.id).collect();
    let mut orgs: HashSet<OrgId> = HashSet::default();
    let mut people: HashSet<PersonId> = HashSet::default();
    let mut opps: HashSet<OpportunityId> = HashSet::default();

    let mut want_org = |id: &OrgId| {
        if !org_ids.contains(id) && !known.orgs.contains_key(id) && !known.missing_orgs.contains(id)
        {
            orgs.insert(id.clone());
        }
    };
    for o in &bundle.organizations {
        if let Some(p) = &o.parent {
            want_org(p);
        }
    }
    for p in &bundle.people {
        want_org(&p.org);
    }
    for t in &bundle.account_team {
        want_org(&t.org);
    }
    for o in &bundle.opportunities {
        want_org(&o.account);
    }
    for e in known.orgs.values() {
        if let Some(p) = &e.parent {
            want_org(p);
        }
    }

    let mut want_person = |id: &PersonId| {
        if !person_ids.contains(id)
            && !known.people.contains_key(id)
            && !known.missing_people.contains(id)
        {
            people.insert(id.clone());
        }
    };
    for p in &bundle.people {
        if let Some(m) = &p.reports_to {
            want_person(m);
        }
    }
    for t in &bundle.account_team {
        want_person(&t.person);
    }
    for i in &bundle.interactions {
        for p in &i.participants {
            want_person(p);
        }
    }
    for i in &bundle.influences {
        want_person(&i.from);
        want_person(&i.to);
    }
    for a in &bundle.assessments {
        want_person(&a.from);
        want_person(&a.to);
        if let Some(b) = &a.by {
            want_person(b);
        }
    }
    for o in &bundle.opportunities {
        if let Some(p) = &o.owner {
            want_person(p);
        }
    }
    for c in &bundle.opportunity_contacts {
        want_person(&c.person);
        if !opp_ids.contains(&c.opportunity)
            && !known.opportunities.contains(&c.opportunity)
            && !known.missing_opportunities.contains(&c.opportunity)
        {
            opps.insert(c.opportunity.clone());
        }
    }
    for s in &bundle.opportunity_stages {
        if !opp_ids.contains(&s.opportunity)
            && !known.opportunities.contains(&s.opportunity)
            && !known.missing_opportunities.contains(&s.opportunity)
        {
            opps.insert(s.opportunity.clone());
        }
    }
    for e in known.people.values() {
        if let Some(m) = &e.reports_to {
            want_person(m);
        }
    }
    // The people we know of need their organizations known too (team members
    // must be ours).
    let person_orgs: Vec<OrgId> = known.people.values().map(|p| p.org.clone()).collect();
    let mut orgs2: HashSet<OrgId> = orgs;
    for o in person_orgs {
        if !org_ids.contains(&o) && !known.orgs.contains_key(&o) && !known.missing_orgs.contains(&o)
        {
            orgs2.insert(o);
        }
    }
    let mut w = Wanted {
        orgs: orgs2.into_iter().collect(),
        people: people.into_iter().collect(),
        opportunities: opps.into_iter().collect(),
    };
    w.orgs.sort();
    w.people.sort();
    w.opportunities.sort();
    w
}

/// A competitor name survives the CSV form (`;`-separated) unchanged.
fn competitor_name_ok(c: &str) -> bool {
    !c.is_empty()
        && c.trim() == c
        && c.chars().count() <= 200
        && !c.chars().any(|ch| ch == ';' || ch.is_control())
}

/// True when an interaction has two to eight distinct participants, its
/// initiator among them: [`Interaction::validate`] without its allocation,
/// for the million rows of a big import. False means "run the full check".
fn participants_look_right(x: &Interaction) -> bool {
    let p = &x.participants;
    (2..=8).contains(&p.len())
        && p.contains(&x.initiator)
        && p.iter()
            .enumerate()
            .all(|(k, a)| p[k + 1..].iter().all(|b| a != b))
}

/// At most this many errors are reported for one import; the rest are counted.
pub const MAX_REPORTED_ERRORS: usize = 50;

/// All the problems of a bundle, or `Ok` if it can be written as a whole.
pub fn validate(
    bundle: &Bundle,
    src: &SourceMap,
    known: &ExistingRefs,
) -> Result<(), Vec<RecordError>> {
    let mut errs: Vec<RecordError> = Vec::new();
    let mut push = |loc: Location, field: &str, value: &str, expected: String| {
        errs.push(RecordError {
            location: loc,
            field: field.to_owned(),
            value: value.to_owned(),
            expected,
        });
    };

    // Duplicate ids inside the bundle.
    let mut org_of: HashMap<&OrgId, (Option<&OrgId>, bool)> = HashMap::default();
    for (i, o) in bundle.organizations.iter().enumerate() {
        if org_of
            .insert(&o.id, (o.parent.as_ref(), o.is_ours))
            .is_some()
        {
            push(
                at(&src.organizations, i),
                "org_id",
                o.id.as_str(),
                "an id not already used in this import".into(),
            );
        }
    }
    let mut person_of: HashMap<&PersonId, (&OrgId, Option<&PersonId>)> = HashMap::default();
    let mut emails: HashMap<&str, &PersonId> = HashMap::default();
    for (i, p) in bundle.people.iter().enumerate() {
        if person_of
            .insert(&p.id, (&p.org, p.reports_to.as_ref()))
            .is_some()
        {
            push(
                at(&src.people, i),
                "person_id",
                p.id.as_str(),
                "an id not already used in this import".into(),
            );
        }
        for e in &p.emails {
            if let Some(other) = emails.insert(e.as_str(), &p.id)
                && other != &p.id
            {
                push(
                    at(&src.people, i),
                    "emails",
                    e.as_str(),
                    format!("an e-mail not already given to person {other}"),
                );
            }
        }
    }
    let mut interaction_ids = HashSet::default();
    interaction_ids.reserve(bundle.interactions.len());
    for (i, x) in bundle.interactions.iter().enumerate() {
        if !interaction_ids.insert(&x.id) {
            push(
                at(&src.interactions, i),
                "interaction_id",
                x.id.as_str(),
                "an id not already used in this import".into(),
            );
        }
    }
    let mut opp_ids = HashSet::default();
    for (i, o) in bundle.opportunities.iter().enumerate() {
        if !opp_ids.insert(&o.id) {
            push(
                at(&src.opportunities, i),
                "opportunity_id",
                o.id.as_str(),
                "an id not already used in this import".into(),
            );
        }
    }
    let mut team_pairs = HashSet::default();
    for (i, t) in bundle.account_team.iter().enumerate() {
        if !team_pairs.insert((&t.org, &t.person)) {
            push(
                at(&src.account_team, i),
                "person_id",
                t.person.as_str(),
                format!(
                    "one row per seller and account; {} is already on {}",
                    t.person, t.org
                ),
            );
        }
    }
    let mut influence_pairs = HashSet::default();
    for (i, x) in bundle.influences.iter().enumerate() {
        if !influence_pairs.insert((&x.from, &x.to)) {
            push(
                at(&src.influences, i),
                "influenced_id",
                x.to.as_str(),
                format!(
                    "one influence line per ordered pair; {} → {} is already given",
                    x.from, x.to
                ),
            );
        }
    }

    let org_exists = |id: &OrgId| org_of.contains_key(id) || known.orgs.contains_key(id);
    let org_is_ours = |id: &OrgId| {
        org_of
            .get(id)
            .map(|o| o.1)
            .or_else(|| known.orgs.get(id).map(|o| o.is_ours))
    };
    let person_org = |id: &PersonId| -> Option<OrgId> {
        person_of
            .get(id)
            .map(|p| p.0.clone())
            .or_else(|| known.people.get(id).map(|p| p.org.clone()))
    };
    let no_person = |id: &PersonId| {
        format!("the id of a person in this import or already stored (no person {id})")
    };

    for (i, o) in bundle.organizations.iter().enumerate() {
        if let Some(p) = &o.parent
            && !org_exists(p)
        {
            push(
                at(&src.organizations, i),
                "parent",
                p.as_str(),
                format!(
                    "the id of an organization in this import or already stored (no organization {p})"
                ),
            );
        }
        if o.name.trim().is_empty() {
            push(
                at(&src.organizations, i),
                "name",
                &o.name,
                "a non-empty name".into(),
            );
        }
    }
    // Cycles in the organization tree: report each organization on a cycle.
    let parent_of = |id: &OrgId| -> Option<OrgId> {
        org_of
            .get(id)
            .map(|p| p.0.cloned())
            .or_else(|| known.orgs.get(id).map(|e| e.parent.clone()))
            .flatten()
    };
    for (i, o) in bundle.organizations.iter().enumerate() {
        let mut seen = HashSet::from_iter([o.id.clone()]);
        let mut cur = o.parent.clone();
        while let Some(c) = cur {
            if !seen.insert(c.clone()) {
                if c == o.id {
                    let parent = o.parent.as_ref().map(|p| p.as_str()).unwrap_or("");
                    push(
                        at(&src.organizations, i),
                        "parent",
                        parent,
                        format!(
                            "an organization tree without cycles; {} is its own ancestor",
                            o.id
                        ),
                    );
                }
                break;
            }
            cur = parent_of(&c);
        }
    }

    for (i, p) in bundle.people.iter().enumerate() {
        if !org_exists(&p.org) {
            push(
                at(&src.people, i),
                "org_id",
                p.org.as_str(),
                format!(
                    "the id of an organization in this import or already stored (no organization {})",
                    p.org
                ),
            );
        }
        if p.name.trim().is_empty() {
            push(
                at(&src.people, i),
                "name",
                &p.name,
                "a non-empty name".into(),
            );
        }
        if let Some(m) = &p.reports_to {
            if m == &p.id {
                push(
                    at(&src.people, i),
                    "reports_to",
                    m.as_str(),
                    "a manager other than the person".into(),
                );
            } else if let Some(morg) = person_org(m) {
                if morg != p.org {
                    push(
                        at(&src.people, i),
                        "reports_to",
                        m.as_str(),
                        format!(
                            "a manager in the same organization ({}), not in {morg}",
                            p.org
                        ),
                    );
                }
            } else {
                push(at(&src.people, i), "reports_to", m.as_str(), no_person(m));
            }
        }
    }
    // Cycles in reporting lines.
    let manager_of = |id: &PersonId| -> Option<PersonId> {
        person_of
            .get(id)
            .map(|p| p.1.cloned())
            .or_else(|| known.people.get(id).map(|e| e.reports_to.clone()))
            .flatten()
    };
    for (i, p) in bundle.people.iter().enumerate() {
        let mut seen = HashSet::from_iter([p.id.clone()]);
        let mut cur = p.reports_to.clone().filter(|m| m != &p.id);
        while let Some(c) = cur {
            if !seen.insert(c.clone()) {
                if c == p.id {
                    let boss = p.reports_to.as_ref().map(|m| m.as_str()).unwrap_or("");
                    push(
                        at(&src.people, i),
                        "reports_to",
                        boss,
                        format!(
                            "reporting lines without cycles; {} reports (indirectly) to themself",
                            p.id
                        ),
                    );
                }
                break;
            }
            cur = manager_of(&c);
        }
    }

    for (i, t) in bundle.account_team.iter().enumerate() {
        match org_is_ours(&t.org) {
            None => push(
                at(&src.account_team, i),
                "org_id",
                t.org.as_str(),
                format!(
                    "the id of an organization in this import or already stored (no organization {})",
                    t.org
                ),
            ),
            Some(true) => push(
                at(&src.account_team, i),
                "org_id",
                t.org.as_str(),
                "a customer account, not our own company".into(),
            ),
            Some(false) => {}
        }
        match person_org(&t.person) {
            None => push(
                at(&src.account_team, i),
                "person_id",
                t.person.as_str(),
                no_person(&t.person),
            ),
            Some(o) if org_is_ours(&o) != Some(true) => push(
                at(&src.account_team, i),
                "person_id",
                t.person.as_str(),
                format!("one of our people; {} works at {o}", t.person),
            ),
            Some(_) => {}
        }
    }

    let person_exists = |id: &PersonId| person_of.contains_key(id) || known.people.contains_key(id);
    for (i, x) in bundle.interactions.iter().enumerate() {
        // The common case passes without the allocating full check, which
        // then only runs to name the problem.
        if !participants_look_right(x)
            && let Err(e) = x.validate()
        {
            let field = if e.to_string().starts_with("initiator") {
                "from_person"
            } else {
                "participants"
            };
            push(
                at(&src.interactions, i),
                field,
                x.initiator.as_str(),
                e.to_string(),
            );
        }
        for p in &x.participants {
            if !person_exists(p) {
                push(
                    at(&src.interactions, i),
                    "participants",
                    p.as_str(),
                    no_person(p),
                );
            }
        }
    }

    for (i, x) in bundle.influences.iter().enumerate() {
        for (field, p) in [("influencer_id", &x.from), ("influenced_id", &x.to)] {
            if person_org(p).is_none() {
                push(at(&src.influences, i), field, p.as_str(), no_person(p));
            }
        }
        if x.from == x.to {
            push(
                at(&src.influences, i),
                "influenced_id",
                x.to.as_str(),
                "someone other than the influencer".into(),
            );
        }
    }

    for (i, a) in bundle.assessments.iter().enumerate() {
        for (field, p) in [
            ("from_person", Some(&a.from)),
            ("to_person", Some(&a.to)),
            ("by_person", a.by.as_ref()),
        ] {
            if let Some(p) = p
                && person_org(p).is_none()
            {
                push(at(&src.assessments, i), field, p.as_str(), no_person(p));
            }
        }
        if a.from == a.to {
            push(
                at(&src.assessments, i),
                "to_person",
                a.to.as_str(),
                "someone other than from_person".into(),
            );
        }
    }

    for (i, o) in bundle.opportunities.iter().enumerate() {
        if !org_exists(&o.account) {
            push(
                at(&src.opportunities, i),
                "account_id",
                o.account.as_str(),
                format!(
                    "the id of an organization in this import or already stored (no organization {})",
                    o.account
                ),
            );
        }
        if let Some(p) = &o.owner
            && person_org(p).is_none()
        {
            push(
                at(&src.opportunities, i),
                "owner_id",
                p.as_str(),
                no_person(p),
            );
        }
        if let Some(a) = o.amount
            && (!a.is_finite() || a < 0.0)
        {
            push(
                at(&src.opportunities, i),
                "amount",
                &a.to_string(),
                "a non-negative amount".into(),
            );
        }
        if let Some(c) = o.competitors.iter().find(|c| !competitor_name_ok(c)) {
            push(
                at(&src.opportunities, i),
                "competitors",
                c,
                "competitor names of 1 to 200 characters, without ';', surrounding spaces or control characters".into(),
            );
        }
    }
    let mut stage_keys = HashSet::default();
    for (i, s) in bundle.opportunity_stages.iter().enumerate() {
        if !stage_keys.insert((&s.opportunity, s.at)) {
            push(
                at(&src.opportunity_stages, i),
                "at",
                &s.at.to_rfc3339(),
                format!(
                    "one stage change of {} per instant; this instant is given twice",
                    s.opportunity
                ),
            );
        }
        if s.stage.trim().is_empty() || s.stage.trim() != s.stage || s.stage.chars().count() > 200 {
            push(
                at(&src.opportunity_stages, i),
                "stage",
                &s.stage,
                "a stage name of 1 to 200 characters without surrounding spaces".into(),
            );
        }
        if !opp_ids.contains(&s.opportunity) && !known.opportunities.contains(&s.opportunity) {
            push(
                at(&src.opportunity_stages, i),
                "opportunity_id",
                s.opportunity.as_str(),
                format!(
                    "the id of an opportunity in this import or already stored (no opportunity {})",
                    s.opportunity
                ),
            );
        }
    }
    let mut contact_keys = HashSet::default();
    for (i, c) in bundle.opportunity_contacts.iter().enumerate() {
        if !contact_keys.insert((&c.opportunity, &c.person, c.at)) {
            push(
                at(&src.opportunity_contacts, i),
                "assessed_at",
                &c.at.map(|t| t.to_rfc3339()).unwrap_or_default(),
                format!(
                    "one assessment of {} on {} per date; this date is given twice",
                    c.person, c.opportunity
                ),
            );
        }
        if !opp_ids.contains(&c.opportunity) && !known.opportunities.contains(&c.opportunity) {
            push(
                at(&src.opportunity_contacts, i),
                "opportunity_id",
                c.opportunity.as_str(),
                format!(
                    "the id of an opportunity in this import or already stored (no opportunity {})",
                    c.opportunity
                ),
            );
        }
        if person_org(&c.person).is_none() {
            push(
                at(&src.opportunity_contacts, i),
                "person_id",
                c.person.as_str(),
                no_person(&c.person),
            );
        }
    }

    if errs.is_empty() { Ok(()) } else { Err(errs) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use renmai_graph::*;

    fn org(id: &str, parent: Option<&str>, ours: bool) -> Organization {
        Organization {
            id: OrgId::parse(id).unwrap(),
            name: format!("Org {id}"),
            industry: None,
            region: None,
            tier: None,
            is_ours: ours,
            parent: parent.map(|p| OrgId::parse(p).unwrap()),
        }
    }

    fn person(id: &str, org: &str, boss: Option<&str>) -> Person {
        Person {
            id: PersonId::parse(id).unwrap(),
            org: OrgId::parse(org).unwrap(),
            name: format!("P {id}"),
            title: None,
            department: None,
            level: Level::UNKNOWN,
            emails: vec![],
            external_ids: vec![],
            phones: vec![],
            reports_to: boss.map(|b| PersonId::parse(b).unwrap()),
            role: None,
            attitude: None,
        }
    }

    fn check(b: &Bundle) -> Result<(), Vec<RecordError>> {
        validate(b, &SourceMap::synthetic("t", b), &ExistingRefs::default())
    }

    #[test]
    fn org_cycle_is_found() {
        let b = Bundle {
            organizations: vec![org("a", Some("b"), false), org("b", Some("a"), false)],
            ..Default::default()
        };
        let errs = check(&b).unwrap_err();
        assert!(
            errs.iter().any(|e| e.expected.contains("without cycles")),
            "{errs:?}"
        );
    }

    #[test]
    fn reporting_cycle_is_found() {
        let b = Bundle {
            organizations: vec![org("a", None, false)],
            people: vec![person("1", "a", Some("2")), person("2", "a", Some("1"))],
            ..Default::default()
        };
        let errs = check(&b).unwrap_err();
        assert!(
            errs.iter()
                .any(|e| e.field == "reports_to" && e.expected.contains("cycles")),
            "{errs:?}"
        );
    }

    #[test]
    fn missing_refs_are_wanted_then_reported() {
        let b = Bundle {
            people: vec![person("1", "zz", None)],
            ..Default::default()
        };
        let w = wanted(&b, &ExistingRefs::default());
        assert_eq!(w.orgs, vec![OrgId::parse("zz").unwrap()]);
        let mut known = ExistingRefs::default();
        known.missing_orgs.insert(OrgId::parse("zz").unwrap());
        assert!(wanted(&b, &known).is_empty());
        let errs = validate(&b, &SourceMap::synthetic("t", &b), &known).unwrap_err();
        assert_eq!(errs[0].field, "org_id");
        assert!(errs[0].expected.contains("no organization zz"));
    }

    #[test]
    fn known_refs_satisfy() {
        let b = Bundle {
            people: vec![person("1", "zz", Some("9"))],
            ..Default::default()
        };
        let mut known = ExistingRefs::default();
        known.orgs.insert(
            OrgId::parse("zz").unwrap(),
            ExistingOrg {
                parent: None,
                is_ours: false,
            },
        );
        known.people.insert(
            PersonId::parse("9").unwrap(),
            ExistingPerson {
                org: OrgId::parse("zz").unwrap(),
                reports_to: None,
            },
        );
        assert!(validate(&b, &SourceMap::synthetic("t", &b), &known).is_ok());
    }
}
