//! `renmai forget|retention|audit|backup|restore`: erasing a person,
//! deleting old interaction metadata, reading the audit log, and backups.

use std::path::Path;

use clap::Subcommand;
use renmai_graph::{PersonId, Timestamp};

use super::TableOrJson;
use crate::privacy::{ForgetReport, RetentionReport, cli_actor};
use crate::store::Store;

#[derive(Subcommand, Debug)]
pub enum RetentionCommand {
    /// Delete interactions older than `[retention] interactions_days` now
    /// (`serve` also does it every hour) and say how many went.
    Apply {
        /// Overrides `[retention] interactions_days` for this run.
        #[arg(long)]
        days: Option<u32>,
    },
}

/// Appends to the audit log as the CLI user; a store without an audit log
/// skips it.
pub async fn note(store: &dyn Store, action: &str, detail: &str) -> anyhow::Result<()> {
    match store.record_audit(&cli_actor(), action, detail).await {
        Err(crate::store::StoreError::Backend(e)) if e.contains("not supported") => Ok(()),
        other => Ok(other?),
    }
}

/// `renmai forget PERSON`: erases them and prints what went.
pub async fn forget(store: &dyn Store, person: &str, format: TableOrJson) -> anyhow::Result<()> {
    let id = PersonId::parse(person).map_err(|e| anyhow::anyhow!("{e}"))?;
    let name = store.person(&id).await?.map(|r| r.person.name);
    let report = store.forget_person(&id, &cli_actor()).await?;
    match format {
        TableOrJson::Json => println!("{}", serde_json::to_string_pretty(&report)?),
        TableOrJson::Table => print!("{}", forget_table(&report, person, name.as_deref())),
    }
    Ok(())
}

fn forget_table(r: &ForgetReport, id: &str, name: Option<&str>) -> String {
    let mut out = format!(
        "erased person {id}{} from {} (the audit log calls them {})\n",
        name.map(|n| format!(" ({n})")).unwrap_or_default(),
        "every table",
        r.person
    );
    for (what, n) in r.rows() {
        if n > 0 {
            out.push_str(&format!("  {what:<26} {n:>8}\n"));
        }
    }
    out
}

/// The cutoff for keeping `days` days, from now.
pub fn retention_cutoff(days: u32) -> Timestamp {
    let now = chrono::Utc::now().timestamp();
    Timestamp::from_epoch_seconds(now - i64::from(days) * 86_400)
}

/// Applies retention once; what `retention apply` and the serve schedule run.
pub async fn apply_retention(
    store: &dyn Store,
    days: u32,
    actor: &str,
) -> anyhow::Result<RetentionReport> {
    Ok(store
        .apply_retention(retention_cutoff(days), days, actor)
        .await?)
}

pub async fn retention(
    store: &dyn Store,
    cmd: RetentionCommand,
    configured: Option<u32>,
) -> anyhow::Result<()> {
    match cmd {
        RetentionCommand::Apply { days } => {
            let Some(days) = days.or(configured) else {
                anyhow::bail!(
                    "no retention is configured: set `[retention] interactions_days = N` in the config file or pass --days N"
                );
            };
            let r = apply_retention(store, days, &cli_actor()).await?;
            println!(
                "deleted {} interaction(s) before {} (keeping {days} days)",
                r.interactions_deleted,
                r.cutoff.to_rfc3339()
            );
        }
    }
    Ok(())
}

/// `renmai audit [--since T]`.
pub async fn audit(
    store: &dyn Store,
    since: Option<&str>,
    format: TableOrJson,
) -> anyhow::Result<()> {
    let since = since
        .map(|s| {
            Timestamp::parse(s)
                .map_err(|e| anyhow::anyhow!("--since: {e} (e.g. 2026-11-01T00:00:00Z)"))
        })
        .transpose()?;
    let log = store.audit_log(since).await?;
    note(store, "audit view", &format!("{} lines", log.len())).await?;
    match format {
        TableOrJson::Json => println!("{}", serde_json::to_string_pretty(&log)?),
        TableOrJson::Table => {
            for e in &log {
                println!(
                    "{:>6}  {}  {:<16} {:<12} {}",
                    e.seq,
                    e.at.to_rfc3339(),
                    e.actor,
                    e.action,
                    e.detail
                );
            }
            if log.is_empty() {
                eprintln!("the audit log is empty");
            }
        }
    }
    Ok(())
}

pub async fn backup(store: &dyn Store, dest: &Path) -> anyhow::Result<()> {
    store.backup(dest).await?;
    let size = std::fs::metadata(dest).map(|m| m.len()).unwrap_or(0);
    note(store, "backup", &format!("to {}", dest.display())).await?;
    eprintln!(
        "backed up {} to {} ({} bytes); restore with `renmai restore {}`",
        store.location(),
        dest.display(),
        size,
        dest.display()
    );
    Ok(())
}

/// Replaces the database file with a backup; the store is not open.
pub async fn restore(db: &Path, backup: &Path) -> anyhow::Result<()> {
    crate::store::sqlite::SqliteStore::restore(backup, db)?;
    // Open it: brings an older backup's schema up to date and records the restore.
    let store = crate::store::sqlite::SqliteStore::open(db)?;
    store
        .record_audit(
            &cli_actor(),
            "restore",
            &format!("from {}", backup.display()),
        )
        .await?;
    let s = store.stats().await?;
    eprintln!(
        "restored {} from {}: {} organizations, {} people, {} interactions",
        db.display(),
        backup.display(),
        s.organizations,
        s.people_ours + s.people_customers,
        s.interactions
    );
    Ok(())
}
