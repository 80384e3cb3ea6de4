//! `renmai migrate --from sqlite:PATH --to neo4j://HOST:7687` (and back):
//! copies every record between stores.
//!
//! The source is exported as a bundle and imported into the target in
//! batches (organizations, people and teams first, then interactions in
//! chunks, then the rest), each batch one all-or-nothing import with the
//! usual validation. Imports are upserts keyed by the records' own ids, so
//! an interrupted migration is resumed by running it again. At the end the
//! counts of both stores (`stats`) are compared. Service cases' desk fields
//! and deal-support assignments, which live beside the bundle, are copied
//! after it ([`copy_beside`]).

use std::sync::Arc;

use anyhow::{Context, bail};
use clap::Args;

use crate::bundle::Bundle;
use crate::config::{Config, Neo4jConfig};
use crate::store::sqlite::SqliteStore;
use crate::store::{Stats, Store, StoreError};
use crate::validate::SourceMap;

/// Interactions per migration batch.
pub const INTERACTION_BATCH: usize = 100_000;

#[derive(Args, Debug)]
pub struct MigrateArgs {
    /// The source: `sqlite:PATH` or a Bolt URI (`neo4j://…`, `bolt://…`, `+s` variants).
    #[arg(long)]
    pub from: String,
    /// The target, in the same form. Neo4j credentials come from
    /// --neo4j-user/--neo4j-password/--neo4j-db (or RENMAI_NEO4J_*).
    #[arg(long)]
    pub to: String,
}

/// Opens the Neo4j store; `uri` overrides the configured one.
pub async fn open_neo4j(cfg: &Neo4jConfig, uri: Option<&str>) -> anyhow::Result<Arc<dyn Store>> {
    #[cfg(feature = "neo4j")]
    {
        use crate::store::neo4j::{
            DEFAULT_CONNECT_TIMEOUT, DEFAULT_QUERY_TIMEOUT, Neo4jSettings, Neo4jStore,
        };
        use std::time::Duration;
        let Some(uri) = uri.map(str::to_owned).or_else(|| cfg.uri.clone()) else {
            bail!(
                "the neo4j store needs a server: give --neo4j-uri (or RENMAI_NEO4J_URI), e.g. bolt://127.0.0.1:7687"
            );
        };
        let settings = Neo4jSettings {
            uri,
            user: cfg.user.clone().unwrap_or_else(|| "neo4j".into()),
            password: cfg.password.clone().unwrap_or_default(),
            database: cfg.db.clone(),
            connect_timeout: cfg
                .connect_timeout_ms
                .map_or(DEFAULT_CONNECT_TIMEOUT, Duration::from_millis),
            query_timeout: cfg
                .timeout_ms
                .map_or(DEFAULT_QUERY_TIMEOUT, Duration::from_millis),
        };
        Ok(Arc::new(Neo4jStore::connect(&settings).await?))
    }
    #[cfg(not(feature = "neo4j"))]
    {
        let _ = (cfg, uri);
        bail!("this renmai was built without the `neo4j` feature")
    }
}

/// Opens a store named as `sqlite:PATH` or a Bolt URI.
pub async fn open_spec(spec: &str, config: &Config) -> anyhow::Result<Arc<dyn Store>> {
    if let Some(path) = spec.strip_prefix("sqlite:") {
        if path.is_empty() {
            bail!("`sqlite:` needs a path, e.g. sqlite:./renmai.db");
        }
        return Ok(Arc::new(SqliteStore::open(path.as_ref())?));
    }
    let scheme = spec.split("://").next().unwrap_or("");
    if spec.contains("://")
        && [
            "neo4j",
            "neo4j+s",
            "neo4j+ssc",
            "bolt",
            "bolt+s",
            "bolt+ssc",
        ]
        .contains(&scheme)
    {
        return open_neo4j(&config.neo4j, Some(spec)).await;
    }
    bail!("{spec:?} names no store: use sqlite:PATH or a Bolt URI like neo4j://host:7687")
}

/// The bundle cut into batches that each validate on their own, given the
/// batches before them are stored.
pub fn batches(b: Bundle) -> Vec<Bundle> {
    let mut out = vec![Bundle {
        organizations: b.organizations,
        people: b.people,
        account_team: b.account_team,
        ..Bundle::default()
    }];
    let mut interactions = b.interactions;
    while !interactions.is_empty() {
        let rest = interactions.split_off(interactions.len().min(INTERACTION_BATCH));
        out.push(Bundle {
            interactions: std::mem::replace(&mut interactions, rest),
            ..Bundle::default()
        });
    }
    out.push(Bundle {
        influences: b.influences,
        assessments: b.assessments,
        opportunities: b.opportunities,
        opportunity_contacts: b.opportunity_contacts,
        opportunity_stages: b.opportunity_stages,
        ..Bundle::default()
    });
    out.retain(|x| !x.is_empty());
    out
}

/// The counts that must agree after a migration (not the store's name).
fn counts(s: &Stats) -> [(&'static str, u64); 9] {
    [
        ("organizations", s.organizations),
        ("accounts", s.accounts),
        ("people (ours)", s.people_ours),
        ("people (customers)", s.people_customers),
        ("account team rows", s.account_team),
        ("interactions", s.interactions),
        ("influences", s.influences),
        ("assessments", s.assessments),
        ("opportunities", s.opportunities),
    ]
}

/// Copies `from` into `to`; returns the target's stats once they match.
pub async fn copy(from: &dyn Store, to: &dyn Store, quiet: bool) -> anyhow::Result<Stats> {
    let t0 = std::time::Instant::now();
    let bundle = from
        .export()
        .await
        .with_context(|| format!("reading {} {}", from.kind(), from.location()))?;
    let total = bundle.len();
    let parts = batches(bundle);
    let n = parts.len();
    for (i, part) in parts.into_iter().enumerate() {
        let records = part.len();
        let source = format!(
            "migrate from {} {} batch {}",
            from.kind(),
            from.location(),
            i + 1
        );
        let src = SourceMap::synthetic(&source, &part)
            .with_provenance(crate::privacy::Provenance::cli(source.clone()));
        to.import(part, src, Arc::new(crate::store::NoProgress))
            .await
            .with_context(|| {
                format!(
                    "writing batch {} of {n} into {} {}; the batches before it are stored, re-run to resume",
                    i + 1,
                    to.kind(),
                    to.location()
                )
            })?;
        if !quiet {
            eprintln!("  batch {}/{n}: {records} records", i + 1);
        }
    }
    let (a, b) = (from.stats().await?, to.stats().await?);
    let diffs: Vec<String> = counts(&a)
        .iter()
        .zip(counts(&b))
        .filter(|(x, y)| x.1 != y.1)
        .map(|(x, y)| format!("{}: {} in the source, {} in the target", x.0, x.1, y.1))
        .collect();
    if !diffs.is_empty() {
        bail!(
            "the copy does not match the source ({}); was the target not empty, or written meanwhile?",
            diffs.join("; ")
        );
    }
    eprintln!(
        "copied {total} records from {} {} to {} {} in {:.1?}; counts match",
        from.kind(),
        from.location(),
        to.kind(),
        to.location(),
        t0.elapsed()
    );
    copy_beside(from, to).await?;
    Ok(b)
}

/// `Ok(None)` when the store keeps no such records ("not supported").
fn kept<T>(r: Result<T, StoreError>) -> Result<Option<T>, StoreError> {
    match r {
        Ok(v) => Ok(Some(v)),
        Err(StoreError::Backend(e)) if e.contains("not supported") => Ok(None),
        Err(e) => Err(e),
    }
}

/// Copies what lives beside the bundle: service cases with their desk
/// fields and deal-support assignments (both upserts, so a re-run is
/// harmless), then checks the target holds as many as the source. A target
/// that cannot keep them gets a warning naming how many were left behind.
pub async fn copy_beside(from: &dyn Store, to: &dyn Store) -> anyhow::Result<()> {
    let target = format!("{} {}", to.kind(), to.location());
    if let Some(cases) = kept(from.service_cases(None).await)?
        && !cases.is_empty()
    {
        let n = cases.len();
        match kept(to.save_service_cases(cases).await)? {
            None => eprintln!(
                "warning: {n} service cases' desk fields NOT copied: {target} does not keep service cases"
            ),
            Some(_) => {
                let there = to.service_cases(None).await?.len();
                if there != n {
                    bail!(
                        "service cases: {n} in the source, {there} in the target {target}; was the target not empty?"
                    );
                }
                eprintln!("copied {n} service cases' desk fields");
            }
        }
    }
    if let Some(support) = kept(from.deal_support(None).await)?
        && !support.is_empty()
    {
        let n = support.len();
        match kept(to.save_deal_support(support, Vec::new()).await)? {
            None => eprintln!(
                "warning: {n} deal-support assignments NOT copied: {target} does not keep them"
            ),
            Some(_) => {
                let there = to.deal_support(None).await?.len();
                if there != n {
                    bail!(
                        "deal-support assignments: {n} in the source, {there} in the target {target}; was the target not empty?"
                    );
                }
                eprintln!("copied {n} deal-support assignments");
            }
        }
    }
    Ok(())
}

pub async fn run(args: &MigrateArgs, config: &Config, quiet: bool) -> anyhow::Result<()> {
    let from = open_spec(&args.from, config)
        .await
        .context("opening the source")?;
    let to = open_spec(&args.to, config)
        .await
        .context("opening the target")?;
    copy(from.as_ref(), to.as_ref(), quiet).await?;
    Ok(())
}
