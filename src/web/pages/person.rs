//! The person page and its two forms: log an interaction, record an
//! assessment. Both write through `engine.import` with a `Bundle`, so the
//! same validation and idempotent upserts apply as to a file import, and the
//! engine's caches are invalidated: the redirected page shows new scores.

use std::sync::atomic::{AtomicU64, Ordering};

use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use renmai_graph::{
    Assessment, Attitude, BuyingRole, ClosenessLevel, Interaction, InteractionId, InteractionKind,
    Person, PersonId, Timestamp,
};
use serde::Deserialize;

use super::account::{closeness_why, tie_index};
use super::{
    Choice, Link, Names, PathView, ago, attitude_label, csrf, date, enc, form_token, level_text,
    path_view, render, role_label, with_cookie,
};
use crate::bundle::Bundle;
use crate::engine::now_to_the_minute;
use crate::humanize;
use crate::store::{NoProgress, PersonRecord};
use crate::validate::SourceMap;
use crate::web::{AppError, AppState};

pub struct TieRow {
    pub ours: Link,
    pub closeness: String,
    pub clevel: u8,
    pub clevel_name: String,
    pub interactions: u32,
    pub kinds: String,
    pub raw: String,
    pub evidence: String,
    pub evidence_part: String,
    pub assessed_part: String,
    pub assessment: String,
    pub first: String,
    pub last: String,
    pub trend: String,
    pub lift: String,
    /// Who answers whom and who starts exchanges (evidence, not scored).
    pub reciprocity: String,
    /// For our people's page: the stakeholder and their account.
    pub theirs: Option<(Link, Link)>,
}

pub struct TimelineRow {
    pub when: String,
    pub ago: String,
    pub kind: String,
    pub with: Vec<Link>,
}

/// What the forms show: choices, the token, and a message after a submit.
pub struct FormView {
    pub csrf: String,
    pub action_interaction: String,
    pub action_assessment: String,
    pub kinds: Vec<Choice>,
    pub ours: Vec<Choice>,
    pub stakeholders: Vec<Choice>,
    pub levels: Vec<Choice>,
    pub attitudes: Vec<Choice>,
    pub roles: Vec<Choice>,
    pub assessors: Vec<Choice>,
    pub when: String,
    pub error: Option<(String, String)>,
    pub saved: Option<String>,
}

#[derive(Template)]
#[template(path = "person.html")]
struct PersonPage {
    name: String,
    title: String,
    department: String,
    /// Phone numbers as shown, each with what it is for.
    phones: Vec<String>,
    level: &'static str,
    role: &'static str,
    attitude: &'static str,
    account: Link,
    ours: bool,
    closeness: String,
    clevel: u8,
    clevel_name: String,
    connector: Option<Link>,
    strong_ties: u32,
    last_contact: String,
    closeness_why: String,
    influence: String,
    influence_parts: Vec<(&'static str, String)>,
    broker: bool,
    reports_to: Option<Link>,
    reports: Vec<Link>,
    influence_lines: Vec<String>,
    ties: Vec<TieRow>,
    paths: Vec<PathView>,
    paths_href: String,
    timeline: Vec<TimelineRow>,
    timeline_total: usize,
    form: Option<FormView>,
    /// Where the record and the interactions came from (provenance).
    provenance: Vec<String>,
}

#[derive(Deserialize)]
pub struct PersonQuery {
    pub saved: Option<String>,
}

/// A person's phones for the page: `+49 30 1234567 (work)`; a number whose
/// country is unknown says so, since it only matches one written the same way.
fn phone_lines(p: &Person) -> Vec<String> {
    p.phones
        .iter()
        .map(|ph| {
            let mut notes: Vec<&str> = ph.kind.map(|k| k.as_str()).into_iter().collect();
            if !ph.number.is_normalized() {
                notes.push("national form, country unknown");
            }
            if notes.is_empty() {
                ph.number.display()
            } else {
                format!("{} ({})", ph.number.display(), notes.join(", "))
            }
        })
        .collect()
}

/// Interactions listed in the timeline at most (newest first).
const TIMELINE_LIMIT: usize = 100;

/// A form's submitted values, to keep them when it is shown again.
#[derive(Default)]
struct Submitted {
    fields: Vec<(String, String)>,
}

impl Submitted {
    fn all(&self, k: &str) -> Vec<&str> {
        self.fields
            .iter()
            .filter(|(n, _)| n == k)
            .map(|(_, v)| v.as_str())
            .collect()
    }
    fn one(&self, k: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.as_str())
    }
}

async fn record(state: &AppState, id: &str) -> Result<PersonRecord, AppError> {
    let pid = PersonId::parse(id).map_err(|e| AppError::BadRequest(e.to_string()))?;
    state
        .store()
        .person(&pid)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("no person with id {id:?}")))
}

pub(super) async fn person_page(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<PersonQuery>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let rec = record(&state, &id).await?;
    let (token, cookie) = form_token(&headers);
    let saved = q.saved.as_deref().map(|s| match s {
        "interaction" => "The interaction is logged; the scores below include it.".to_owned(),
        "assessment" => "The assessment is recorded; the scores below include it.".to_owned(),
        _ => "Saved.".to_owned(),
    });
    let pid = rec.person.id.clone();
    let mut page = if rec.is_ours {
        our_person(&state, rec).await?
    } else {
        stakeholder(&state, rec, token, None, saved, &Submitted::default()).await?
    };
    page.provenance = crate::web::api::privacy::provenance_lines(state.store().as_ref(), &pid)
        .await
        .into_iter()
        .map(|l| l.text)
        .collect();
    Ok(with_cookie(render(&page)?.into_response(), cookie))
}

/// Our person: their ties at every account they touch.
async fn our_person(state: &AppState, rec: PersonRecord) -> Result<PersonPage, AppError> {
    let now = now_to_the_minute();
    let p = &rec.person;
    let mut ties = Vec::new();
    for a in state.store().accounts().await? {
        let (Some(data), Some(s)) = (
            state.engine.account_data(&a.id).await?,
            state.engine.scores(&a.id, None).await?,
        ) else {
            continue;
        };
        if !data.our_people.iter().any(|o| o.id == p.id) {
            continue;
        }
        let names = Names::of(&data);
        let account = Link {
            href: format!("/accounts/{}", enc(a.id.as_str())),
            name: a.name.clone(),
        };
        for t in s.ties.iter().filter(|t| t.ours == p.id) {
            let mut row = tie_row(&names, t, now);
            row.theirs = Some((names.link(&t.theirs), account.clone()));
            ties.push((t.closeness, row));
        }
    }
    ties.sort_by(|a, b| b.0.total_cmp(&a.0));
    let strong = ties
        .iter()
        .filter(|(c, _)| *c >= state.engine.config().coverage_threshold)
        .count() as u32;
    Ok(PersonPage {
        name: p.name.clone(),
        title: p.title.clone().unwrap_or_default(),
        department: p.department.clone().unwrap_or_default(),
        phones: phone_lines(p),
        level: p.level.label(),
        role: "our team",
        attitude: "ours",
        account: Link {
            href: "/".into(),
            name: rec.org_name.clone(),
        },
        ours: true,
        closeness: String::new(),
        clevel: 4,
        clevel_name: String::new(),
        connector: None,
        strong_ties: strong,
        last_contact: String::new(),
        closeness_why: String::new(),
        influence: String::new(),
        influence_parts: Vec::new(),
        broker: false,
        reports_to: None,
        reports: Vec::new(),
        influence_lines: Vec::new(),
        ties: ties.into_iter().map(|(_, r)| r).collect(),
        paths: Vec::new(),
        paths_href: String::new(),
        timeline: Vec::new(),
        timeline_total: 0,
        form: None,
        provenance: Vec::new(),
    })
}

fn tie_row(names: &Names, t: &renmai_graph::closeness::Tie, now: Timestamp) -> TieRow {
    let e = &t.explanation;
    TieRow {
        reciprocity: t
            .reciprocity
            .text(&names.name(&t.ours), &names.name(&t.theirs)),
        ours: names.link(&t.ours),
        closeness: humanize::percent(t.closeness),
        clevel: t.level.get(),
        clevel_name: level_text(t.level),
        interactions: e.interactions,
        kinds: e
            .by_kind
            .iter()
            .map(|k| {
                format!(
                    "{} × {} ({:.1})",
                    k.count,
                    k.kind.as_str().replace('_', " "),
                    k.raw
                )
            })
            .collect::<Vec<_>>()
            .join(", "),
        raw: format!("{:.2}", e.raw),
        evidence: humanize::percent(e.evidence),
        evidence_part: format!("{:.2}", e.evidence_part),
        assessed_part: format!("{:.2}", e.assessed_part),
        assessment: e.assessment.as_ref().map_or_else(
            || "none".into(),
            |a| {
                format!(
                    "{} {}{}, trust {}",
                    level_text(a.level),
                    humanize::ago(a.at, now),
                    a.by.as_ref()
                        .map(|b| format!(" by {}", names.name(b)))
                        .unwrap_or_default(),
                    humanize::percent(a.trust)
                )
            },
        ),
        first: ago(e.first_contact, now),
        last: ago(e.last_contact, now),
        trend: format!(
            "{} ({:.1} in the last 90 days against {:.1} before)",
            match e.trend.direction {
                renmai_graph::closeness::TrendDirection::Warming => "warming",
                renmai_graph::closeness::TrendDirection::Steady => "steady",
                renmai_graph::closeness::TrendDirection::Cooling => "cooling",
                renmai_graph::closeness::TrendDirection::Silent => "silent",
            },
            e.trend.recent_weight,
            e.trend.prior_weight
        ),
        lift: e
            .lift
            .as_ref()
            .map_or_else(|| "already an ally".into(), |l| l.text.clone()),
        theirs: None,
    }
}

fn choices<T: Copy>(
    all: &[T],
    value: impl Fn(T) -> String,
    label: impl Fn(T) -> String,
    selected: &[&str],
) -> Vec<Choice> {
    all.iter()
        .map(|v| Choice {
            selected: selected.contains(&value(*v).as_str()),
            value: value(*v),
            label: label(*v),
        })
        .collect()
}

/// A customer stakeholder's page, with the forms (and an error, if any).
async fn stakeholder(
    state: &AppState,
    rec: PersonRecord,
    token: String,
    error: Option<(String, String)>,
    saved: Option<String>,
    sub: &Submitted,
) -> Result<PersonPage, AppError> {
    let p = &rec.person;
    let org = p.org.clone();
    let (data, s) = super::account::load(state, org.as_str()).await?;
    let names = Names::of(&data);
    let now = now_to_the_minute();
    let i = data
        .people
        .iter()
        .position(|x| x.id == p.id)
        .ok_or_else(|| AppError::NotFound(format!("no stakeholder with id {:?}", p.id)))?;
    let sc = &s.stakeholders[i];
    let ties_ix = tie_index(&s);
    let best = sc
        .closeness
        .best_connector
        .as_ref()
        .and_then(|c| ties_ix.get(&(c, &p.id)).copied());
    let mut ties: Vec<_> = s.ties.iter().filter(|t| t.theirs == p.id).collect();
    ties.sort_by(|a, b| b.closeness.total_cmp(&a.closeness));
    let paths = super::account::cached_paths(state, &s, &p.id, 3)
        .await?
        .iter()
        .map(|w| path_view(&names, w, now))
        .collect();
    let mut timeline: Vec<_> = data
        .interactions
        .iter()
        .filter(|x| x.participants.contains(&p.id))
        .collect();
    timeline.sort_by_key(|x| std::cmp::Reverse(x.at));
    let timeline_total = timeline.len();
    let timeline = timeline
        .into_iter()
        .take(TIMELINE_LIMIT)
        .map(|x| TimelineRow {
            when: date(x.at),
            ago: humanize::ago(x.at, now),
            kind: x.kind.as_str().replace('_', " "),
            with: x
                .participants
                .iter()
                .filter(|q| **q != p.id)
                .map(|q| names.link(q))
                .collect(),
        })
        .collect();
    let inf = &sc.influence;
    let influence_lines = data
        .influences
        .iter()
        .filter(|l| l.from == p.id || l.to == p.id)
        .map(|l| {
            format!(
                "{} influences {} ({}, {})",
                names.name(&l.from),
                names.name(&l.to),
                l.kind.as_str().replace('_', " "),
                humanize::percent(l.strength.get())
            )
        })
        .collect();
    let default_ours: Vec<String> = sc
        .closeness
        .best_connector
        .iter()
        .map(|c| c.to_string())
        .collect();
    let sel_ours = if sub.fields.is_empty() {
        default_ours.iter().map(String::as_str).collect()
    } else {
        sub.all("ours")
    };
    let mut sel_with = sub.all("with");
    if sub.fields.is_empty() {
        sel_with.push(p.id.as_str());
    }
    let mut ours_sorted: Vec<&Person> = data.our_people.iter().collect();
    ours_sorted.sort_by(|a, b| a.name.cmp(&b.name));
    let ours: Vec<Choice> = ours_sorted
        .iter()
        .map(|o| Choice {
            selected: sel_ours.contains(&o.id.as_str()),
            value: o.id.to_string(),
            label: o.name.clone(),
        })
        .collect();
    let assessor = sub
        .one("from")
        .map(str::to_owned)
        .or_else(|| default_ours.first().cloned());
    let assessors = ours_sorted
        .iter()
        .map(|o| Choice {
            selected: assessor.as_deref() == Some(o.id.as_str()),
            value: o.id.to_string(),
            label: o.name.clone(),
        })
        .collect();
    let mut others: Vec<&Person> = data.people.iter().collect();
    others.sort_by(|a, b| a.name.cmp(&b.name));
    let stakeholders = others
        .iter()
        .map(|o| Choice {
            selected: sel_with.contains(&o.id.as_str()),
            value: o.id.to_string(),
            label: match &o.title {
                Some(t) => format!("{} — {t}", o.name),
                None => o.name.clone(),
            },
        })
        .collect();
    let level_now = sc.closeness.level.get().to_string();
    let level_sel = sub.one("level").unwrap_or(&level_now);
    let form = FormView {
        csrf: token,
        action_interaction: format!("/people/{}/interactions", enc(p.id.as_str())),
        action_assessment: format!("/people/{}/assessments", enc(p.id.as_str())),
        kinds: choices(
            InteractionKind::ALL,
            |k| k.as_str().to_owned(),
            |k| k.as_str().replace('_', " "),
            &[sub.one("kind").unwrap_or("meeting")],
        ),
        ours,
        stakeholders,
        levels: (0..=4u8)
            .filter_map(|l| ClosenessLevel::new(l).ok())
            .map(|l| Choice {
                selected: l.get().to_string() == level_sel,
                value: l.get().to_string(),
                label: format!("{} — {}", l.get(), level_text(l)),
            })
            .collect(),
        attitudes: std::iter::once(Choice {
            selected: p.attitude.is_none(),
            value: String::new(),
            label: "unknown".into(),
        })
        .chain(choices(
            Attitude::ALL,
            |a| a.as_str().to_owned(),
            |a| a.as_str().to_owned(),
            &[sub.one("attitude").unwrap_or(attitude_label(p.attitude))],
        ))
        .collect(),
        roles: std::iter::once(Choice {
            selected: p.role.is_none(),
            value: String::new(),
            label: "none".into(),
        })
        .chain(choices(
            BuyingRole::ALL,
            |r| r.as_str().to_owned(),
            |r| r.label().to_owned(),
            &[sub.one("role").unwrap_or(p.role.map_or("", |r| r.as_str()))],
        ))
        .collect(),
        assessors,
        when: sub
            .one("when")
            .map(str::to_owned)
            .unwrap_or_else(|| now.to_datetime().format("%Y-%m-%dT%H:%M").to_string()),
        error,
        saved,
    };
    let reports = data
        .people
        .iter()
        .filter(|x| x.reports_to.as_ref() == Some(&p.id))
        .map(|x| names.link(&x.id))
        .collect();
    Ok(PersonPage {
        name: p.name.clone(),
        title: p.title.clone().unwrap_or_default(),
        department: p.department.clone().unwrap_or_default(),
        phones: phone_lines(p),
        level: p.level.label(),
        role: role_label(p.role),
        attitude: attitude_label(p.attitude),
        account: Link {
            href: format!("/accounts/{}", enc(org.as_str())),
            name: rec.org_name.clone(),
        },
        ours: false,
        closeness: humanize::percent(sc.closeness.closeness),
        clevel: sc.closeness.level.get(),
        clevel_name: level_text(sc.closeness.level),
        connector: sc.closeness.best_connector.as_ref().map(|c| names.link(c)),
        strong_ties: sc.closeness.strong_ties,
        last_contact: ago(sc.closeness.last_contact, now),
        closeness_why: closeness_why(&names, best, now),
        influence: humanize::percent(inf.influence),
        influence_parts: vec![
            (
                "PageRank part (reports-to and influence lines)",
                format!("{:.3}", inf.pagerank_part),
            ),
            ("Level prior part", format!("{:.3}", inf.level_part)),
            ("Buying role part", format!("{:.3}", inf.role_part)),
            ("PageRank (raw)", format!("{:.4}", inf.pagerank)),
            (
                "Betweenness (share of the account's maximum)",
                humanize::percent(inf.betweenness_norm),
            ),
        ],
        broker: inf.broker,
        reports_to: p
            .reports_to
            .as_ref()
            .filter(|m| s.stakeholders.iter().any(|x| &x.person == *m))
            .map(|m| names.link(m)),
        reports,
        influence_lines,
        ties: ties.into_iter().map(|t| tie_row(&names, t, now)).collect(),
        paths,
        paths_href: format!(
            "/accounts/{}/paths?to={}",
            enc(org.as_str()),
            enc(p.id.as_str())
        ),
        timeline,
        timeline_total,
        form: Some(form),
        provenance: Vec::new(),
    })
}

/// Parses a form body; repeated keys (checkboxes, multi-selects) are kept.
fn parse_form(body: &Bytes) -> Result<Submitted, AppError> {
    serde_urlencoded::from_bytes::<Vec<(String, String)>>(body)
        .map(|fields| Submitted { fields })
        .map_err(|e| AppError::BadRequest(format!("the form body is not URL-encoded: {e}")))
}

/// The outcome of a form: saved (303 back) or a message for a field.
type FormResult = Result<Bundle, (String, String)>;

async fn handle_post(
    state: AppState,
    id: String,
    headers: HeaderMap,
    body: Bytes,
    what: &'static str,
    build: impl FnOnce(&PersonRecord, &renmai_graph::AccountData, &Submitted) -> FormResult,
) -> Result<Response, AppError> {
    let sub = parse_form(&body)?;
    if let Err(why) = csrf::check(&headers, sub.one(csrf::FIELD)) {
        return Ok(super::forbidden(why));
    }
    let rec = record(&state, &id).await?;
    if rec.is_ours {
        return Err(AppError::Unprocessable {
            detail: format!(
                "{} is one of our people; log interactions and assessments on a customer stakeholder's page",
                rec.person.name
            ),
            field: None,
        });
    }
    let (data, _) = super::account::load(&state, rec.person.org.as_str()).await?;
    let outcome = match build(&rec, &data, &sub) {
        Ok(bundle) => {
            let src = SourceMap::synthetic(what, &bundle).with_provenance(
                crate::privacy::Provenance::new(
                    format!("page {what}"),
                    crate::access::page_actor(),
                ),
            );
            match state
                .engine
                .import(bundle, src, std::sync::Arc::new(NoProgress))
                .await
            {
                Ok(_) => Ok(()),
                Err(crate::store::StoreError::Rejected(e)) => {
                    Err(("form".to_owned(), format!("renmai refused it: {e}")))
                }
                Err(e) => return Err(e.into()),
            }
        }
        Err(e) => Err(e),
    };
    match outcome {
        Ok(()) => Ok((
            StatusCode::SEE_OTHER,
            [(
                header::LOCATION,
                format!("/people/{}?saved={what}", enc(&id)),
            )],
        )
            .into_response()),
        Err(err) => {
            let (token, cookie) = form_token(&headers);
            let page = stakeholder(&state, rec, token, Some(err), None, &sub).await?;
            let mut resp = render(&page)?.into_response();
            *resp.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            Ok(with_cookie(resp, cookie))
        }
    }
}

fn field_err(field: &str, msg: impl Into<String>) -> (String, String) {
    (field.to_owned(), msg.into())
}

/// Our people the form may name: those already on this account's data.
fn ours_id(
    data: &renmai_graph::AccountData,
    id: &str,
    field: &str,
) -> Result<PersonId, (String, String)> {
    data.our_people
        .iter()
        .find(|o| o.id.as_str() == id)
        .map(|o| o.id.clone())
        .ok_or_else(|| {
            field_err(
                field,
                format!("{id:?} is not one of our people on this account"),
            )
        })
}

/// Ids of interactions logged from the pages: time and a process counter.
fn new_interaction_id() -> InteractionId {
    static SEQ: AtomicU64 = AtomicU64::new(0);
    let nanos = chrono::Utc::now().timestamp_nanos_opt().unwrap_or_default();
    let n = SEQ.fetch_add(1, Ordering::Relaxed);
    InteractionId::parse(&format!("web-{nanos}-{n}")).expect("a valid id")
}

/// When an interaction happened: `datetime-local` input, read as UTC.
fn parse_when(s: &str, now: Timestamp) -> Result<Timestamp, (String, String)> {
    let t = s.trim();
    let dt = chrono::NaiveDateTime::parse_from_str(t, "%Y-%m-%dT%H:%M")
        .or_else(|_| chrono::NaiveDateTime::parse_from_str(t, "%Y-%m-%dT%H:%M:%S"))
        .map_err(|_| {
            field_err(
                "when",
                format!("when must be a date and time like 2026-01-31T14:30 (UTC), got {t:?}"),
            )
        })?;
    let at = Timestamp::from_epoch_seconds(dt.and_utc().timestamp());
    if at.epoch_seconds() > now.epoch_seconds() + 60 {
        return Err(field_err(
            "when",
            "when is in the future: log interactions that took place",
        ));
    }
    Ok(at)
}

pub(super) async fn log_interaction(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, AppError> {
    handle_post(state, id, headers, body, "interaction", |rec, data, sub| {
        let kind = InteractionKind::parse(sub.one("kind").unwrap_or(""))
            .map_err(|e| field_err("kind", e.to_string()))?;
        let at = parse_when(sub.one("when").unwrap_or(""), now_to_the_minute())?;
        let ours = sub
            .all("ours")
            .into_iter()
            .map(|o| ours_id(data, o, "ours"))
            .collect::<Result<Vec<_>, _>>()?;
        if ours.is_empty() {
            return Err(field_err(
                "ours",
                "choose at least one of our people who took part",
            ));
        }
        let mut theirs = Vec::new();
        for w in sub.all("with") {
            let p = data
                .people
                .iter()
                .find(|p| p.id.as_str() == w)
                .ok_or_else(|| {
                    field_err(
                        "with",
                        format!("{w:?} is not a stakeholder of this account"),
                    )
                })?;
            if !theirs.contains(&p.id) {
                theirs.push(p.id.clone());
            }
        }
        if !theirs.contains(&rec.person.id) {
            theirs.insert(0, rec.person.id.clone());
        }
        let mut participants = ours.clone();
        for t in theirs {
            if !participants.contains(&t) {
                participants.push(t);
            }
        }
        Ok(Bundle {
            interactions: vec![Interaction {
                id: new_interaction_id(),
                kind,
                at,
                initiator: ours[0].clone(),
                participants,
                in_reply_to: None,
            }],
            ..Default::default()
        })
    })
    .await
}

pub(super) async fn record_assessment(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, AppError> {
    handle_post(state, id, headers, body, "assessment", |rec, data, sub| {
        let from = ours_id(data, sub.one("from").unwrap_or(""), "from")?;
        let level = ClosenessLevel::parse(sub.one("level").unwrap_or(""))
            .map_err(|e| field_err("level", e.to_string()))?;
        let attitude = Attitude::parse_optional(sub.one("attitude").unwrap_or(""))
            .map_err(|e| field_err("attitude", e.to_string()))?;
        let role = BuyingRole::parse_optional(sub.one("role").unwrap_or(""))
            .map_err(|e| field_err("role", e.to_string()))?;
        let mut bundle = Bundle {
            assessments: vec![Assessment {
                from: from.clone(),
                to: rec.person.id.clone(),
                level,
                at: now_to_the_minute(),
                by: Some(from),
            }],
            ..Default::default()
        };
        if attitude != rec.person.attitude || role != rec.person.role {
            let mut p = rec.person.clone();
            p.attitude = attitude;
            p.role = role;
            bundle.people.push(p);
        }
        Ok(bundle)
    })
    .await
}
