//! `renmai import` of what sellers have (calendars, mailboxes, contacts, CRM
//! exports): read, resolve identities, import in one transaction, report.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;
use std::sync::Arc;

use renmai_graph::service::ServiceCase;
use renmai_graph::{InteractionId, OrgId, PersonId, Timestamp};

use crate::ingest::resolve::{self, Directory, ResolveOptions, derived_id};
use crate::ingest::service_cases::ObservedServiceCase;
use crate::ingest::{Observations, SourceFormat, StoredKeys, run};
use crate::store::{Store, StoreError};
use crate::validate::SourceMap;

/// How many skipped records are listed one by one before a count.
const LISTED_SKIPS: usize = 20;

pub async fn import(
    store: &Arc<dyn Store>,
    path: &Path,
    format: SourceFormat,
    mapping: Option<&Path>,
    strict: bool,
    opts: &ResolveOptions,
    quiet: bool,
) -> anyhow::Result<()> {
    let now = Timestamp::from_epoch_seconds(chrono::Utc::now().timestamp());
    let (p, m) = (path.to_owned(), mapping.map(Path::to_owned));
    let mut stored = Observations::with_stored(stored_keys(store.clone()));
    stored.phone_region = opts.phone_region;
    let mut obs = tokio::task::spawn_blocking(move || {
        run::observe_into(&p, format, m.as_deref(), strict, now, stored)
    })
    .await??;
    let files = obs.files.clone();
    let already_read = obs.already_stored;
    let observed_cases = std::mem::take(&mut obs.service_cases);
    let dir = store.directory().await?;
    let res = resolve::resolve(obs, &dir, opts);
    let cases = service_cases(observed_cases, &res.bundle, &dir);
    let s = &res.summary;
    let label = format!("{} ({format})", path.display());
    // What the store holds already (a re-read mailbox) is not written again.
    let mut bundle = res.bundle;
    // A CRM export says nothing of competitors: its deals keep the stored ones.
    for o in &mut bundle.opportunities {
        if o.competitors.is_empty()
            && let Some(stored) = store.opportunity(&o.id).await?
        {
            o.competitors = stored.competitors;
        }
    }
    let known = store
        .known_interactions(bundle.interactions.iter().map(|i| i.id.clone()).collect())
        .await?;
    let mut known = known.into_iter();
    bundle
        .interactions
        .retain(|_| !known.next().unwrap_or(false));
    let already = res.summary.interactions - bundle.interactions.len() + already_read;
    let src = SourceMap::synthetic(&label, &bundle)
        .with_provenance(crate::privacy::Provenance::cli(label.clone()));
    let store = store.as_ref();
    let imported = store.import(bundle, src, super::progress(quiet)).await?;
    let review_new = match store.save_review(res.review.clone()).await {
        Ok(n) => n,
        Err(StoreError::Backend(e)) if e.contains("not supported") => {
            eprintln!(
                "note: {e}; {} possible duplicate(s) not kept",
                res.review.len()
            );
            0
        }
        Err(e) => return Err(e.into()),
    };

    eprintln!(
        "imported {label} into {} {}",
        store.kind(),
        store.location()
    );
    for f in &files {
        eprintln!(
            "  {:<40} {:>9} read {:>7} skipped",
            f.file, f.read, f.skipped
        );
    }
    eprintln!(
        "  people: {} new, {} matched by e-mail, {} by CRM id, {} by name at their organization, {} updated, {} left out (free-mail or unknown, no organization)",
        s.people_new,
        s.people_matched_by_email,
        s.people_matched_by_external_id,
        s.people_matched_by_name,
        s.people_updated,
        s.people_unplaced
    );
    eprintln!(
        "  organizations: {} new, {} matched",
        s.orgs_new, s.orgs_matched
    );
    eprintln!(
        "  interactions: {} new, {} already stored, {} duplicates within this import",
        imported.interactions.new,
        imported.interactions.existing + already as u64,
        s.interactions_duplicate
    );
    if !res.skipped.is_empty() {
        let mut by_reason: BTreeMap<&str, usize> = BTreeMap::new();
        for k in &res.skipped {
            *by_reason.entry(k.reason.as_str()).or_default() += 1;
        }
        eprintln!("  skipped: {} record(s)", res.skipped.len());
        let mut reasons: Vec<_> = by_reason.into_iter().collect();
        reasons.sort_by_key(|r| std::cmp::Reverse(r.1));
        for (reason, n) in reasons.iter().take(10) {
            eprintln!("    {n:>7} × {reason}");
        }
        for k in res.skipped.iter().take(LISTED_SKIPS) {
            eprintln!("    {}: {}", k.source, k.reason);
        }
        if res.skipped.len() > LISTED_SKIPS {
            eprintln!("    … and {} more", res.skipped.len() - LISTED_SKIPS);
        }
    }
    if !cases.is_empty() {
        let total = cases.len();
        match store.save_service_cases(cases).await {
            Ok(new) => eprintln!("  service cases: {new} new, {} already stored", total - new),
            Err(StoreError::Backend(e)) if e.contains("not supported") => {
                eprintln!(
                    "note: {e}; the {total} cases count as interactions, but their severity, dates and subjects are not kept and `renmai leads` cannot see them"
                );
            }
            Err(e) => return Err(e.into()),
        }
    }
    if review_new > 0 {
        eprintln!("  {review_new} possible duplicate(s) to review: `renmai people review`");
    }
    Ok(())
}

/// The cases whose interaction the resolver kept, with the account and the
/// people it resolved: the contact is the interaction's initiator (the
/// reader makes it so), the owner the other participant.
fn service_cases(
    observed: Vec<ObservedServiceCase>,
    bundle: &crate::bundle::Bundle,
    dir: &Directory,
) -> Vec<ServiceCase> {
    if observed.is_empty() {
        return Vec::new();
    }
    let by_id: HashMap<&str, &renmai_graph::Interaction> = bundle
        .interactions
        .iter()
        .map(|i| (i.id.as_str(), i))
        .collect();
    let org_of: HashMap<&PersonId, &OrgId> = dir
        .people
        .iter()
        .chain(&bundle.people)
        .map(|p| (&p.id, &p.org))
        .collect();
    let ours: HashSet<&OrgId> = dir
        .orgs
        .iter()
        .chain(&bundle.organizations)
        .filter(|o| o.is_ours)
        .map(|o| &o.id)
        .collect();
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for c in observed {
        let id = resolve::derived_id("ix-", &c.key);
        let Some(ix) = by_id.get(id.as_str()) else {
            continue;
        };
        if !seen.insert(id.clone()) {
            continue;
        }
        let Some(account) = org_of.get(&ix.initiator).filter(|o| !ours.contains(**o)) else {
            continue;
        };
        out.push(ServiceCase {
            case_id: c.case_id,
            interaction: ix.id.clone(),
            account: (*account).clone(),
            contact: ix.initiator.clone(),
            owner: ix
                .participants
                .iter()
                .find(|p| **p != ix.initiator)
                .cloned(),
            opened: c.opened,
            closed: c.closed,
            severity: c.severity,
            subject: c.subject,
        });
    }
    out
}

/// Answers the readers' "is this source key's interaction stored?" from
/// the store, a batch at a time. Readers run on a blocking thread, so the
/// store's async lookup is awaited with the runtime's handle. A failed
/// lookup answers "not stored": the import then writes those records
/// again, which its upserts make harmless.
fn stored_keys(store: Arc<dyn Store>) -> StoredKeys {
    let handle = tokio::runtime::Handle::current();
    StoredKeys(Box::new(move |keys| {
        let ids: Vec<Option<InteractionId>> = keys
            .iter()
            .map(|k| InteractionId::parse(&derived_id("ix-", k)).ok())
            .collect();
        let asked: Vec<InteractionId> = ids.iter().flatten().cloned().collect();
        let Ok(known) = handle.block_on(store.known_interactions(asked)) else {
            return vec![false; keys.len()];
        };
        let mut known = known.into_iter();
        ids.iter()
            .map(|id| id.is_some() && known.next().unwrap_or(false))
            .collect()
    }))
}
