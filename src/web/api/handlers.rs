//! The handlers of `/api/v1`, each with its OpenAPI description.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use renmai_graph::score::AccountScores;
use renmai_graph::{Assessment, Email, ExternalId, Interaction, OrgId, PersonId, Timestamp};
use serde::Deserialize;
use utoipa::{IntoParams, IntoResponses};

use super::dto::*;
use super::extract::{ApiJson, ApiQuery, IdempotencyKey, ReadAccess, WriteAccess};
use super::{MAX_BATCH, OpenApiText};
use crate::auth::{self, ApiToken};
use crate::bundle::Bundle;
use crate::engine::now_to_the_minute;
use crate::store::{NoProgress, PersonLookup, PersonRecord, StoredResponse};
use crate::validate::SourceMap;
use crate::web::error::Problem;
use crate::web::{AppError, AppState};

/// Errors every authenticated call can answer.
#[derive(IntoResponses)]
#[allow(dead_code)]
pub enum CommonErrors {
    /// No token, or an unknown or revoked one (`WWW-Authenticate: Bearer`).
    #[response(status = 401, content_type = "application/problem+json")]
    Unauthorized(Problem),
    /// The token's scope does not allow this call.
    #[response(status = 403, content_type = "application/problem+json")]
    Forbidden(Problem),
    /// A parameter or field is invalid; `field` names it.
    #[response(status = 422, content_type = "application/problem+json")]
    Unprocessable(Problem),
}

/// Errors of calls with a JSON body.
#[derive(IntoResponses)]
#[allow(dead_code)]
pub enum BodyErrors {
    /// The body is not JSON.
    #[response(status = 400, content_type = "application/problem+json")]
    BadRequest(Problem),
    /// The body is over the size limit (2 MiB).
    #[response(status = 413, content_type = "application/problem+json")]
    TooLarge(Problem),
    /// The body is not sent as `application/json`.
    #[response(status = 415, content_type = "application/problem+json")]
    UnsupportedMediaType(Problem),
}

/// No such account or person.
#[derive(IntoResponses)]
#[allow(dead_code)]
pub enum NotFound {
    /// No such account or person (or the person is not a stakeholder of the
    /// account, or not one the token's user may see).
    #[response(status = 404, content_type = "application/problem+json")]
    NotFound(Problem),
}

/// Read responses carry an `ETag`; a matching `If-None-Match` gets this.
#[derive(IntoResponses)]
#[allow(dead_code)]
pub enum NotModified {
    /// The representation has not changed since the `ETag` sent in `If-None-Match`.
    #[response(status = 304)]
    NotModified,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AsOfQuery {
    /// Score as of this time (RFC 3339, or a date); default now (to the minute).
    pub as_of: Option<String>,
}

pub(super) fn parse_as_of(s: Option<&str>) -> Result<Option<Timestamp>, AppError> {
    s.map(|s| {
        Timestamp::parse(s).map_err(|e| AppError::Unprocessable {
            detail: format!("parameter as_of: {e}"),
            field: Some("as_of".into()),
        })
    })
    .transpose()
}

pub(super) fn org_id(s: &str) -> Result<OrgId, AppError> {
    OrgId::parse(s).map_err(|e| AppError::Unprocessable {
        detail: format!("path parameter id: {e}"),
        field: Some("id".into()),
    })
}

fn person_id(s: &str, field: &str) -> Result<PersonId, AppError> {
    PersonId::parse(s).map_err(|e| AppError::Unprocessable {
        detail: format!("parameter {field}: {e}"),
        field: Some(field.into()),
    })
}

/// The account's slice and its scores, or 404.
async fn account_scores(
    state: &AppState,
    id: &OrgId,
    as_of: Option<Timestamp>,
) -> Result<(Arc<renmai_graph::AccountData>, Arc<AccountScores>), AppError> {
    let not_found = || AppError::NotFound(format!("there is no customer account {id:?}"));
    let data = state.engine.account_data(id).await?.ok_or_else(not_found)?;
    let scores = state
        .engine
        .scores(id, as_of)
        .await?
        .ok_or_else(not_found)?;
    Ok((data, scores))
}

// ---- accounts ----

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AccountListQuery {
    /// Page size, 1 to 500 (default 50).
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Only accounts of this industry (exact, case-insensitive).
    pub industry: Option<String>,
    /// Only accounts of this region (exact, case-insensitive).
    pub region: Option<String>,
    /// Only accounts whose name or id contains this text (case-insensitive).
    pub q: Option<String>,
}

/// Cursors are the hex of the last account's id: opaque to clients, stable
/// across inserts (keyset pagination over the name-ordered list).
fn decode_cursor(c: &str) -> Result<String, AppError> {
    let bad = || AppError::Unprocessable {
        detail: "parameter cursor: pass the next_cursor of the previous page unchanged".into(),
        field: Some("cursor".into()),
    };
    if !c.len().is_multiple_of(2) || c.is_empty() {
        return Err(bad());
    }
    let bytes = (0..c.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(c.get(i..i + 2).ok_or_else(bad)?, 16).map_err(|_| bad()))
        .collect::<Result<Vec<u8>, AppError>>()?;
    String::from_utf8(bytes).map_err(|_| bad())
}

fn encode_cursor(id: &str) -> String {
    id.bytes().map(|b| format!("{b:02x}")).collect()
}

/// Customer accounts, by name, filtered and paginated.
#[utoipa::path(get, path = "/accounts", tag = "accounts", params(AccountListQuery),
    responses((status = 200, description = "A page of accounts", body = AccountPage, headers(("ETag" = String))), NotModified, CommonErrors))]
pub async fn list_accounts(
    State(state): State<AppState>,
    _auth: ReadAccess,
    ApiQuery(q): ApiQuery<AccountListQuery>,
) -> Result<Json<AccountPage>, AppError> {
    let limit = q.limit.unwrap_or(50);
    if !(1..=500).contains(&limit) {
        return Err(AppError::Unprocessable {
            detail: format!("parameter limit: expected 1 to 500, got {limit}"),
            field: Some("limit".into()),
        });
    }
    let after = q.cursor.as_deref().map(decode_cursor).transpose()?;
    let eq = |a: &Option<String>, b: &Option<String>| match b {
        None => true,
        Some(b) => a.as_deref().is_some_and(|a| a.eq_ignore_ascii_case(b)),
    };
    let needle = q.q.as_ref().map(|s| s.to_lowercase());
    let all = state.store().accounts().await?;
    let mut matching = all.iter().filter(|a| {
        eq(&a.industry, &q.industry)
            && eq(&a.region, &q.region)
            && needle.as_ref().is_none_or(|n| {
                a.name.to_lowercase().contains(n) || a.id.as_str().to_lowercase().contains(n)
            })
    });
    if let Some(after) = &after {
        // Skip through the cursor's account (the list is in a stable order).
        if !matching.any(|a| a.id.as_str() == after) {
            return Err(AppError::Unprocessable {
                detail: "parameter cursor: it does not belong to this listing (filters changed, or the account was removed)".into(),
                field: Some("cursor".into()),
            });
        }
    }
    let page: Vec<_> = matching.by_ref().take(limit as usize).collect();
    let next_cursor = match (page.last(), matching.next()) {
        (Some(last), Some(_)) => Some(encode_cursor(last.id.as_str())),
        _ => None,
    };
    Ok(Json(AccountPage {
        accounts: page.into_iter().map(AccountSummaryOut::from).collect(),
        next_cursor,
    }))
}

/// One account with its relationship index and coverage.
#[utoipa::path(get, path = "/accounts/{id}", tag = "accounts",
    params(("id" = String, Path, description = "Account id", example = "acc-hartmann"), AsOfQuery),
    responses((status = 200, description = "The account", body = AccountOut, headers(("ETag" = String))), NotModified, CommonErrors, NotFound))]
pub async fn get_account(
    State(state): State<AppState>,
    _auth: ReadAccess,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<AsOfQuery>,
) -> Result<Json<AccountOut>, AppError> {
    let id = org_id(&id)?;
    let as_of = parse_as_of(q.as_of.as_deref())?;
    let (data, scores) = account_scores(&state, &id, as_of).await?;
    let a = &data.account;
    Ok(Json(AccountOut {
        id: a.id.to_string(),
        name: a.name.clone(),
        industry: a.industry.clone(),
        region: a.region.clone(),
        tier: a.tier.clone(),
        parent: a.parent.as_ref().map(ToString::to_string),
        as_of: scores.as_of.to_rfc3339(),
        relationship_index: scores.relationship_index,
        stakeholders: scores.stakeholders.len(),
        coverage: CoverageStatusOut::new(&a.name, &scores),
        open_opportunities: data
            .opportunities
            .iter()
            .filter(|o| o.status == renmai_graph::OpportunityStatus::Open)
            .count(),
    }))
}

/// The account's stakeholders with closeness, influence and best warm path.
#[utoipa::path(get, path = "/accounts/{id}/stakeholders", tag = "accounts",
    params(("id" = String, Path, description = "Account id", example = "acc-hartmann"), AsOfQuery),
    responses((status = 200, description = "The stakeholders with their scores", body = StakeholderList, headers(("ETag" = String))), NotModified, CommonErrors, NotFound))]
pub async fn account_stakeholders(
    State(state): State<AppState>,
    _auth: ReadAccess,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<AsOfQuery>,
) -> Result<Json<StakeholderList>, AppError> {
    let id = org_id(&id)?;
    let as_of = parse_as_of(q.as_of.as_deref())?;
    let (data, scores) = account_scores(&state, &id, as_of).await?;
    let stakeholders = data
        .people
        .iter()
        .zip(&scores.stakeholders)
        .map(|(p, s)| StakeholderOut {
            person: PersonOut::new(p, &data.account.name, false),
            closeness: (&s.closeness).into(),
            influence: (&s.influence).into(),
            best_path: s.best_path.as_ref().map(Into::into),
        })
        .collect();
    Ok(Json(StakeholderList {
        account: id.to_string(),
        as_of: scores.as_of.to_rfc3339(),
        stakeholders,
    }))
}

/// Coverage gaps and single points of failure.
#[utoipa::path(get, path = "/accounts/{id}/coverage", tag = "accounts",
    params(("id" = String, Path, description = "Account id", example = "acc-hartmann"), AsOfQuery),
    responses((status = 200, description = "Coverage gaps and single points of failure", body = CoverageOut, headers(("ETag" = String))), NotModified, CommonErrors, NotFound))]
pub async fn account_coverage(
    State(state): State<AppState>,
    _auth: ReadAccess,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<AsOfQuery>,
) -> Result<Json<CoverageOut>, AppError> {
    let id = org_id(&id)?;
    let as_of = parse_as_of(q.as_of.as_deref())?;
    let (data, scores) = account_scores(&state, &id, as_of).await?;
    let c = &scores.coverage;
    let mut spof = Vec::new();
    if let Some(p) = &c.single_threaded_seller {
        spof.push(SinglePointOut {
            person: p.to_string(),
            kind: "single_threaded_seller".into(),
            why: format!("{p} holds every tie of ours at familiar or closer"),
        });
    }
    if let Some(p) = &c.single_stakeholder {
        spof.push(SinglePointOut {
            person: p.to_string(),
            kind: "single_stakeholder".into(),
            why: format!("{p} is the only stakeholder we are familiar with or closer"),
        });
    }
    for d in &c.dependencies {
        for p in &d.cut_people {
            spof.push(SinglePointOut {
                person: p.to_string(),
                kind: "path_cut".into(),
                why: format!(
                    "every warm path to economic buyer {} goes through {p}",
                    d.economic_buyer
                ),
            });
        }
    }
    Ok(Json(CoverageOut {
        account: id.to_string(),
        as_of: scores.as_of.to_rfc3339(),
        status: CoverageStatusOut::new(&data.account.name, &scores),
        gaps: c.gaps.clone(),
        single_points_of_failure: spof,
        report: c.clone(),
    }))
}

/// Whom to approach next, through whom, and why (best first).
#[utoipa::path(get, path = "/accounts/{id}/next-approaches", tag = "accounts",
    params(("id" = String, Path, description = "Account id", example = "acc-hartmann"), AsOfQuery),
    responses((status = 200, description = "Next approaches, best first", body = NextApproachList, headers(("ETag" = String))), NotModified, CommonErrors, NotFound))]
pub async fn account_next_approaches(
    State(state): State<AppState>,
    _auth: ReadAccess,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<AsOfQuery>,
) -> Result<Json<NextApproachList>, AppError> {
    let id = org_id(&id)?;
    let as_of = parse_as_of(q.as_of.as_deref())?;
    let (data, scores) = account_scores(&state, &id, as_of).await?;
    let name = |p: &PersonId| {
        data.people
            .iter()
            .find(|x| &x.id == p)
            .map(|x| x.name.clone())
    };
    let next_approaches = scores
        .next_approaches
        .iter()
        .map(|n| NextApproachOut {
            person: n.person.to_string(),
            name: name(&n.person),
            score: n.score,
            influence: n.influence,
            role_weight: n.role_weight,
            closeness: n.closeness,
            room: n.room,
            reachability: n.reachability,
            introducer: n.introducer.as_ref().map(ToString::to_string),
            connector: n.connector.as_ref().map(ToString::to_string),
            path: n.path.as_ref().map(Into::into),
            why: n.why.clone(),
        })
        .collect();
    Ok(Json(NextApproachList {
        account: id.to_string(),
        as_of: scores.as_of.to_rfc3339(),
        next_approaches,
    }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PathsQuery {
    /// How many paths, 1 to 10 (default 3).
    pub k: Option<u32>,
    /// Score as of this time (RFC 3339, or a date); default now.
    pub as_of: Option<String>,
}

/// The `k` best warm paths from our team to a stakeholder.
#[utoipa::path(get, path = "/accounts/{id}/paths/{person}", tag = "accounts",
    params(("id" = String, Path, description = "Account id", example = "acc-hartmann"),
           ("person" = String, Path, description = "The stakeholder to reach", example = "hm-001"), PathsQuery),
    responses((status = 200, description = "Warm paths, strongest first", body = WarmPathList, headers(("ETag" = String))), NotModified, CommonErrors, NotFound))]
pub async fn account_paths(
    State(state): State<AppState>,
    _auth: ReadAccess,
    Path((id, person)): Path<(String, String)>,
    ApiQuery(q): ApiQuery<PathsQuery>,
) -> Result<Json<WarmPathList>, AppError> {
    let id = org_id(&id)?;
    let target = person_id(&person, "person")?;
    let k = q.k.unwrap_or(3);
    if !(1..=10).contains(&k) {
        return Err(AppError::Unprocessable {
            detail: format!("parameter k: expected 1 to 10 paths, got {k}"),
            field: Some("k".into()),
        });
    }
    let as_of = parse_as_of(q.as_of.as_deref())?.unwrap_or_else(|| state.engine.default_as_of());
    let data = state
        .engine
        .account_data(&id)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("there is no customer account {id:?}")))?;
    if !data.people.iter().any(|p| p.id == target) {
        return Err(AppError::NotFound(format!(
            "{target:?} is not a stakeholder of account {id:?}"
        )));
    }
    let paths = state
        .engine
        .warm_paths(&id, &target, k as usize, Some(as_of))
        .await?
        .unwrap_or_default();
    Ok(Json(WarmPathList {
        account: id.to_string(),
        target: target.to_string(),
        as_of: as_of.to_rfc3339(),
        paths: paths.iter().map(Into::into).collect(),
    }))
}

// ---- people ----

/// One person with our closeness, influence, and every tie with its explanation.
#[utoipa::path(get, path = "/people/{id}", tag = "people",
    params(("id" = String, Path, description = "Person id", example = "hm-001"), AsOfQuery),
    responses((status = 200, description = "The person", body = PersonDetail, headers(("ETag" = String))), NotModified, CommonErrors, NotFound))]
pub async fn get_person(
    State(state): State<AppState>,
    _auth: ReadAccess,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<AsOfQuery>,
) -> Result<Json<PersonDetail>, AppError> {
    let id = person_id(&id, "id")?;
    let as_of = parse_as_of(q.as_of.as_deref())?.unwrap_or_else(|| state.engine.default_as_of());
    let rec = state
        .store()
        .person(&id)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("there is no person {id:?}")))?;
    let mut out = PersonDetail {
        person: PersonOut::from_record(&rec),
        as_of: as_of.to_rfc3339(),
        closeness: None,
        influence: None,
        ties: vec![],
        provenance: super::privacy::provenance_lines(state.store().as_ref(), &id).await,
    };
    if !rec.is_ours
        && let Some(scores) = state.engine.scores(&rec.person.org, Some(as_of)).await?
    {
        if let Some(s) = scores.stakeholders.iter().find(|s| s.person == id) {
            out.closeness = Some((&s.closeness).into());
            out.influence = Some((&s.influence).into());
        }
        let ties: Vec<_> = scores.ties.iter().filter(|t| t.theirs == id).collect();
        let data = state.engine.account_data(&rec.person.org).await?;
        let (people, ours) = data
            .as_deref()
            .map_or((&[][..], &[][..]), |d| (&d.people[..], &d.our_people[..]));
        let name = |p: &renmai_graph::PersonId| {
            people
                .iter()
                .chain(ours)
                .find(|x| x.id == *p)
                .map_or_else(|| p.to_string(), |x| x.name.clone())
        };
        out.ties = ties
            .iter()
            .map(|t| TieOut {
                ours: t.ours.to_string(),
                theirs: t.theirs.to_string(),
                closeness: t.closeness,
                level: t.level.get(),
                level_name: t.level.name().to_owned(),
                evidence: EvidenceOut::new(t.ours.as_str(), &t.explanation),
                reciprocity: ReciprocityOut::new(&t.reciprocity, &name(&t.ours), &name(&t.theirs)),
            })
            .collect();
    }
    Ok(Json(out))
}

// ---- enrichment ----

/// Enriches up to 1,000 contacts of another CRM: match status and
/// confidence, the person, our closeness, influence, buying role, attitude,
/// the account's coverage and the evidence, as of `as_of`.
#[utoipa::path(post, path = "/enrich", tag = "enrich", request_body = EnrichRequest,
    responses((status = 200, description = "One result per record, in order", body = EnrichResponse), CommonErrors, BodyErrors))]
pub async fn enrich(
    State(state): State<AppState>,
    _auth: ReadAccess,
    ApiJson { value: req, .. }: ApiJson<EnrichRequest>,
) -> Result<Json<EnrichResponse>, AppError> {
    if req.records.is_empty() || req.records.len() > MAX_BATCH {
        return Err(AppError::Unprocessable {
            detail: format!(
                "field `records`: send 1 to {MAX_BATCH} records per call, got {}",
                req.records.len()
            ),
            field: Some("records".into()),
        });
    }
    let as_of = req.as_of.unwrap_or_else(|| state.engine.default_as_of());
    // Every way each record can be matched, flattened into one store call.
    let mut lookups = Vec::new();
    let mut plans: Vec<Result<Vec<(&'static str, usize)>, String>> = Vec::new();
    for r in &req.records {
        let mut plan = Vec::new();
        let mut problem = None;
        if let Some(e) = &r.email {
            match Email::parse(e) {
                Ok(e) => {
                    plan.push(("email", lookups.len()));
                    lookups.push(PersonLookup::Email(e));
                }
                Err(e) => problem = Some(format!("email: {e}")),
            }
        }
        if let Some(x) = &r.external_id {
            match ExternalId::parse(x) {
                Ok(x) => {
                    plan.push(("external_id", lookups.len()));
                    lookups.push(PersonLookup::External(x));
                }
                Err(e) => problem = problem.or(Some(format!("external_id: {e}"))),
            }
        }
        match (&r.name, &r.company) {
            (Some(n), Some(c)) if !n.trim().is_empty() && !c.trim().is_empty() => {
                plan.push(("name_company", lookups.len()));
                lookups.push(PersonLookup::NameAtOrg {
                    name: n.trim().to_owned(),
                    org_name: c.trim().to_owned(),
                });
            }
            (None, None) => {}
            _ if plan.is_empty() => {
                problem = problem.or(Some("give both name and company to match by name".into()))
            }
            _ => {}
        }
        plans.push(match (plan.is_empty(), problem) {
            (true, Some(p)) => Err(p),
            (true, None) => {
                Err("give an email, an external_id (system:id), or name and company".into())
            }
            (false, _) => Ok(plan),
        });
    }
    let found = state.store().find_people(lookups).await?;
    let mut accounts: HashMap<OrgId, Option<Arc<AccountScores>>> = HashMap::new();
    let mut results = Vec::with_capacity(req.records.len());
    let mut matched = 0;
    for (index, (r, plan)) in req.records.iter().zip(plans).enumerate() {
        let mut out = EnrichResult {
            index,
            reference: r.reference.clone(),
            status: "not_found".into(),
            confidence: 0.0,
            matched_by: None,
            detail: None,
            person: None,
            candidates: vec![],
            closeness: None,
            influence: None,
            role: None,
            attitude: None,
            account: None,
            evidence: None,
            best_path: None,
        };
        let plan = match plan {
            Ok(p) => p,
            Err(why) => {
                out.status = "invalid".into();
                out.detail = Some(format!("records[{index}]: {why}"));
                results.push(out);
                continue;
            }
        };
        let hit = plan
            .iter()
            .find(|(_, i)| !found[*i].is_empty())
            .map(|(how, i)| (*how, &found[*i]));
        let Some((how, people)) = hit else {
            out.detail = Some("no person matches this record".into());
            results.push(out);
            continue;
        };
        out.matched_by = Some(how.to_owned());
        if people.len() > 1 {
            out.status = "ambiguous".into();
            out.confidence = 0.8 / people.len() as f64;
            out.candidates = people.iter().map(|p| p.person.id.to_string()).collect();
            out.detail = Some(format!(
                "{} people fit; add an email or external_id to tell them apart",
                people.len()
            ));
            results.push(out);
            continue;
        }
        matched += 1;
        out.status = "matched".into();
        out.confidence = if how == "name_company" { 0.8 } else { 1.0 };
        fill_scores(&state, &mut accounts, &people[0], as_of, &mut out).await?;
        results.push(out);
    }
    Ok(Json(EnrichResponse {
        as_of: as_of.to_rfc3339(),
        matched,
        results,
    }))
}

async fn fill_scores(
    state: &AppState,
    accounts: &mut HashMap<OrgId, Option<Arc<AccountScores>>>,
    rec: &PersonRecord,
    as_of: Timestamp,
    out: &mut EnrichResult,
) -> Result<(), AppError> {
    let p = &rec.person;
    out.person = Some(PersonOut::from_record(rec));
    out.role = p.role.map(|r| r.as_str().to_owned());
    out.attitude = p.attitude.map(|a| a.as_str().to_owned());
    if rec.is_ours {
        out.detail = Some(
            "one of our own people: closeness and influence are scored for customer stakeholders"
                .into(),
        );
        return Ok(());
    }
    if !accounts.contains_key(&p.org) {
        let s = state.engine.scores(&p.org, Some(as_of)).await?;
        accounts.insert(p.org.clone(), s);
    }
    let Some(scores) = accounts[&p.org].as_ref() else {
        return Ok(());
    };
    out.account = Some(CoverageStatusOut::new(&rec.org_name, scores));
    let Some(s) = scores.stakeholders.iter().find(|s| s.person == p.id) else {
        return Ok(());
    };
    out.closeness = Some((&s.closeness).into());
    out.influence = Some((&s.influence).into());
    out.best_path = s.best_path.as_ref().map(Into::into);
    if let Some(ours) = &s.closeness.best_connector {
        let key = (&p.id, ours);
        let tie = match scores
            .ties
            .binary_search_by(|t| (&t.theirs, &t.ours).cmp(&key))
        {
            Ok(i) => Some(&scores.ties[i]),
            Err(_) => scores
                .ties
                .iter()
                .find(|t| &t.theirs == key.0 && &t.ours == key.1),
        };
        out.evidence = tie.map(|t| EvidenceOut::new(ours.as_str(), &t.explanation));
    }
    Ok(())
}

// ---- writes ----

/// Runs a write once per (client, `Idempotency-Key`): a retry with the same
/// request gets the stored response (header `Idempotency-Replayed: true`)
/// and writes nothing; the same key with another request is a 422.
async fn idempotent<F, Fut>(
    state: &AppState,
    token: &ApiToken,
    key: Option<&str>,
    route: &str,
    body_hash: &str,
    write: F,
) -> Result<Response, AppError>
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<WriteResult, AppError>>,
{
    let request_hash = auth::sha256_hex(format!("{route}\n{body_hash}").as_bytes());
    if let Some(key) = key
        && let Some(stored) = state.store().idempotent_response(&token.name, key).await?
    {
        if stored.request_hash != request_hash {
            return Err(AppError::Unprocessable {
                detail: format!(
                    "Idempotency-Key {key:?} was already used with a different request; use a new key for a new request"
                ),
                field: Some("Idempotency-Key".into()),
            });
        }
        let status = StatusCode::from_u16(stored.status).unwrap_or(StatusCode::CREATED);
        let mut r = (
            status,
            [(header::CONTENT_TYPE, "application/json")],
            stored.body,
        )
            .into_response();
        r.headers_mut()
            .insert("idempotency-replayed", HeaderValue::from_static("true"));
        return Ok(r);
    }
    let result = write().await?;
    let body = serde_json::to_string(&result)
        .map_err(|e| AppError::Internal(format!("serializing the write result: {e}")))?;
    if let Some(key) = key {
        state
            .store()
            .save_idempotent_response(
                &token.name,
                key,
                StoredResponse {
                    request_hash,
                    status: StatusCode::CREATED.as_u16(),
                    body: body.clone(),
                },
            )
            .await?;
    }
    Ok((
        StatusCode::CREATED,
        [(header::CONTENT_TYPE, "application/json")],
        body,
    )
        .into_response())
}

/// Ids for interactions sent without one: derived from the idempotency key
/// (a retry writes the same ids, so nothing is counted twice) or random.
fn interaction_ids(token: &ApiToken, key: Option<&str>, n: usize) -> Vec<String> {
    let base = match key {
        Some(k) => auth::sha256_hex(format!("{}\0{k}", token.name).as_bytes())[..20].to_owned(),
        None => auth::sha256_hex(&rand::random::<[u8; 16]>())[..20].to_owned(),
    };
    (0..n).map(|i| format!("api-{base}-{i}")).collect()
}

async fn write_interactions(
    state: &AppState,
    token: &ApiToken,
    key: Option<&str>,
    items: Vec<InteractionIn>,
) -> Result<WriteResult, AppError> {
    let generated = interaction_ids(token, key, items.len());
    let interactions: Vec<Interaction> = items
        .into_iter()
        .zip(generated)
        .map(|(i, gen_id)| {
            Ok(Interaction {
                id: match i.id {
                    Some(id) => id,
                    None => renmai_graph::InteractionId::parse(&gen_id)
                        .map_err(|e| AppError::Internal(e.to_string()))?,
                },
                kind: i.kind,
                at: i.at,
                initiator: i.initiator,
                participants: i.participants,
                in_reply_to: None,
            })
        })
        .collect::<Result<_, AppError>>()?;
    let ids = interactions.iter().map(|i| i.id.to_string()).collect();
    let bundle = Bundle {
        interactions,
        ..Default::default()
    };
    let src = SourceMap::synthetic("request", &bundle).with_provenance(
        crate::privacy::Provenance::new("api POST /interactions", format!("api:{}", token.name)),
    );
    let summary = state
        .engine
        .import(bundle, src, Arc::new(NoProgress))
        .await?;
    Ok(WriteResult {
        created: summary.interactions.new,
        existing: summary.interactions.existing,
        ids,
    })
}

/// Logs one interaction.
#[utoipa::path(post, path = "/interactions", tag = "writes", request_body = InteractionIn,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe: the same key and body return the stored response")),
    responses((status = 201, description = "Written (or, with a known Idempotency-Key, the stored response)", body = WriteResult), CommonErrors, BodyErrors, NotFound))]
pub async fn log_interaction(
    State(state): State<AppState>,
    WriteAccess(token): WriteAccess,
    IdempotencyKey(key): IdempotencyKey,
    body: ApiJson<InteractionIn>,
) -> Result<Response, AppError> {
    let key = key.as_deref();
    idempotent(
        &state,
        &token,
        key,
        "POST /interactions",
        &body.body_hash,
        || write_interactions(&state, &token, key, vec![body.value]),
    )
    .await
}

/// Logs up to 1,000 interactions, all or nothing.
#[utoipa::path(post, path = "/interactions/batch", tag = "writes", request_body = InteractionBatch,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe: the same key and body return the stored response")),
    responses((status = 201, description = "Written (or, with a known Idempotency-Key, the stored response)", body = WriteResult), CommonErrors, BodyErrors, NotFound))]
pub async fn log_interactions_batch(
    State(state): State<AppState>,
    WriteAccess(token): WriteAccess,
    IdempotencyKey(key): IdempotencyKey,
    body: ApiJson<InteractionBatch>,
) -> Result<Response, AppError> {
    let n = body.value.interactions.len();
    if n == 0 || n > MAX_BATCH {
        return Err(AppError::Unprocessable {
            detail: format!("field `interactions`: send 1 to {MAX_BATCH} per call, got {n}"),
            field: Some("interactions".into()),
        });
    }
    let key = key.as_deref();
    idempotent(
        &state,
        &token,
        key,
        "POST /interactions/batch",
        &body.body_hash,
        || write_interactions(&state, &token, key, body.value.interactions),
    )
    .await
}

/// Records a human assessment of closeness between two people.
#[utoipa::path(post, path = "/assessments", tag = "writes", request_body = AssessmentIn,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe: the same key and body return the stored response")),
    responses((status = 201, description = "Written (or, with a known Idempotency-Key, the stored response)", body = WriteResult), CommonErrors, BodyErrors, NotFound))]
pub async fn record_assessment(
    State(state): State<AppState>,
    WriteAccess(token): WriteAccess,
    IdempotencyKey(key): IdempotencyKey,
    body: ApiJson<AssessmentIn>,
) -> Result<Response, AppError> {
    let key = key.as_deref();
    let a = body.value;
    idempotent(
        &state,
        &token,
        key,
        "POST /assessments",
        &body.body_hash,
        || async {
            let bundle = Bundle {
                assessments: vec![Assessment {
                    from: a.from,
                    to: a.to,
                    level: a.level,
                    at: a.at.unwrap_or_else(now_to_the_minute),
                    by: a.by,
                }],
                ..Default::default()
            };
            let src = SourceMap::synthetic("request", &bundle).with_provenance(
                crate::privacy::Provenance::new(
                    "api POST /assessments",
                    format!("api:{}", token.name),
                ),
            );
            let summary = state
                .engine
                .import(bundle, src, Arc::new(NoProgress))
                .await?;
            Ok(WriteResult {
                created: summary.assessments.new,
                existing: summary.assessments.existing,
                ids: vec![],
            })
        },
    )
    .await
}

// ---- meta ----

/// This OpenAPI 3.1 document (public).
#[utoipa::path(get, path = "/openapi.json", tag = "meta", security(()),
    responses((status = 200, description = "The OpenAPI 3.1 document of this API", body = Object, content_type = "application/json")))]
pub async fn openapi_json(axum::Extension(doc): axum::Extension<OpenApiText>) -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        doc.0.as_str().to_owned(),
    )
        .into_response()
}
