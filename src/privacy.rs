//! Privacy and audit vocabulary shared by the stores, the CLI and the HTTP
//! layer: where a fact came from (provenance), the audit log, what erasing a
//! person removed, and what retention deleted.

use renmai_graph::Timestamp;
use serde::Serialize;

/// Where a write came from and who made it. Every stored fact points at the
/// import (one row per write) that last wrote it, so a million interactions
/// cost one small integer each, not a string each.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Provenance {
    /// What was read: a bundle file or folder, a mailbox, `api POST /interactions`,
    /// `page log-interaction`, `demo`.
    pub source: String,
    /// Who: `cli:$USER`, the API token's name as `api:NAME`, `page` (until
    /// pages know their signed-in user, which fills this plain field).
    pub actor: String,
}

impl Default for Provenance {
    fn default() -> Self {
        Provenance {
            source: "unknown".into(),
            actor: "unknown".into(),
        }
    }
}

impl Provenance {
    pub fn new(source: impl Into<String>, actor: impl Into<String>) -> Provenance {
        Provenance {
            source: source.into(),
            actor: actor.into(),
        }
    }

    /// A command-line write by the user running it.
    pub fn cli(source: impl Into<String>) -> Provenance {
        Provenance::new(source, cli_actor())
    }
}

/// `cli:$USER` (or `cli:unknown` when the variable is unset).
pub fn cli_actor() -> String {
    let user = std::env::var("USER")
        .or_else(|_| std::env::var("USERNAME"))
        .unwrap_or_else(|_| "unknown".into());
    format!("cli:{user}")
}

/// One write as recorded: what was read, by whom, when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImportRecord {
    pub id: i64,
    pub source: String,
    pub actor: String,
    pub at: Timestamp,
}

impl ImportRecord {
    /// "from mailbox.mbox, imported 2026-11-29 by cli:alice".
    pub fn describe(&self) -> String {
        format!(
            "from {}, imported {} by {}",
            self.source,
            self.at.to_datetime().format("%Y-%m-%d %H:%M UTC"),
            self.actor
        )
    }
}

/// Where a person's facts came from: their own record and their
/// interactions, grouped by the write that stored them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PersonProvenance {
    pub person: Option<ImportRecord>,
    /// The newest [`PROVENANCE_WRITES`] writes that stored interactions of
    /// this person, with how many, newest write first.
    pub interactions: Vec<(ImportRecord, u64)>,
    /// The writes before those, summed up.
    pub earlier: EarlierWrites,
}

/// A person's provenance lists this many writes one by one; older ones are
/// summed up (a CRM that logs each activity as it happens makes thousands).
pub const PROVENANCE_WRITES: usize = 20;

/// Writes of a person's interactions older than the ones listed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct EarlierWrites {
    pub writes: u64,
    /// How many of the person's interactions they stored.
    pub interactions: u64,
}

impl EarlierWrites {
    /// Keeps the newest [`PROVENANCE_WRITES`] of `writes` (newest first)
    /// and sums up the others.
    pub fn split_off(writes: &mut Vec<(ImportRecord, u64)>) -> EarlierWrites {
        let rest = writes.split_off(writes.len().min(PROVENANCE_WRITES));
        EarlierWrites {
            writes: rest.len() as u64,
            interactions: rest.iter().map(|(_, n)| n).sum(),
        }
    }
}

/// One line of the append-only audit log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditEntry {
    pub seq: i64,
    pub at: Timestamp,
    pub actor: String,
    /// `import`, `merge`, `split`, `forget`, `retention`, `export`, `restore`, …
    pub action: String,
    pub detail: String,
}

/// What `forget` removed, table by table (also the body of
/// `DELETE /api/v1/people/{id}`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ForgetReport {
    /// How the audit log names the erased person from now on.
    pub person: String,
    pub emails: u64,
    pub external_ids: u64,
    pub phones: u64,
    /// Interactions deleted because fewer than two participants remained.
    pub interactions_deleted: u64,
    /// Interactions kept without them (two or more others remained).
    pub interactions_edited: u64,
    pub account_team: u64,
    pub influences: u64,
    pub assessments: u64,
    /// Assessments they made of others: kept, with the assessor cleared.
    pub assessments_unattributed: u64,
    pub deal_contacts: u64,
    /// Service cases where they were the customer's contact (deleted), or
    /// the owner (kept, without an owner).
    pub service_cases: u64,
    /// Their assignments as presales or expert on deals.
    pub deal_support: u64,
    /// Deals they owned: kept, without an owner.
    pub deals_unowned: u64,
    /// People who reported to them: kept, without a manager.
    pub reports_unlinked: u64,
    pub review_pairs: u64,
    pub merge_records: u64,
    pub plan_items: u64,
    /// Plan snapshots whose text named them: the mentions replaced.
    pub snapshots_scrubbed: u64,
    pub idempotency_entries: u64,
    pub audit_lines_redacted: u64,
}

impl ForgetReport {
    pub fn rows(&self) -> [(&'static str, u64); 20] {
        [
            ("e-mail addresses", self.emails),
            ("CRM ids", self.external_ids),
            ("phone numbers", self.phones),
            ("interactions deleted", self.interactions_deleted),
            ("interactions edited", self.interactions_edited),
            ("account team lines", self.account_team),
            ("influence lines", self.influences),
            ("assessments", self.assessments),
            ("assessments unattributed", self.assessments_unattributed),
            ("deal contacts", self.deal_contacts),
            ("service cases", self.service_cases),
            ("deal support assignments", self.deal_support),
            ("deals unowned", self.deals_unowned),
            ("reports unlinked", self.reports_unlinked),
            ("review pairs", self.review_pairs),
            ("merge records", self.merge_records),
            ("plan objectives/actions", self.plan_items),
            ("plan snapshots scrubbed", self.snapshots_scrubbed),
            ("idempotency entries", self.idempotency_entries),
            ("audit lines redacted", self.audit_lines_redacted),
        ]
    }
}

impl ForgetReport {
    /// The audit log's line for this erasure: what went, kind by kind.
    pub fn audit_detail(&self) -> String {
        let removed: Vec<String> = self
            .rows()
            .iter()
            .filter(|(_, n)| *n > 0)
            .map(|(k, n)| format!("{n} {k}"))
            .collect();
        format!("erased {}: {}", self.person, removed.join(", "))
    }
}

/// `text` with each occurrence of `word` that stands alone (not part of a
/// longer id or word: "1" in "write 1:" but not in "1034") replaced.
pub fn replace_word(text: &str, word: &str, with: &str) -> String {
    let part_of_word = |c: char| c.is_alphanumeric() || matches!(c, '-' | '_' | '.' | '@');
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find(word) {
        let before = rest[..i].chars().next_back().or(out.chars().next_back());
        let after = rest[i + word.len()..].chars().next();
        out.push_str(&rest[..i]);
        if before.is_some_and(part_of_word) || after.is_some_and(part_of_word) {
            out.push_str(word);
        } else {
            out.push_str(with);
        }
        rest = &rest[i + word.len()..];
    }
    out.push_str(rest);
    out
}

/// An audit line with the erased person's id, name and e-mail addresses
/// replaced wherever they stand alone (see [`replace_word`]).
pub fn redact_audit_detail(detail: &str, id: &str, name: &str, emails: &[String]) -> String {
    let id_as = redacted_id(id);
    std::iter::once((id, id_as.as_str()))
        .chain(std::iter::once((name, "[forgotten]")))
        .chain(emails.iter().map(|e| (e.as_str(), "[forgotten]")))
        .filter(|(n, _)| !n.is_empty())
        .fold(detail.to_owned(), |t, (n, r)| replace_word(&t, n, r))
}

/// What a retention run deleted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RetentionReport {
    /// Interactions before this instant were deleted.
    pub cutoff: Timestamp,
    pub interactions_deleted: u64,
}

/// A short, stable stand-in for a person id in the audit log after they
/// were forgotten: proves "this id was erased" to whoever knows the id,
/// tells nobody else who it was.
pub fn redacted_id(id: &str) -> String {
    format!(
        "forgotten:{}",
        &crate::auth::sha256_hex(id.as_bytes())[..12]
    )
}

#[cfg(test)]
mod tests {
    use super::replace_word;

    #[test]
    fn redaction_replaces_whole_ids_only() {
        assert_eq!(
            replace_word("bundle (write 1): 1034 new; merged 1 into 12", "1", "X"),
            "bundle (write X): 1034 new; merged X into 12"
        );
        assert_eq!(replace_word("p-1 and 1", "1", "X"), "p-1 and X");
    }
}
