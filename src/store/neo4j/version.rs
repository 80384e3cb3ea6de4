//! Noticing writes by other app servers sharing the database, so their
//! engines drop stale slices and scores within a second instead of trusting
//! them for the engine's fallback TTL.
//!
//! Every write transaction that changes slices (see
//! [`block::touch`](super::block::touch)) also counts itself on a
//! `WriterMark` node of its own, one per account key and writing process
//! ([`WRITER`]). A background task sums the counts of every other process's
//! marks every [`POLL`]: another server's write moves the sum, ours never
//! do (the engine already updates what they touch, account by account), and
//! no write of ours can hide one of theirs, as a shared stamp it overwrote
//! could. The engine compares the result with the last one it saw
//! ([`Store::external_version`](crate::store::Store::external_version)).
//! Marks not written for [`MARK_TTL`] are deleted (one more change seen by
//! every server, harmless), so short-lived processes such as CLI imports do
//! not pile up.

use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, LazyLock};
use std::time::Duration;

use neo4rs::{Graph, Txn, query};
use serde::Deserialize;

/// How often the marks are read.
pub const POLL: Duration = Duration::from_millis(500);
/// How long a mark lives without a write.
pub const MARK_TTL: Duration = Duration::from_secs(24 * 3600);
/// How often old marks are deleted.
const PRUNE_EVERY: Duration = Duration::from_secs(3600);

/// This process's name on the marks it writes: random, so app servers on
/// different machines (with equal process ids) never share one.
pub static WRITER: LazyLock<String> = LazyLock::new(|| crate::access::password::random_secret(6));

fn now_seconds() -> i64 {
    chrono::Utc::now().timestamp()
}

/// Counts a write of this process on `keys` (account ids, or
/// [`super::block::OURS`] for everything), inside its transaction.
pub async fn mark(txn: &mut Txn, keys: Vec<String>) -> Result<(), neo4rs::Error> {
    txn.run(
        query(
            "UNWIND $keys AS k MERGE (m:WriterMark {account_id: k, writer: $w}) \
             SET m.n = coalesce(m.n, 0) + 1, m.at = $at",
        )
        .param("keys", keys)
        .param("w", WRITER.as_str())
        .param("at", now_seconds()),
    )
    .await
}

/// The latest fold of other processes' marks, kept up to date by a task
/// that stops when this is dropped.
pub struct ExternalVersion {
    value: Arc<AtomicU64>,
    known: Arc<AtomicBool>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for ExternalVersion {
    fn drop(&mut self) {
        self.task.abort();
    }
}

#[derive(Deserialize)]
struct Fold {
    total: Option<i64>,
    marks: Option<i64>,
}

/// One number for the writes of other processes: it moves with each.
fn fold(f: &Fold) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    (f.total.unwrap_or(0), f.marks.unwrap_or(0)).hash(&mut h);
    h.finish()
}

async fn read(graph: &Graph, limit: Duration) -> Option<u64> {
    let run = async {
        let mut stream = graph
            .execute(
                query(
                    "MATCH (m:WriterMark) WHERE m.writer <> $w \
                     RETURN sum(m.n) AS total, count(m) AS marks",
                )
                .param("w", WRITER.as_str()),
            )
            .await?;
        let row = stream.next().await?;
        Ok::<_, neo4rs::Error>(row.and_then(|r| r.to::<Fold>().ok()))
    };
    match tokio::time::timeout(limit, run).await {
        Ok(Ok(Some(f))) => Some(fold(&f)),
        Ok(Ok(None)) => Some(fold(&Fold {
            total: None,
            marks: None,
        })),
        Ok(Err(e)) => {
            tracing::debug!("reading the writer marks: {e}");
            None
        }
        Err(_) => None,
    }
}

async fn prune(graph: &Graph, limit: Duration) {
    let cutoff = now_seconds() - MARK_TTL.as_secs() as i64;
    let run = async {
        let mut txn = graph.start_txn().await?;
        txn.run(
            query("MATCH (m:WriterMark) WHERE m.at < $cutoff DELETE m").param("cutoff", cutoff),
        )
        .await?;
        txn.commit().await
    };
    if let Ok(Err(e)) = tokio::time::timeout(limit, run).await {
        tracing::debug!("deleting old writer marks: {e}");
    }
}

impl ExternalVersion {
    /// Reads the marks once, then keeps reading them in the background.
    pub async fn start(graph: Graph, limit: Duration) -> ExternalVersion {
        let first = read(&graph, limit).await;
        let value = Arc::new(AtomicU64::new(first.unwrap_or(0)));
        let known = Arc::new(AtomicBool::new(first.is_some()));
        let task = {
            let (value, known) = (value.clone(), known.clone());
            tokio::spawn(async move {
                let mut tick = tokio::time::interval(POLL);
                tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                let mut pruned = std::time::Instant::now();
                loop {
                    tick.tick().await;
                    if pruned.elapsed() >= PRUNE_EVERY {
                        pruned = std::time::Instant::now();
                        prune(&graph, limit).await;
                    }
                    if let Some(v) = read(&graph, limit).await {
                        value.store(v, Ordering::Relaxed);
                        known.store(true, Ordering::Relaxed);
                    }
                }
            })
        };
        ExternalVersion { value, known, task }
    }

    /// The latest fold, or `None` before the marks were ever read.
    pub fn get(&self) -> Option<u64> {
        self.known
            .load(Ordering::Relaxed)
            .then(|| self.value.load(Ordering::Relaxed))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fold_moves_with_every_count_and_every_new_mark() {
        let f = |total, marks| {
            fold(&Fold {
                total: Some(total),
                marks: Some(marks),
            })
        };
        assert_eq!(f(3, 1), f(3, 1));
        assert_ne!(f(4, 1), f(3, 1));
        assert_ne!(f(3, 2), f(3, 1));
        assert_eq!(
            fold(&Fold {
                total: None,
                marks: None
            }),
            f(0, 0)
        );
    }
}
