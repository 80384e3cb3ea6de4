//! Privacy routes: erasing a person (`DELETE /people/{id}`), and the
//! provenance lines shown with a person.

use axum::Json;
use axum::extract::{Path, State};
use renmai_graph::PersonId;
use serde::Serialize;
use utoipa::ToSchema;

use super::extract::WriteAccess;
use super::handlers::{CommonErrors, NotFound};
use crate::privacy::{ForgetReport, PersonProvenance};
use crate::store::{Store, StoreError};
use crate::web::{AppError, AppState};

/// Erases a person everywhere: their record, addresses and CRM ids, team,
/// influence, assessment and deal lines, review and merge records, plan
/// mentions, cached API responses, and the cached scores; interactions lose
/// them (and go when fewer than two people remain). Nothing of them stays
/// in the database files. Needs a write token of an admin or an operator
/// (403 for a seller's or manager's: the person may be in others' accounts);
/// recorded in the audit log.
#[utoipa::path(delete, path = "/people/{id}", tag = "people",
    params(("id" = String, Path, description = "Person id", example = "hm-001")),
    responses((status = 200, description = "Erased; what was removed", body = ForgetReport), CommonErrors, NotFound))]
pub async fn forget_person(
    State(state): State<AppState>,
    WriteAccess(token): WriteAccess,
    Path(id): Path<String>,
) -> Result<Json<ForgetReport>, AppError> {
    let id = PersonId::parse(&id).map_err(|e| AppError::Unprocessable {
        detail: format!("parameter id: {e}"),
        field: Some("id".into()),
    })?;
    let result = state
        .store()
        .forget_person(&id, &format!("api:{}", token.name))
        .await;
    // Whatever happened, no cached score may still hold them.
    state.engine.invalidate();
    match result {
        Ok(r) => Ok(Json(r)),
        Err(StoreError::NotFound(_)) => Err(AppError::NotFound(format!(
            "there is no person {id:?} (already erased, or never stored)"
        ))),
        Err(e) => Err(e.into()),
    }
}

/// Records in the audit log that `actor` viewed an export; stores without
/// an audit log (Neo4j for now) skip it, other failures refuse the view.
pub async fn audit_export_view(
    store: &dyn Store,
    actor: &str,
    detail: &str,
) -> Result<(), AppError> {
    match store.record_audit(actor, "export view", detail).await {
        Err(StoreError::Backend(e)) if e.contains("not supported") => Ok(()),
        other => Ok(other?),
    }
}

/// Where one of a person's facts came from.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ProvenanceOut {
    /// "person record", or "N interactions".
    pub what: String,
    /// What was read: a file, a mailbox, `api POST /interactions`, `page …`, `demo`.
    pub source: String,
    /// Who: `cli:USER`, `api:TOKEN_NAME`, `page`; empty on the line that
    /// sums up the writes older than the listed ones.
    pub actor: String,
    /// When it was written (RFC 3339); empty on that line too.
    pub imported_at: String,
    /// The whole line, e.g. "12 interactions from mailbox.mbox, imported 2026-11-29 09:12 UTC by cli:alice".
    pub text: String,
}

/// Provenance lines of a person; empty when the store keeps none.
pub async fn provenance_lines(store: &dyn Store, id: &PersonId) -> Vec<ProvenanceOut> {
    match store.person_provenance(id).await {
        Ok(Some(p)) => lines(&p),
        Ok(None) => vec![],
        Err(e) => {
            tracing::debug!("no provenance for {id}: {e}");
            vec![]
        }
    }
}

fn lines(p: &PersonProvenance) -> Vec<ProvenanceOut> {
    let line = |what: String, r: &crate::privacy::ImportRecord| ProvenanceOut {
        text: format!("{what} {}", r.describe()),
        what,
        source: r.source.clone(),
        actor: r.actor.clone(),
        imported_at: r.at.to_rfc3339(),
    };
    p.person
        .iter()
        .map(|r| line("person record".into(), r))
        .chain(p.interactions.iter().map(|(r, n)| {
            let what = if *n == 1 {
                "1 interaction".to_owned()
            } else {
                format!("{n} interactions")
            };
            line(what, r)
        }))
        .chain((p.earlier.writes > 0).then(|| {
            let e = p.earlier;
            let what = format!("{} interactions", e.interactions);
            let source = format!("{} earlier writes", e.writes);
            ProvenanceOut {
                text: format!(
                    "{what} from {source} (the newest {} writes are listed above)",
                    crate::privacy::PROVENANCE_WRITES
                ),
                what,
                source,
                actor: String::new(),
                imported_at: String::new(),
            }
        }))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::privacy::{EarlierWrites, ImportRecord};
    use renmai_graph::Timestamp;

    #[test]
    fn older_writes_are_one_line_after_the_listed_ones() {
        let write = |id: i64| ImportRecord {
            id,
            source: "api POST /interactions".into(),
            actor: "api:crm".into(),
            at: Timestamp::from_epoch_seconds(1_764_400_000 + id),
        };
        let p = PersonProvenance {
            person: None,
            interactions: vec![(write(2), 1), (write(1), 3)],
            earlier: EarlierWrites {
                writes: 40,
                interactions: 57,
            },
        };
        let texts: Vec<_> = lines(&p).into_iter().map(|l| l.text).collect();
        assert_eq!(texts.len(), 3);
        assert!(texts[1].starts_with("3 interactions from api POST /interactions, imported "));
        assert_eq!(
            texts[2],
            "57 interactions from 40 earlier writes (the newest 20 writes are listed above)"
        );
        let none = PersonProvenance {
            earlier: EarlierWrites::default(),
            ..p
        };
        assert_eq!(lines(&none).len(), 2);
    }
}
