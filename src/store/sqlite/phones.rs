//! People's phone numbers and e-mails' reply links in the SQLite store.
//!
//! Phones are not unique (a switchboard number is shared by many people), so
//! unlike e-mail addresses they are keyed by person and number. A reply link
//! says which interaction an e-mail answers; it lives beside the compact
//! `interactions` table (most interactions have none) and goes with its
//! interaction: a trigger deletes it when the interaction is deleted (merge,
//! forget, retention).

use rusqlite::{Connection, Transaction, params_from_iter};
use rustc_hash::FxHashMap;

use renmai_graph::{Interaction, PersonPhone, Phone, PhoneKind};

use super::parsed;
use crate::store::StoreError;

pub(super) const MIGRATION: &str = r#"
-- people's phone numbers (E.164 where the country is known) and what they are for
CREATE TABLE person_phones (
    person_id TEXT NOT NULL REFERENCES people(id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    number    TEXT NOT NULL,
    kind      TEXT,
    PRIMARY KEY (person_id, number)
) WITHOUT ROWID;
CREATE INDEX person_phones_number ON person_phones(number);

-- the interaction an e-mail answers (In-Reply-To), by interaction id
CREATE TABLE interaction_replies (
    interaction_id TEXT PRIMARY KEY,
    in_reply_to    TEXT NOT NULL
) WITHOUT ROWID;
CREATE TRIGGER interaction_replies_follow_deletes AFTER DELETE ON interactions
BEGIN
    DELETE FROM interaction_replies WHERE interaction_id = old.id;
END;
"#;

/// Replaces the stored phones of a person with `phones`.
pub(super) fn write_person_phones(
    tx: &Transaction<'_>,
    person: &str,
    phones: &[PersonPhone],
    replace: bool,
) -> Result<(), StoreError> {
    if replace {
        tx.prepare_cached("DELETE FROM person_phones WHERE person_id = ?1")?
            .execute([person])?;
    }
    let mut ins = tx.prepare_cached(
        "INSERT INTO person_phones (person_id, number, kind) VALUES (?1, ?2, ?3) \
         ON CONFLICT (person_id, number) DO UPDATE SET kind = coalesce(excluded.kind, kind)",
    )?;
    for p in phones {
        ins.execute(rusqlite::params![
            person,
            p.number.as_str(),
            p.kind.map(|k| k.as_str())
        ])?;
    }
    Ok(())
}

fn phone_from(number: String, kind: Option<String>) -> Result<PersonPhone, StoreError> {
    Ok(PersonPhone {
        number: parsed(Phone::from_stored(&number))?,
        kind: match kind {
            Some(k) => Some(parsed(PhoneKind::parse(&k))?),
            None => None,
        },
    })
}

/// The phones of one person, in number order.
pub(super) fn person_phones(
    conn: &Connection,
    person: &str,
) -> Result<Vec<PersonPhone>, StoreError> {
    let mut q = conn.prepare_cached(
        "SELECT number, kind FROM person_phones WHERE person_id = ?1 ORDER BY number",
    )?;
    let rows = q.query_map([person], |r| Ok((r.get(0)?, r.get(1)?)))?;
    let mut out = Vec::new();
    for r in rows {
        let (n, k) = r?;
        out.push(phone_from(n, k)?);
    }
    Ok(out)
}

/// The phones of the people whose ids are in the JSON array `ids`.
pub(super) fn phones_of(
    conn: &Connection,
    ids: &str,
) -> Result<FxHashMap<String, Vec<PersonPhone>>, StoreError> {
    let mut q = conn.prepare_cached(
        "SELECT person_id, number, kind FROM person_phones \
         WHERE person_id IN (SELECT value FROM json_each(?1)) ORDER BY person_id, number",
    )?;
    let rows = q.query_map([ids], |r| {
        Ok((r.get::<_, String>(0)?, r.get(1)?, r.get(2)?))
    })?;
    let mut out: FxHashMap<String, Vec<PersonPhone>> = FxHashMap::default();
    for r in rows {
        let (id, n, k) = r?;
        out.entry(id).or_default().push(phone_from(n, k)?);
    }
    Ok(out)
}

/// Rows per multi-row upsert of reply links.
const REPLY_BATCH: usize = 128;

/// Stores the reply links of `interactions` (those with `in_reply_to`):
/// new links are inserted, changed ones updated, unchanged ones left alone.
/// Batched: a re-import of a mailbox of a million messages writes no row
/// per message and pays one statement per 128 links.
pub(super) fn write_replies(
    tx: &Transaction<'_>,
    interactions: &[Interaction],
) -> Result<(), StoreError> {
    let links: Vec<(&str, &str)> = interactions
        .iter()
        .filter_map(|i| Some((i.id.as_str(), i.in_reply_to.as_ref()?.as_str())))
        .collect();
    let sql = |n: usize| {
        format!(
            "INSERT INTO interaction_replies (interaction_id, in_reply_to) VALUES {} \
             ON CONFLICT (interaction_id) DO UPDATE SET in_reply_to = excluded.in_reply_to \
             WHERE in_reply_to <> excluded.in_reply_to",
            vec!["(?, ?)"; n].join(", ")
        )
    };
    let full = sql(REPLY_BATCH);
    for chunk in links.chunks(REPLY_BATCH) {
        let text = if chunk.len() == REPLY_BATCH {
            full.clone()
        } else {
            sql(chunk.len())
        };
        let mut stmt = tx.prepare_cached(&text)?;
        stmt.execute(params_from_iter(chunk.iter().flat_map(|&(a, b)| [a, b])))?;
    }
    Ok(())
}
