//! Packed account blocks: one account's whole scoring slice kept in a few
//! large string properties, so a cold read is two small queries instead of
//! a dozen index scans over tens of thousands of records.
//!
//! Why: on a Bolt server each record read costs (ArcadeDB: the 33,499
//! interactions of the medium bundle's largest account take 340 ms just to
//! be read), while a few large strings come back in one round trip.
//!
//! Layout. `AccountBlock` nodes keyed by account and chunk number hold the
//! text of [`encode`] cut into chunks of at most [`CHUNK_BYTES`], each with
//! the chunk count and the two stamps it was built under. `AccountStamp`
//! nodes hold a fresh random value per account, and one for our own company
//! ([`OURS`]); every write transaction that changes what a slice holds sets
//! new stamps (see [`touch`]). A block is used only when all its chunks carry
//! the current stamps; otherwise the slice is read record by record and the
//! block rebuilt. Stamps are read before the records, so a block never
//! claims a stamp older than its data: a write that commits in between sets
//! a newer stamp and the block is simply not used.
//!
//! What a write stamps: a bundle of interactions and assessments only (what
//! the API and mailbox imports write) stamps the accounts those touch, as
//! the engine's own cache invalidation; anything else (people,
//! organizations, teams, influence lines, deals, merges and splits) stamps
//! every account at once through [`OURS`]. Any new write path of this
//! store must call [`touch`] in its transaction.

use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};

use neo4rs::{Txn, query};
use renmai_graph::{AccountData, Interaction, InteractionId, InteractionKind, PersonId, Timestamp};
use serde::Deserialize;

use super::{Row, StoreError, int, s};

/// Largest chunk, in bytes: well under the record size every Bolt server
/// takes comfortably (ArcadeDB pages are 64 KiB).
pub const CHUNK_BYTES: usize = 60_000;
/// The stamp of our own company's people, which every slice includes.
pub const OURS: &str = "\u{1f}ours";
/// First line of the packed text; a new layout gets a new number and old
/// blocks are then rebuilt, never misread.
const HEADER: &str = "renmai-block/2";

/// The two stamps a block is built under.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stamps {
    pub account: String,
    pub ours: String,
}

/// A fresh stamp value: the time in nanoseconds, the writing process (see
/// [`super::version::WRITER`]) and a counter, so no two writes anywhere set
/// the same value and other app servers can tell who wrote it.
pub fn fresh_stamp() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!(
        "{nanos:x}-{}-{:x}",
        *super::version::WRITER,
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// Sets new stamps on `accounts` (and on every account at once when
/// `everything`) inside the write transaction `txn`.
pub async fn touch(
    txn: &mut Txn,
    accounts: &HashSet<String>,
    everything: bool,
) -> Result<(), neo4rs::Error> {
    let mut keys: Vec<String> = accounts.iter().cloned().collect();
    if everything {
        keys = vec![OURS.to_owned()];
    }
    if keys.is_empty() {
        return Ok(());
    }
    keys.sort();
    txn.run(
        query("UNWIND $keys AS k MERGE (s:AccountStamp {account_id: k}) SET s.v = $v")
            .param("keys", keys.clone())
            .param("v", fresh_stamp()),
    )
    .await?;
    super::version::mark(txn, keys).await
}

/// The packed text of a slice: a header line, the slice without its
/// interactions as one line of JSON, then one line per interaction
/// (`id TAB kind TAB epoch-seconds TAB participants`, initiator first,
/// separated by U+001F; ids never hold control characters).
pub fn encode(data: &AccountData) -> Result<String, StoreError> {
    let rest = AccountData {
        interactions: Vec::new(),
        ..data.clone()
    };
    let json = serde_json::to_string(&rest)
        .map_err(|e| StoreError::Backend(format!("packing an account block: {e}")))?;
    let mut out = String::with_capacity(json.len() + data.interactions.len() * 40 + 32);
    out.push_str(HEADER);
    out.push('\n');
    out.push_str(&json);
    out.push('\n');
    for i in &data.interactions {
        out.push_str(i.id.as_str());
        out.push('\t');
        out.push_str(i.kind.as_str());
        out.push('\t');
        out.push_str(&i.at.epoch_seconds().to_string());
        out.push('\t');
        out.push_str(i.initiator.as_str());
        for p in i.participants.iter().filter(|p| **p != i.initiator) {
            out.push('\u{1f}');
            out.push_str(p.as_str());
        }
        // Layout 2: the answered interaction, when there is one.
        if let Some(r) = &i.in_reply_to {
            out.push('\t');
            out.push_str(r.as_str());
        }
        out.push('\n');
    }
    Ok(out)
}

/// The slice back from [`encode`]'s text; an error for anything else.
pub fn decode(text: &str) -> Result<AccountData, StoreError> {
    let bad =
        |what: String| StoreError::Backend(format!("an account block does not decode: {what}"));
    let mut lines = text.split_terminator('\n');
    if lines.next() != Some(HEADER) {
        return Err(bad("unknown layout".into()));
    }
    let json = lines.next().ok_or_else(|| bad("no slice line".into()))?;
    let mut data: AccountData = serde_json::from_str(json).map_err(|e| bad(e.to_string()))?;
    for (n, line) in lines.enumerate() {
        let mut f = line.split('\t');
        let (Some(id), Some(kind), Some(at), Some(parts), reply, None) =
            (f.next(), f.next(), f.next(), f.next(), f.next(), f.next())
        else {
            return Err(bad(format!(
                "interaction line {} has not 4 or 5 fields",
                n + 1
            )));
        };
        let in_reply_to = reply
            .map(InteractionId::parse)
            .transpose()
            .map_err(|e| bad(format!("interaction {id}: {e}")))?;
        let at: i64 = at
            .parse()
            .map_err(|e| bad(format!("interaction {id}: time {at:?}: {e}")))?;
        let participants = parts
            .split('\u{1f}')
            .map(PersonId::parse)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| bad(format!("interaction {id}: {e}")))?;
        data.interactions.push(Interaction {
            id: InteractionId::parse(id).map_err(|e| bad(e.to_string()))?,
            kind: InteractionKind::parse(kind).map_err(|e| bad(e.to_string()))?,
            at: Timestamp::from_epoch_seconds(at),
            initiator: participants[0].clone(),
            in_reply_to,
            participants,
        });
    }
    Ok(data)
}

/// `text` cut into pieces of at most [`CHUNK_BYTES`] at character boundaries.
pub fn chunks(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        let mut end = rest.len().min(CHUNK_BYTES);
        while !rest.is_char_boundary(end) {
            end -= 1;
        }
        let (head, tail) = rest.split_at(end);
        out.push(head);
        rest = tail;
    }
    out
}

/// One stored chunk.
#[derive(Debug, Deserialize)]
pub struct ChunkRow {
    pub seq: i64,
    pub n: i64,
    pub stamp: String,
    pub ours: String,
    pub body: String,
}

/// The stored text when every chunk is there and carries `current`.
pub fn assemble(mut rows: Vec<ChunkRow>, current: &Stamps) -> Option<String> {
    let n = rows.first()?.n;
    if rows.len() as i64 != n
        || rows
            .iter()
            .any(|r| r.n != n || r.stamp != current.account || r.ours != current.ours)
    {
        return None;
    }
    rows.sort_by_key(|r| r.seq);
    if rows.iter().enumerate().any(|(i, r)| r.seq != i as i64) {
        return None;
    }
    Some(rows.into_iter().map(|r| r.body).collect())
}

/// The rows that store `text` as the block of `account` under `stamps`.
pub fn chunk_rows(account: &str, stamps: &Stamps, text: &str) -> Vec<Row> {
    let pieces = chunks(text);
    let n = pieces.len() as i64;
    pieces
        .into_iter()
        .enumerate()
        .map(|(i, body)| {
            row! {
                "key" => s(&super::key(&[account, &i.to_string()])),
                "account_id" => s(account),
                "seq" => int(i as i64),
                "n" => int(n),
                "stamp" => s(&stamps.account),
                "ours" => s(&stamps.ours),
                "body" => s(body),
            }
        })
        .collect()
}
