//! Identity resolution: one person, many handles. What the readers observed
//! is matched against the people and organizations already stored, and the
//! result is a [`Bundle`] for the store's ordinary, all-or-nothing import.
//!
//! A person is the same stored person when
//! 1. one of their e-mail addresses is stored for that person (normalized:
//!    lower case; for Gmail also without dots and `+tags`), or
//! 2. one of their CRM ids is, or
//! 3. their name, normalized, equals a stored person's name at the same
//!    organization (confidence 0.9: two people of one name at one company
//!    exist but are rare, and CRM-less sources offer nothing better).
//!
//! A name that only nearly matches (initials, `Last, First`, accents) is
//! not merged: the new person is created and the pair goes to the review
//! list (`renmai people review`), where a person decides.
//!
//! Organizations: by external id (the id renmai gives an organization read
//! from a CRM is derived from it), by normalized name (legal suffixes such
//! as Inc. or GmbH ignored), or through the e-mail domain of its people:
//! configured domains first, then domains that (almost) only one stored
//! organization's people use. Free-mail domains never name an organization.

use std::collections::{BTreeMap, HashMap, HashSet};

use renmai_graph::{
    Email, ExternalId, Interaction, InteractionId, Level, Opportunity, OpportunityContact,
    OpportunityId, OrgId, Organization, Person, PersonId, Phone,
};
use sha2::{Digest, Sha256};

use super::{Observations, ObservedPerson, OrgRef, PersonRef, Skipped};
use crate::bundle::Bundle;

/// What the resolver needs to know of the store: every organization and
/// person, without their interactions.
#[derive(Debug, Clone, Default)]
pub struct Directory {
    pub orgs: Vec<Organization>,
    pub people: Vec<Person>,
}

/// Settings of identity resolution (`[ingest]` in renmai.toml).
#[derive(Debug, Clone, Default)]
pub struct ResolveOptions {
    /// Our own e-mail domains: their people belong to our company.
    pub our_domains: Vec<String>,
    /// Domains pinned to an organization, overriding what is inferred.
    pub domain_orgs: BTreeMap<String, OrgId>,
    /// The country of national phone numbers (`default_phone_region`).
    pub phone_region: Option<renmai_graph::PhoneRegion>,
}

/// How sure the resolver is that two handles are one person.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum MatchBasis {
    Email,
    ExternalId,
    NameAtOrg,
}

/// A possible merge nobody has decided yet: `new` was created by this
/// import, `existing` may be the same person.
#[derive(Debug, Clone, PartialEq)]
pub struct MergeCandidate {
    pub existing: PersonId,
    pub new: PersonId,
    pub confidence: f64,
    pub reason: String,
}

/// Counts for the import's closing summary.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ResolveSummary {
    pub people_new: usize,
    pub people_matched_by_email: usize,
    pub people_matched_by_external_id: usize,
    pub people_matched_by_name: usize,
    pub people_updated: usize,
    /// Seen only with a free-mail or unknown address and no organization.
    pub people_unplaced: usize,
    pub orgs_new: usize,
    pub orgs_matched: usize,
    pub interactions: usize,
    /// The same source key seen twice in this import (e.g. one Message-ID in
    /// two mailboxes): counted once.
    pub interactions_duplicate: usize,
}

/// The outcome: a bundle to import, what was left out and why, and merges
/// to review.
#[derive(Debug, Default)]
pub struct Resolution {
    pub bundle: Bundle,
    pub summary: ResolveSummary,
    pub skipped: Vec<Skipped>,
    pub review: Vec<MergeCandidate>,
}

/// Domains of free e-mail providers: an address there says nothing about
/// the person's employer.
const FREE_MAIL: &[&str] = &[
    "gmail.com",
    "googlemail.com",
    "yahoo.com",
    "yahoo.co.uk",
    "yahoo.fr",
    "yahoo.de",
    "ymail.com",
    "hotmail.com",
    "hotmail.co.uk",
    "hotmail.fr",
    "hotmail.de",
    "outlook.com",
    "live.com",
    "msn.com",
    "aol.com",
    "icloud.com",
    "me.com",
    "mac.com",
    "gmx.de",
    "gmx.net",
    "gmx.com",
    "web.de",
    "t-online.de",
    "proton.me",
    "protonmail.com",
    "zoho.com",
    "mail.com",
    "yandex.ru",
    "yandex.com",
    "mail.ru",
    "qq.com",
    "163.com",
    "126.com",
    "sina.com",
    "naver.com",
    "orange.fr",
    "free.fr",
    "libero.it",
    "fastmail.com",
];

pub fn is_free_mail(domain: &str) -> bool {
    FREE_MAIL.contains(&domain)
}

/// The form under which two addresses are one mailbox: lower case (done
/// by [`Email::parse`]); at Gmail dots and `+tags` do not matter.
pub fn normalize_email(e: &Email) -> String {
    let s = e.as_str();
    match s.split_once('@') {
        Some((local, domain)) if domain == "gmail.com" || domain == "googlemail.com" => {
            let local = local.split('+').next().unwrap_or(local).replace('.', "");
            format!("{local}@gmail.com")
        }
        _ => s.to_owned(),
    }
}

/// A name as compared: lower case, accents folded, punctuation dropped,
/// `Last, First` turned around, single spaces.
pub fn normalize_name(name: &str) -> String {
    let name = match name.split_once(',') {
        Some((last, first)) if !first.trim().is_empty() && !last.trim().is_empty() => {
            format!("{} {}", first.trim(), last.trim())
        }
        _ => name.to_owned(),
    };
    let folded: String = name
        .chars()
        .flat_map(char::to_lowercase)
        .map(fold_accent)
        .map(|c| if c.is_alphanumeric() { c } else { ' ' })
        .collect();
    folded.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Latin letters with diacritics to their base letter; enough for the
/// names of Western Europe (other scripts stay as they are).
fn fold_accent(c: char) -> char {
    match c {
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'ā' | 'ą' => 'a',
        'ç' | 'ć' | 'č' => 'c',
        'è' | 'é' | 'ê' | 'ë' | 'ē' | 'ę' | 'ě' => 'e',
        'ì' | 'í' | 'î' | 'ï' | 'ī' => 'i',
        'ñ' | 'ń' | 'ň' => 'n',
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'ō' | 'ő' => 'o',
        'ù' | 'ú' | 'û' | 'ü' | 'ū' | 'ů' | 'ű' => 'u',
        'ý' | 'ÿ' => 'y',
        'ś' | 'š' | 'ş' => 's',
        'ź' | 'ż' | 'ž' => 'z',
        'ł' => 'l',
        'ř' => 'r',
        'ť' => 't',
        'ď' => 'd',
        'ß' => 's',
        other => other,
    }
}

/// Initial and surname, e.g. `j smith` for "John Smith" and "J. Smith":
/// equal keys with unequal names are worth a human look, not a merge.
fn initial_key(normalized: &str) -> Option<String> {
    let parts: Vec<&str> = normalized.split(' ').collect();
    if parts.len() < 2 {
        return None;
    }
    let first = parts[0].chars().next()?;
    Some(format!("{first} {}", parts[parts.len() - 1]))
}

/// An organization's name as compared: normalized, legal suffixes dropped.
pub fn normalize_org_name(name: &str) -> String {
    const SUFFIXES: &[&str] = &[
        "inc",
        "incorporated",
        "corp",
        "corporation",
        "co",
        "company",
        "ltd",
        "limited",
        "llc",
        "llp",
        "plc",
        "gmbh",
        "ag",
        "sa",
        "sas",
        "sarl",
        "bv",
        "nv",
        "oy",
        "ab",
        "as",
        "spa",
        "srl",
        "kg",
        "se",
        "pty",
        "kk",
        "group",
    ];
    let n = normalize_name(&name.replace(',', " "));
    let mut words: Vec<&str> = n.split(' ').collect();
    while words.len() > 1 && words.last().is_some_and(|w| SUFFIXES.contains(w)) {
        words.pop();
    }
    words.join(" ")
}

/// A short stable id: `prefix` and the first 20 hex digits of SHA-256 of
/// `key`. The same source record always gets the same id, so re-importing
/// it changes nothing.
/// Confidence of a merge candidate resting on a shared phone number alone:
/// a number is personal more often than not, but desks, assistants and
/// family phones are shared, so it is review-list evidence, never a merge.
pub const PHONE_CONFIDENCE: f64 = 0.7;
/// A shared phone number and a similar name (an initial for the first
/// name) at the same organization: likelier, still for a human to decide.
pub const PHONE_AND_NAME_CONFIDENCE: f64 = 0.85;

/// Review candidates for a new person `p` from their phone numbers: each
/// stored person who alone holds a number that `p` alone gives in this
/// import. A number held by several stored people, or given by several
/// observed ones, is a shared line (a switchboard) and is no evidence.
fn phone_candidates(
    p: &ObservedPerson,
    index: &Index<'_>,
    observed_phones: &HashMap<&Phone, usize>,
    similar_names: &[usize],
    dir: &Directory,
    id: &PersonId,
    name: &str,
) -> Vec<MergeCandidate> {
    let mut out: Vec<MergeCandidate> = Vec::new();
    for ph in &p.phones {
        if observed_phones.get(&ph.number).copied().unwrap_or(0) > 1 {
            continue;
        }
        let Some(&[k]) = index.by_phone.get(&ph.number).map(Vec::as_slice) else {
            continue;
        };
        let existing = &dir.people[k];
        if out.iter().any(|c| c.existing == existing.id) {
            continue;
        }
        let (confidence, also) = if similar_names.contains(&k) {
            (
                PHONE_AND_NAME_CONFIDENCE,
                " and similar names at the same organization",
            )
        } else {
            (PHONE_CONFIDENCE, "")
        };
        out.push(MergeCandidate {
            existing: existing.id.clone(),
            new: id.clone(),
            confidence,
            reason: format!(
                "the same phone number {}{also}: {:?} and {:?}",
                ph.number.display(),
                existing.name,
                name
            ),
        });
    }
    out
}

pub fn derived_id(prefix: &str, key: &str) -> String {
    let digest = Sha256::digest(key.as_bytes());
    let mut s = String::with_capacity(prefix.len() + 20);
    s.push_str(prefix);
    for b in &digest[..10] {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

struct Index<'a> {
    by_email: HashMap<String, usize>,
    by_external_id: HashMap<&'a ExternalId, usize>,
    by_name_org: HashMap<(String, &'a OrgId), Vec<usize>>,
    by_initial_org: HashMap<(String, &'a OrgId), Vec<usize>>,
    /// Stored people by phone number (several for a shared number).
    by_phone: HashMap<&'a Phone, Vec<usize>>,
    org_by_id: HashMap<&'a str, usize>,
    org_by_name: HashMap<String, usize>,
    org_by_domain: HashMap<String, OrgId>,
    ours: Option<OrgId>,
}

impl<'a> Index<'a> {
    fn new(dir: &'a Directory, opts: &ResolveOptions) -> Self {
        let mut ix = Index {
            by_email: HashMap::new(),
            by_external_id: HashMap::new(),
            by_name_org: HashMap::new(),
            by_initial_org: HashMap::new(),
            by_phone: HashMap::new(),
            org_by_id: HashMap::new(),
            org_by_name: HashMap::new(),
            org_by_domain: HashMap::new(),
            ours: dir.orgs.iter().find(|o| o.is_ours).map(|o| o.id.clone()),
        };
        for (i, o) in dir.orgs.iter().enumerate() {
            ix.org_by_id.insert(o.id.as_str(), i);
            ix.org_by_name
                .entry(normalize_org_name(&o.name))
                .or_insert(i);
        }
        // Domains used by the people of (almost) only one organization.
        let mut domain_orgs: HashMap<&str, HashMap<&OrgId, usize>> = HashMap::new();
        for (i, p) in dir.people.iter().enumerate() {
            for e in &p.emails {
                ix.by_email.insert(normalize_email(e), i);
                if !is_free_mail(e.domain()) {
                    *domain_orgs
                        .entry(e.domain())
                        .or_default()
                        .entry(&p.org)
                        .or_default() += 1;
                }
            }
            for x in &p.external_ids {
                ix.by_external_id.insert(x, i);
            }
            for ph in &p.phones {
                ix.by_phone.entry(&ph.number).or_default().push(i);
            }
            let n = normalize_name(&p.name);
            if let Some(k) = initial_key(&n) {
                ix.by_initial_org.entry((k, &p.org)).or_default().push(i);
            }
            ix.by_name_org.entry((n, &p.org)).or_default().push(i);
        }
        for (domain, orgs) in domain_orgs {
            let total: usize = orgs.values().sum();
            if let Some((org, n)) = orgs.into_iter().max_by_key(|(_, n)| *n)
                && n * 10 >= total * 9
            {
                ix.org_by_domain.insert(domain.to_owned(), org.clone());
            }
        }
        if let Some(ours) = &ix.ours {
            for d in &opts.our_domains {
                ix.org_by_domain
                    .insert(d.trim().to_lowercase(), ours.clone());
            }
        }
        for (d, org) in &opts.domain_orgs {
            ix.org_by_domain
                .insert(d.trim().to_lowercase(), org.clone());
        }
        ix
    }
}

/// Resolves `obs` against `dir`. Pure: the caller loads the directory and
/// imports the bundle.
pub fn resolve(obs: Observations, dir: &Directory, opts: &ResolveOptions) -> Resolution {
    let index = Index::new(dir, opts);
    let mut res = Resolution {
        skipped: obs.skipped,
        ..Default::default()
    };

    // Organizations.
    let mut org_ids: Vec<Option<OrgId>> = vec![None; obs.orgs.len()];
    let mut taken_org_ids: HashSet<String> = dir.orgs.iter().map(|o| o.id.to_string()).collect();
    for (i, o) in obs.orgs.iter().enumerate() {
        let derived: Option<String> = o
            .external_ids
            .first()
            .map(|x| format!("{}-{}", x.system, x.id));
        // Our own company whatever a source calls it; then by CRM id, by
        // name, by the domains the source ties to it.
        let found = o
            .is_ours
            .then(|| index.ours.clone())
            .flatten()
            .or_else(|| {
                derived
                    .as_deref()
                    .and_then(|d| index.org_by_id.get(d))
                    .or_else(|| index.org_by_name.get(&normalize_org_name(&o.name)))
                    .map(|&k| dir.orgs[k].id.clone())
            })
            .or_else(|| {
                o.domains
                    .iter()
                    .find_map(|d| index.org_by_domain.get(&d.to_lowercase()).cloned())
            });
        if let Some(id) = found {
            res.summary.orgs_matched += 1;
            org_ids[i] = Some(id);
            continue;
        }
        let id_text = derived.unwrap_or_else(|| {
            let slug = slug(&o.name);
            if slug.is_empty() || taken_org_ids.contains(&slug) {
                derived_id("org-", &normalize_org_name(&o.name))
            } else {
                slug
            }
        });
        let Ok(id) = OrgId::parse(&id_text) else {
            res.skipped.push(Skipped {
                source: o.first_seen.clone(),
                reason: format!("organization {:?}: no usable id", o.name),
            });
            continue;
        };
        taken_org_ids.insert(id_text);
        org_ids[i] = Some(id.clone());
        res.summary.orgs_new += 1;
        res.bundle.organizations.push(Organization {
            id,
            name: if o.name.is_empty() {
                o.external_ids
                    .first()
                    .map(|x| x.to_string())
                    .unwrap_or_default()
            } else {
                o.name.clone()
            },
            industry: o.industry.clone(),
            region: None,
            tier: None,
            is_ours: o.is_ours && index.ours.is_none(),
            parent: None,
        });
    }
    // Parents, now that every organization has its id.
    let new_org_pos: HashMap<OrgId, usize> = res
        .bundle
        .organizations
        .iter()
        .enumerate()
        .map(|(k, o)| (o.id.clone(), k))
        .collect();
    for (i, o) in obs.orgs.iter().enumerate() {
        if let (Some(id), Some(parent)) = (&org_ids[i], o.parent)
            && let Some(&k) = new_org_pos.get(id)
            && let Some(pid) = &org_ids[parent.0 as usize]
            && pid != id
        {
            res.bundle.organizations[k].parent = Some(pid.clone());
        }
    }
    let org_of = |r: Option<OrgRef>| r.and_then(|r| org_ids[r.0 as usize].clone());

    // People.
    let mut person_ids: Vec<Option<PersonId>> = vec![None; obs.people.len()];
    let mut new_people: Vec<Person> = Vec::new();
    let mut updated: HashMap<usize, Person> = HashMap::new();
    let mut domain_new_orgs: HashMap<String, OrgId> = HashMap::new();
    // How many observed people give each number: a number several people
    // share (a switchboard, a team line) says nothing about who is who.
    let mut observed_phones: HashMap<&Phone, usize> = HashMap::new();
    for p in &obs.people {
        for ph in &p.phones {
            *observed_phones.entry(&ph.number).or_default() += 1;
        }
    }
    for (i, p) in obs.people.iter().enumerate() {
        let by_email = p
            .emails
            .iter()
            .find_map(|e| index.by_email.get(&normalize_email(e)).copied());
        let by_ext = || {
            p.external_ids
                .iter()
                .find_map(|x| index.by_external_id.get(x).copied())
        };
        let org = org_of(p.org).or_else(|| {
            p.emails.iter().find_map(|e| {
                index
                    .org_by_domain
                    .get(e.domain())
                    .or_else(|| domain_new_orgs.get(e.domain()))
                    .cloned()
            })
        });
        let name_norm = p.name.as_deref().map(normalize_name).unwrap_or_default();
        let by_name = || {
            let org = org.as_ref()?;
            match index.by_name_org.get(&(name_norm.clone(), org)) {
                Some(v) if v.len() == 1 && !name_norm.is_empty() => Some(v[0]),
                _ => None,
            }
        };
        let matched = by_email
            .map(|k| (k, MatchBasis::Email))
            .or_else(|| by_ext().map(|k| (k, MatchBasis::ExternalId)))
            .or_else(|| by_name().map(|k| (k, MatchBasis::NameAtOrg)));
        if let Some((k, basis)) = matched {
            match basis {
                MatchBasis::Email => res.summary.people_matched_by_email += 1,
                MatchBasis::ExternalId => res.summary.people_matched_by_external_id += 1,
                MatchBasis::NameAtOrg => res.summary.people_matched_by_name += 1,
            }
            let stored = &dir.people[k];
            person_ids[i] = Some(stored.id.clone());
            // What the sources add to a stored person: new addresses and
            // ids always; titles and departments only where none is stored
            // and only from sources that describe people (cards, CRMs).
            let mut next = updated.get(&k).cloned().unwrap_or_else(|| stored.clone());
            for e in &p.emails {
                if !next.emails.contains(e) && !index.by_email.contains_key(&normalize_email(e)) {
                    next.emails.push(e.clone());
                }
            }
            for x in &p.external_ids {
                if !next.external_ids.contains(x) && !index.by_external_id.contains_key(x) {
                    next.external_ids.push(x.clone());
                }
            }
            for ph in &p.phones {
                match next.phones.iter_mut().find(|x| x.number == ph.number) {
                    Some(known) => known.kind = known.kind.or(ph.kind),
                    None => next.phones.push(ph.clone()),
                }
            }
            if p.described {
                if next.title.is_none() {
                    next.title = p.title.clone();
                }
                if next.department.is_none() {
                    next.department = p.department.clone();
                }
                if next.role.is_none() {
                    next.role = p.role;
                }
                if next.attitude.is_none() {
                    next.attitude = p.attitude;
                }
            }
            if next != *stored {
                updated.insert(k, next);
            }
            continue;
        }
        // A new person: needs an organization.
        let org = match org {
            Some(o) => o,
            None => match p
                .emails
                .iter()
                .map(|e| e.domain())
                .find(|d| !is_free_mail(d))
            {
                // Domains come from parsed addresses (printable, no spaces):
                // valid organization ids.
                Some(domain) => match OrgId::parse(domain) {
                    Ok(id) => domain_new_orgs
                        .entry(domain.to_owned())
                        .or_insert_with(|| {
                            res.summary.orgs_new += 1;
                            res.bundle.organizations.push(Organization {
                                id: id.clone(),
                                name: domain.to_owned(),
                                industry: None,
                                region: None,
                                tier: None,
                                is_ours: false,
                                parent: None,
                            });
                            id
                        })
                        .clone(),
                    Err(_) => {
                        res.summary.people_unplaced += 1;
                        continue;
                    }
                },
                None => {
                    res.summary.people_unplaced += 1;
                    continue;
                }
            },
        };
        let key = p
            .emails
            .first()
            .map(normalize_email)
            .or_else(|| p.external_ids.first().map(|x| x.to_string()))
            .unwrap_or_else(|| format!("{name_norm}|{org}"));
        let Ok(id) = PersonId::parse(&derived_id("p-", &key)) else {
            continue;
        };
        let name = p
            .name
            .clone()
            .or_else(|| p.emails.first().map(|e| e.to_string()))
            .unwrap_or_else(|| id.to_string());
        let similar: &[usize] = initial_key(&name_norm)
            .and_then(|k| index.by_initial_org.get(&(k, &org)))
            .map_or(&[], Vec::as_slice);
        let by_phone = phone_candidates(p, &index, &observed_phones, similar, dir, &id, &name);
        for &c in similar {
            // A shared number as well: one candidate, with both reasons.
            if by_phone.iter().any(|x| x.existing == dir.people[c].id) {
                continue;
            }
            res.review.push(MergeCandidate {
                existing: dir.people[c].id.clone(),
                new: id.clone(),
                confidence: 0.6,
                reason: format!(
                    "similar names at the same organization: {:?} and {:?}",
                    dir.people[c].name, name
                ),
            });
        }
        res.review.extend(by_phone);
        person_ids[i] = Some(id.clone());
        res.summary.people_new += 1;
        new_people.push(Person {
            id,
            org,
            name,
            title: p.title.clone(),
            department: p.department.clone(),
            level: Level::UNKNOWN,
            emails: p.emails.clone(),
            external_ids: p.external_ids.clone(),
            phones: p.phones.clone(),
            reports_to: None,
            role: p.role,
            attitude: p.attitude,
        });
    }
    // Reporting lines of new people, once everyone has an id.
    let new_pos: HashMap<PersonId, usize> = new_people
        .iter()
        .enumerate()
        .map(|(k, p)| (p.id.clone(), k))
        .collect();
    for (i, p) in obs.people.iter().enumerate() {
        if let (Some(id), Some(boss)) = (&person_ids[i], p.reports_to)
            && let Some(boss_id) = &person_ids[boss.0 as usize]
            && boss_id != id
            && let Some(&k) = new_pos.get(id)
        {
            new_people[k].reports_to = Some(boss_id.clone());
        }
    }
    res.summary.people_updated = updated.len();
    res.bundle.people = new_people;
    let mut updated: Vec<(usize, Person)> = updated.into_iter().collect();
    updated.sort_by_key(|(k, _)| *k);
    res.bundle
        .people
        .extend(updated.into_iter().map(|(_, p)| p));

    // Interactions.
    let mut seen: HashSet<String> = HashSet::new();
    for ix in obs.interactions {
        let id_text = derived_id("ix-", &ix.key);
        if !seen.insert(id_text.clone()) {
            res.summary.interactions_duplicate += 1;
            continue;
        }
        let resolve = |r: PersonRef| person_ids[r.0 as usize].clone();
        let participants: Vec<PersonId> = {
            let mut v: Vec<PersonId> = Vec::with_capacity(ix.participants.len());
            for p in ix.participants.iter().filter_map(|&r| resolve(r)) {
                if !v.contains(&p) {
                    v.push(p);
                }
            }
            v
        };
        let left_out = ix.participants.len() - participants.len();
        if participants.len() < 2 {
            res.skipped.push(Skipped {
                source: ix.source,
                reason: format!(
                    "fewer than two known participants ({left_out} with a free-mail or unknown address and no organization left out)"
                ),
            });
            continue;
        }
        let initiator = resolve(ix.initiator)
            .filter(|i| participants.contains(i))
            .unwrap_or_else(|| participants[0].clone());
        let Ok(id) = InteractionId::parse(&id_text) else {
            continue;
        };
        res.summary.interactions += 1;
        res.bundle.interactions.push(Interaction {
            id,
            kind: ix.kind,
            at: ix.at,
            initiator,
            participants,
            in_reply_to: ix
                .in_reply_to
                .as_deref()
                .and_then(|k| InteractionId::parse(&derived_id("ix-", k)).ok()),
        });
    }

    // Deals.
    let mut opp_ids: HashMap<ExternalId, OpportunityId> = HashMap::new();
    for o in obs.opportunities {
        let Some(account) = org_of(Some(o.account)) else {
            res.skipped.push(Skipped {
                source: o.source,
                reason: format!("opportunity {}: its account is unknown", o.external_id),
            });
            continue;
        };
        let Ok(id) =
            OpportunityId::parse(&format!("{}-{}", o.external_id.system, o.external_id.id))
        else {
            continue;
        };
        opp_ids.insert(o.external_id.clone(), id.clone());
        res.bundle.opportunities.push(Opportunity {
            id,
            account,
            name: o.name,
            amount: o.amount,
            stage: o.stage,
            status: o.status,
            close_date: o.close_date,
            owner: o.owner.and_then(|r| person_ids[r.0 as usize].clone()),
            competitors: vec![],
        });
    }
    for c in obs.deal_contacts {
        let (Some(opp), Some(person)) = (
            opp_ids.get(&c.opportunity),
            person_ids[c.person.0 as usize].clone(),
        ) else {
            res.skipped.push(Skipped {
                source: c.source,
                reason: format!(
                    "contact role on opportunity {}: the deal or the person is unknown",
                    c.opportunity
                ),
            });
            continue;
        };
        res.bundle.opportunity_contacts.push(OpportunityContact {
            opportunity: opp.clone(),
            person,
            role: c.role,
            attitude: c.attitude,
            solution_acceptance: c.solution_acceptance,
            price_acceptance: c.price_acceptance,
            at: c.at,
        });
    }
    res
}

/// A readable id from a name: lower-case ASCII letters and digits joined
/// by dashes (`Acme Corp.` → `acme-corp`).
fn slug(name: &str) -> String {
    normalize_name(name)
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect::<String>()
        .split('-')
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join("-")
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use renmai_graph::{InteractionKind, Timestamp};

    use super::*;
    use crate::ingest::{ObservedInteraction, PersonHint, SourcePos};

    fn pos(line: u32) -> SourcePos {
        SourcePos {
            file: Arc::from("inbox.mbox"),
            line,
        }
    }

    fn org(id: &str, name: &str, ours: bool) -> Organization {
        Organization {
            id: OrgId::parse(id).unwrap(),
            name: name.into(),
            industry: None,
            region: None,
            tier: None,
            is_ours: ours,
            parent: None,
        }
    }

    fn person(id: &str, org: &str, name: &str, email: Option<&str>) -> Person {
        Person {
            id: PersonId::parse(id).unwrap(),
            org: OrgId::parse(org).unwrap(),
            name: name.into(),
            title: None,
            department: None,
            level: Level::UNKNOWN,
            emails: email
                .map(|e| Email::parse(e).unwrap())
                .into_iter()
                .collect(),
            external_ids: vec![],
            phones: vec![],
            reports_to: None,
            role: None,
            attitude: None,
        }
    }

    fn directory() -> Directory {
        Directory {
            orgs: vec![
                org("us", "Northwind", true),
                org("acme", "Acme Corporation", false),
            ],
            people: vec![
                person("nw-1", "us", "Sam Seller", Some("sam@northwind.example")),
                person("a-1", "acme", "Jane Doe", Some("jane.doe@acme.example")),
                person("a-2", "acme", "John Smith", Some("john.smith@acme.example")),
                person("a-3", "acme", "Zoë Müller", None),
            ],
        }
    }

    fn hint(name: &str, email: &str) -> PersonHint {
        PersonHint {
            name: Some(name.into()),
            email: Some(Email::parse(email).unwrap()),
            ..Default::default()
        }
    }

    fn mail(o: &mut Observations, key: &str, from: PersonRef, to: &[PersonRef]) {
        let mut participants = vec![from];
        participants.extend_from_slice(to);
        o.interaction(ObservedInteraction {
            key: key.into(),
            kind: InteractionKind::Email,
            at: Timestamp::from_epoch_seconds(1_700_000_000),
            initiator: from,
            participants,
            in_reply_to: None,
            source: pos(1),
        });
    }

    #[test]
    fn known_addresses_match_and_unknown_colleagues_join_their_domains_org() {
        let mut o = Observations::new();
        let sam = o
            .person(hint("Sam", "Sam@Northwind.example"), &pos(1))
            .unwrap();
        let jane = o
            .person(hint("J. Doe", "jane.doe@acme.example"), &pos(1))
            .unwrap();
        let new = o
            .person(hint("Ann Lee", "ann.lee@acme.example"), &pos(1))
            .unwrap();
        mail(&mut o, "mail:<1@x>", sam, &[jane, new]);
        let r = resolve(o, &directory(), &ResolveOptions::default());
        assert_eq!(r.summary.people_matched_by_email, 2);
        assert_eq!(r.summary.people_new, 1);
        assert_eq!(r.bundle.people.len(), 1);
        let ann = &r.bundle.people[0];
        assert_eq!(ann.org.as_str(), "acme");
        assert_eq!(ann.name, "Ann Lee");
        let ix = &r.bundle.interactions[0];
        assert_eq!(ix.initiator.as_str(), "nw-1");
        assert_eq!(
            ix.participants
                .iter()
                .map(|p| p.as_str())
                .collect::<Vec<_>>(),
            ["nw-1", "a-1", ann.id.as_str()]
        );
    }

    #[test]
    fn same_source_gives_same_ids_so_reimports_add_nothing() {
        let build = || {
            let mut o = Observations::new();
            let a = o
                .person(hint("Sam", "sam@northwind.example"), &pos(1))
                .unwrap();
            let b = o
                .person(hint("Kim", "kim@globex.example"), &pos(1))
                .unwrap();
            mail(&mut o, "mail:<2@x>", a, &[b]);
            mail(&mut o, "mail:<2@x>", a, &[b]);
            resolve(o, &directory(), &ResolveOptions::default())
        };
        let (r1, r2) = (build(), build());
        assert_eq!(r1.bundle, r2.bundle);
        assert_eq!(r1.summary.interactions, 1);
        assert_eq!(r1.summary.interactions_duplicate, 1);
        // An unknown company domain becomes an organization of that name.
        assert_eq!(r1.bundle.organizations[0].id.as_str(), "globex.example");
    }

    #[test]
    fn free_mail_strangers_are_left_out_and_said_so() {
        let mut o = Observations::new();
        let a = o
            .person(hint("Sam", "sam@northwind.example"), &pos(1))
            .unwrap();
        let b = o
            .person(hint("Someone", "someone@gmail.com"), &pos(1))
            .unwrap();
        mail(&mut o, "mail:<3@x>", a, &[b]);
        let r = resolve(o, &directory(), &ResolveOptions::default());
        assert!(r.bundle.interactions.is_empty());
        assert_eq!(r.summary.people_unplaced, 1);
        assert!(r.skipped[0].reason.contains("free-mail"), "{:?}", r.skipped);
    }

    #[test]
    fn gmail_dots_and_tags_are_one_mailbox() {
        let e = |s| Email::parse(s).unwrap();
        assert_eq!(
            normalize_email(&e("Jane.Doe+crm@gmail.com")),
            normalize_email(&e("janedoe@googlemail.com"))
        );
        assert_ne!(
            normalize_email(&e("jane.doe@acme.example")),
            normalize_email(&e("janedoe@acme.example"))
        );
    }

    #[test]
    fn names_match_at_the_same_org_and_near_names_go_to_review() {
        let mut o = Observations::new();
        let acme = o.org("ACME Corp.", None, &pos(1)).unwrap();
        let zoe = o
            .person(
                PersonHint {
                    name: Some("Muller, Zoe".into()),
                    org: Some(acme),
                    ..Default::default()
                },
                &pos(2),
            )
            .unwrap();
        o.person_mut(zoe).title = Some("CFO".into());
        o.person_mut(zoe).described = true;
        o.person(
            PersonHint {
                name: Some("J. Smith".into()),
                org: Some(acme),
                ..Default::default()
            },
            &pos(3),
        );
        let r = resolve(o, &directory(), &ResolveOptions::default());
        assert_eq!(r.summary.orgs_matched, 1, "ACME Corp. is Acme Corporation");
        assert_eq!(r.summary.people_matched_by_name, 1);
        let updated = r
            .bundle
            .people
            .iter()
            .find(|p| p.id.as_str() == "a-3")
            .unwrap();
        assert_eq!(updated.title.as_deref(), Some("CFO"));
        assert_eq!(r.summary.people_new, 1, "J. Smith is not merged");
        assert_eq!(r.review.len(), 1);
        assert_eq!(r.review[0].existing.as_str(), "a-2");
    }

    fn phone(text: &str) -> renmai_graph::PersonPhone {
        renmai_graph::PersonPhone {
            number: Phone::parse(text, None).unwrap(),
            kind: None,
        }
    }

    #[test]
    fn a_shared_phone_is_review_evidence_and_a_switchboard_is_none() {
        let mut dir = directory();
        // Jane's direct line; John and Zoë share the switchboard.
        dir.people[1].phones = vec![phone("+49 89 1234567")];
        dir.people[2].phones = vec![phone("+49 89 1000-0")];
        dir.people[3].phones = vec![phone("+49 89 1000-0")];
        let mut o = Observations::new();
        let acme = o.org("Acme Corporation", None, &pos(1)).unwrap();
        let add = |o: &mut Observations, name: &str, number: &str, line: u32| {
            let r = o
                .person(
                    PersonHint {
                        name: Some(name.into()),
                        org: Some(acme),
                        ..Default::default()
                    },
                    &pos(line),
                )
                .unwrap();
            o.add_phone(r, number, None, &pos(line));
        };
        // A new name with Jane's direct line: a candidate, not a merge.
        add(&mut o, "Janet Miller", "+49 (89) 123 45 67", 2);
        // Two new people on the switchboard: nothing said about anyone.
        add(&mut o, "Reception Desk", "+49 89 10000", 3);
        add(&mut o, "Front Office", "+49 89 10000", 4);
        // A near name (initial) with the same number: likelier.
        let mut o2 = Observations::new();
        let acme2 = o2.org("Acme Corporation", None, &pos(1)).unwrap();
        let j = o2
            .person(
                PersonHint {
                    name: Some("J. Doe".into()),
                    org: Some(acme2),
                    ..Default::default()
                },
                &pos(5),
            )
            .unwrap();
        o2.add_phone(j, "+49891234567", None, &pos(5));

        let r = resolve(o, &dir, &ResolveOptions::default());
        assert_eq!(r.summary.people_new, 3, "nobody is merged on a phone");
        assert_eq!(r.review.len(), 1, "{:?}", r.review);
        let c = &r.review[0];
        assert_eq!(c.existing.as_str(), "a-1");
        assert_eq!(c.confidence, PHONE_CONFIDENCE);
        assert!(
            c.reason.contains("the same phone number +49 89 1234567"),
            "{}",
            c.reason
        );
        let janet = r
            .bundle
            .people
            .iter()
            .find(|p| p.name == "Janet Miller")
            .unwrap();
        assert_eq!(janet.phones[0].number.as_str(), "+49891234567");

        let r = resolve(o2, &dir, &ResolveOptions::default());
        let confidences: Vec<f64> = r
            .review
            .iter()
            .filter(|c| c.existing.as_str() == "a-1")
            .map(|c| c.confidence)
            .collect();
        assert_eq!(confidences, [PHONE_AND_NAME_CONFIDENCE], "{:?}", r.review);
    }

    #[test]
    fn configured_our_domains_place_new_colleagues_in_our_company() {
        let mut o = Observations::new();
        let a = o
            .person(hint("New Hire", "new@nw-sales.example"), &pos(1))
            .unwrap();
        let b = o
            .person(hint("Jane", "jane.doe@acme.example"), &pos(1))
            .unwrap();
        mail(&mut o, "mail:<4@x>", a, &[b]);
        let opts = ResolveOptions {
            our_domains: vec!["nw-sales.example".into()],
            ..Default::default()
        };
        let r = resolve(o, &directory(), &opts);
        assert_eq!(r.bundle.people[0].org.as_str(), "us");
    }

    #[test]
    fn normalization() {
        assert_eq!(normalize_name("  Müller,  Zoë "), "zoe muller");
        assert_eq!(normalize_org_name("Acme, Inc."), "acme");
        assert_eq!(normalize_org_name("Siemens AG"), "siemens");
        assert_eq!(slug("Acme Corp."), "acme-corp");
        assert_eq!(derived_id("ix-", "mail:<1@x>").len(), 23);
    }
}
