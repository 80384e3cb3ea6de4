//! The shapes the JSON API speaks, with their OpenAPI schemas. They mirror
//! the graph crate's results (which stay free of web dependencies); deep
//! explanations are passed through as they are and documented as objects.

use renmai_graph::closeness::{OurCloseness, TieExplanation};
use renmai_graph::coverage::CoverageReport;
use renmai_graph::influence::StakeholderInfluence;
use renmai_graph::paths::{Hop, WarmPath};
use renmai_graph::score::AccountScores;
use renmai_graph::{Person, Timestamp};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::store::{AccountSummary, PersonRecord};

/// A person as the API shows them.
#[derive(Debug, Serialize, ToSchema)]
pub struct PersonOut {
    pub id: String,
    pub name: String,
    pub title: Option<String>,
    pub department: Option<String>,
    /// 1 = C-level, 2 = VP, 3 = director, 4 = manager, 5 = staff, 6 = unknown.
    pub level: u8,
    pub org: String,
    pub org_name: String,
    /// True for our own people (sellers, presales, ...).
    pub is_ours: bool,
    /// Buying role: economic_buyer, technical_buyer, user_buyer, coach,
    /// procurement, gatekeeper or influencer.
    pub role: Option<String>,
    /// Attitude toward us: champion, supporter, neutral, skeptic or opponent.
    pub attitude: Option<String>,
    pub reports_to: Option<String>,
    pub emails: Vec<String>,
    /// `system:id` of the person in other CRMs.
    pub external_ids: Vec<String>,
    pub phones: Vec<PhoneOut>,
}

/// A phone number of a person.
#[derive(Debug, Serialize, ToSchema)]
pub struct PhoneOut {
    /// E.164 (`+49301234567`) when `normalized`, else the national digits
    /// as the source wrote them (the country was unknown).
    pub number: String,
    /// For reading: `+49 30 1234567`.
    pub display: String,
    /// work, mobile, home or other, when the source said.
    pub kind: Option<String>,
    pub normalized: bool,
}

impl PersonOut {
    pub fn new(p: &Person, org_name: &str, is_ours: bool) -> PersonOut {
        PersonOut {
            id: p.id.to_string(),
            name: p.name.clone(),
            title: p.title.clone(),
            department: p.department.clone(),
            level: p.level.get(),
            org: p.org.to_string(),
            org_name: org_name.to_owned(),
            is_ours,
            role: p.role.map(|r| r.as_str().to_owned()),
            attitude: p.attitude.map(|a| a.as_str().to_owned()),
            reports_to: p.reports_to.as_ref().map(ToString::to_string),
            emails: p.emails.iter().map(ToString::to_string).collect(),
            external_ids: p.external_ids.iter().map(ToString::to_string).collect(),
            phones: p
                .phones
                .iter()
                .map(|ph| PhoneOut {
                    number: ph.number.to_string(),
                    display: ph.number.display(),
                    kind: ph.kind.map(|k| k.as_str().to_owned()),
                    normalized: ph.number.is_normalized(),
                })
                .collect(),
        }
    }
    pub fn from_record(r: &PersonRecord) -> PersonOut {
        PersonOut::new(&r.person, &r.org_name, r.is_ours)
    }
}

/// Our closeness to a stakeholder: the strongest tie any of our people has.
#[derive(Debug, Serialize, ToSchema)]
pub struct ClosenessOut {
    /// 0..1.
    pub score: f64,
    /// 0 stranger, 1 acquainted, 2 familiar, 3 trusted, 4 ally.
    pub level: u8,
    pub level_name: String,
    /// Our person holding the strongest tie.
    pub best_connector: Option<String>,
    /// How many of our people are at least familiar with the stakeholder.
    pub strong_ties: u32,
    /// RFC 3339.
    pub last_interaction: Option<String>,
}

impl From<&OurCloseness> for ClosenessOut {
    fn from(c: &OurCloseness) -> Self {
        ClosenessOut {
            score: c.closeness,
            level: c.level.get(),
            level_name: c.level.name().to_owned(),
            best_connector: c.best_connector.as_ref().map(ToString::to_string),
            strong_ties: c.strong_ties,
            last_interaction: c.last_contact.map(|t| t.to_rfc3339()),
        }
    }
}

/// Influence of a stakeholder inside their account, with its parts.
#[derive(Debug, Serialize, ToSchema)]
pub struct InfluenceOut {
    /// 0..1 within the account.
    pub score: f64,
    pub pagerank: f64,
    pub betweenness: f64,
    /// High betweenness: people reach each other through this person.
    pub broker: bool,
    pub pagerank_part: f64,
    pub level_part: f64,
    pub role_part: f64,
}

impl From<&StakeholderInfluence> for InfluenceOut {
    fn from(i: &StakeholderInfluence) -> Self {
        InfluenceOut {
            score: i.influence,
            pagerank: i.pagerank,
            betweenness: i.betweenness,
            broker: i.broker,
            pagerank_part: i.pagerank_part,
            level_part: i.level_part,
            role_part: i.role_part,
        }
    }
}

/// One hop of a warm path and why it exists.
#[derive(Debug, Serialize, ToSchema)]
pub struct HopOut {
    pub from: String,
    pub to: String,
    pub strength: f64,
    /// The kind of link (tie, reports_to, influence, knows, shared interactions) and its figures.
    #[schema(value_type = Object)]
    pub reason: renmai_graph::paths::HopReason,
    pub text: String,
}

/// A warm path from our team to a stakeholder.
#[derive(Debug, Serialize, ToSchema)]
pub struct WarmPathOut {
    pub target: String,
    /// Product of the hop strengths, 0..1.
    pub strength: f64,
    /// Our person who starts the path.
    pub seller: String,
    pub hops: Vec<HopOut>,
}

impl From<&WarmPath> for WarmPathOut {
    fn from(w: &WarmPath) -> Self {
        WarmPathOut {
            target: w.target.to_string(),
            strength: w.strength,
            seller: w.seller.to_string(),
            hops: w.hops.iter().map(hop).collect(),
        }
    }
}

fn hop(h: &Hop) -> HopOut {
    HopOut {
        from: h.from.to_string(),
        to: h.to.to_string(),
        strength: h.strength,
        reason: h.reason.clone(),
        text: h.text.clone(),
    }
}

/// The evidence behind our closeness to a stakeholder: the best connector's tie.
#[derive(Debug, Serialize, ToSchema)]
pub struct EvidenceOut {
    /// Our person whose tie this is.
    pub ours: String,
    /// Shared interactions counted (up to `as_of`).
    pub interactions: u32,
    /// Decayed weighted sum of the interactions.
    pub raw: f64,
    /// `1 − exp(−raw / 10)`.
    pub evidence: f64,
    /// Share of closeness from interaction evidence.
    pub evidence_part: f64,
    /// Share of closeness from a human assessment.
    pub assessed_part: f64,
    pub first_contact: Option<String>,
    pub last_contact: Option<String>,
    /// The full explanation: interactions by kind, trend, the assessment
    /// used, and what it takes to reach the next level.
    #[schema(value_type = Object)]
    pub detail: TieExplanation,
}

impl EvidenceOut {
    pub fn new(ours: &str, e: &TieExplanation) -> EvidenceOut {
        EvidenceOut {
            ours: ours.to_owned(),
            interactions: e.interactions,
            raw: e.raw,
            evidence: e.evidence,
            evidence_part: e.evidence_part,
            assessed_part: e.assessed_part,
            first_contact: e.first_contact.map(|t| t.to_rfc3339()),
            last_contact: e.last_contact.map(|t| t.to_rfc3339()),
            detail: e.clone(),
        }
    }
}

/// Coverage of an account in a few figures.
#[derive(Debug, Serialize, ToSchema)]
pub struct CoverageStatusOut {
    pub account: String,
    pub account_name: String,
    /// covered (no gaps), gaps, single_threaded (one of our people or one
    /// stakeholder carries the account) or uncovered (no familiar stakeholder).
    pub status: String,
    /// Covered groups / groups, 0..1.
    pub coverage: f64,
    /// Closeness weighted by influence, 0..1.
    pub relationship_index: f64,
    pub gaps: usize,
    pub single_threaded_seller: Option<String>,
    pub single_stakeholder: Option<String>,
}

impl CoverageStatusOut {
    pub fn new(name: &str, s: &AccountScores) -> CoverageStatusOut {
        let c = &s.coverage;
        CoverageStatusOut {
            account: s.account.to_string(),
            account_name: name.to_owned(),
            status: coverage_status(c).to_owned(),
            coverage: c.coverage,
            relationship_index: s.relationship_index,
            gaps: c.gaps.len(),
            single_threaded_seller: c.single_threaded_seller.as_ref().map(ToString::to_string),
            single_stakeholder: c.single_stakeholder.as_ref().map(ToString::to_string),
        }
    }
}

pub fn coverage_status(c: &CoverageReport) -> &'static str {
    if c.strong_stakeholders == 0 {
        "uncovered"
    } else if c.single_threaded_seller.is_some() || c.single_stakeholder.is_some() {
        "single_threaded"
    } else if !c.gaps.is_empty() {
        "gaps"
    } else {
        "covered"
    }
}

/// One line of the accounts list.
#[derive(Debug, Serialize, ToSchema)]
pub struct AccountSummaryOut {
    pub id: String,
    pub name: String,
    pub industry: Option<String>,
    pub region: Option<String>,
    pub tier: Option<String>,
    /// Stakeholders on record.
    pub people: u64,
    pub last_interaction: Option<String>,
}

impl From<&AccountSummary> for AccountSummaryOut {
    fn from(a: &AccountSummary) -> Self {
        AccountSummaryOut {
            id: a.id.to_string(),
            name: a.name.clone(),
            industry: a.industry.clone(),
            region: a.region.clone(),
            tier: a.tier.clone(),
            people: a.people,
            last_interaction: a.last_interaction.map(|t| t.to_rfc3339()),
        }
    }
}

/// A page of accounts.
#[derive(Debug, Serialize, ToSchema)]
pub struct AccountPage {
    pub accounts: Vec<AccountSummaryOut>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

/// One account with its relationship index and coverage.
#[derive(Debug, Serialize, ToSchema)]
pub struct AccountOut {
    pub id: String,
    pub name: String,
    pub industry: Option<String>,
    pub region: Option<String>,
    pub tier: Option<String>,
    pub parent: Option<String>,
    /// The time the scores are computed for (RFC 3339).
    pub as_of: String,
    pub relationship_index: f64,
    pub stakeholders: usize,
    pub coverage: CoverageStatusOut,
    pub open_opportunities: usize,
}

/// A stakeholder with their scores.
#[derive(Debug, Serialize, ToSchema)]
pub struct StakeholderOut {
    pub person: PersonOut,
    pub closeness: ClosenessOut,
    pub influence: InfluenceOut,
    pub best_path: Option<WarmPathOut>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StakeholderList {
    pub account: String,
    pub as_of: String,
    pub stakeholders: Vec<StakeholderOut>,
}

/// Coverage gaps and single points of failure of an account.
#[derive(Debug, Serialize, ToSchema)]
pub struct CoverageOut {
    pub account: String,
    pub as_of: String,
    pub status: CoverageStatusOut,
    /// Groups (buying role, department, level) without a familiar stakeholder.
    #[schema(value_type = Vec<Object>)]
    pub gaps: Vec<renmai_graph::coverage::GroupKey>,
    /// People whose departure cuts our warm paths to an economic buyer, and
    /// the one seller or stakeholder carrying the account.
    pub single_points_of_failure: Vec<SinglePointOut>,
    /// The whole report: groups, cold ties, detractors, missing roles, path dependencies.
    #[schema(value_type = Object)]
    pub report: CoverageReport,
}

/// Someone the account depends on.
#[derive(Debug, Serialize, ToSchema)]
pub struct SinglePointOut {
    pub person: String,
    /// single_threaded_seller, single_stakeholder or path_cut.
    pub kind: String,
    pub why: String,
}

/// A suggested next approach.
#[derive(Debug, Serialize, ToSchema)]
pub struct NextApproachOut {
    pub person: String,
    pub name: Option<String>,
    /// `influence × role_weight × room × reachability`, 0..1.
    pub score: f64,
    pub influence: f64,
    pub role_weight: f64,
    pub closeness: f64,
    pub room: f64,
    pub reachability: f64,
    /// Our person who should start the approach.
    pub introducer: Option<String>,
    /// Who makes the last introduction.
    pub connector: Option<String>,
    pub path: Option<WarmPathOut>,
    pub why: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NextApproachList {
    pub account: String,
    pub as_of: String,
    pub next_approaches: Vec<NextApproachOut>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WarmPathList {
    pub account: String,
    pub target: String,
    pub as_of: String,
    pub paths: Vec<WarmPathOut>,
}

/// A tie between one of our people and a stakeholder, with its explanation.
#[derive(Debug, Serialize, ToSchema)]
pub struct TieOut {
    pub ours: String,
    pub theirs: String,
    pub closeness: f64,
    pub level: u8,
    pub level_name: String,
    pub evidence: EvidenceOut,
    /// Who answers whom and who starts the exchanges (from initiators and
    /// e-mails' In-Reply-To links); evidence only, not part of the score.
    pub reciprocity: ReciprocityOut,
}

/// Reciprocity of a tie: counts and the sentence that says them.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReciprocityOut {
    /// E-mails our person started with the stakeholder, and how many the
    /// stakeholder answered.
    pub ours_emails: u32,
    pub ours_emails_answered: u32,
    /// E-mails the stakeholder started, and how many our person answered.
    pub their_emails: u32,
    pub their_emails_answered: u32,
    /// Interactions that answer none of theirs, and who started them.
    pub exchanges: u32,
    pub started_by_ours: u32,
    pub started_by_theirs: u32,
    /// "Carla replied to 6 of Ana's 8 e-mails; …; Carla started 4 of 12 exchanges".
    pub text: String,
}

impl ReciprocityOut {
    pub fn new(r: &renmai_graph::reciprocity::Reciprocity, ours: &str, theirs: &str) -> Self {
        ReciprocityOut {
            ours_emails: r.ours_emails,
            ours_emails_answered: r.ours_emails_answered,
            their_emails: r.their_emails,
            their_emails_answered: r.their_emails_answered,
            exchanges: r.exchanges,
            started_by_ours: r.started_by_ours,
            started_by_theirs: r.started_by_theirs,
            text: r.text(ours, theirs),
        }
    }
}

/// One person with their ties and scores.
#[derive(Debug, Serialize, ToSchema)]
pub struct PersonDetail {
    pub person: PersonOut,
    pub as_of: String,
    /// Our closeness to this stakeholder (absent for our own people).
    pub closeness: Option<ClosenessOut>,
    pub influence: Option<InfluenceOut>,
    /// Ties with our people (for a stakeholder) or with the stakeholders of
    /// the person's accounts... for our own people, ties are listed per account
    /// on the account endpoints.
    pub ties: Vec<TieOut>,
    /// Where the person's record and interactions came from: which write,
    /// from what, by whom, when.
    pub provenance: Vec<super::privacy::ProvenanceOut>,
}

// ---- enrichment ----

/// One record to enrich. Give at least one of `email`, `external_id`, or
/// `name` with `company`; they are tried in that order.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EnrichRecord {
    /// Your reference, echoed back.
    #[serde(rename = "ref", default)]
    pub reference: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    /// `system:id`, e.g. `salesforce:0035g00000abcDE`.
    #[serde(default)]
    pub external_id: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    /// The organization's name (exact, case-insensitive).
    #[serde(default)]
    pub company: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EnrichRequest {
    /// 1 to 1,000 records.
    pub records: Vec<EnrichRecord>,
    /// Score as of this time (RFC 3339 or a date); default now.
    #[serde(default)]
    #[schema(value_type = Option<String>, example = "2026-01-31")]
    pub as_of: Option<Timestamp>,
}

/// The enrichment of one record.
#[derive(Debug, Serialize, ToSchema)]
pub struct EnrichResult {
    /// Position of the record in the request.
    pub index: usize,
    #[serde(rename = "ref")]
    pub reference: Option<String>,
    /// matched, ambiguous (several people fit; see `candidates`),
    /// not_found or invalid (see `detail`).
    pub status: String,
    /// 0..1: 1 for an e-mail or external id, 0.8 for a unique name at the
    /// company, less when ambiguous.
    pub confidence: f64,
    /// email, external_id or name_company.
    pub matched_by: Option<String>,
    pub detail: Option<String>,
    pub person: Option<PersonOut>,
    pub candidates: Vec<String>,
    pub closeness: Option<ClosenessOut>,
    pub influence: Option<InfluenceOut>,
    pub role: Option<String>,
    pub attitude: Option<String>,
    pub account: Option<CoverageStatusOut>,
    /// The tie behind `closeness` (absent when no one of ours has a tie).
    pub evidence: Option<EvidenceOut>,
    pub best_path: Option<WarmPathOut>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EnrichResponse {
    pub as_of: String,
    pub matched: usize,
    pub results: Vec<EnrichResult>,
}

// ---- writes ----

/// An interaction to log. Without `id`, one is derived from the
/// Idempotency-Key (so retries do not double-count) or made up.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InteractionIn {
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub id: Option<renmai_graph::InteractionId>,
    /// meeting, visit, call, email, dinner, demo, workshop or service_case.
    #[schema(value_type = String, example = "meeting")]
    pub kind: renmai_graph::InteractionKind,
    /// RFC 3339.
    #[schema(value_type = String, example = "2026-01-15T10:00:00Z")]
    pub at: Timestamp,
    /// One of the participants.
    #[schema(value_type = String)]
    pub initiator: renmai_graph::PersonId,
    /// Two or more distinct person ids.
    #[schema(value_type = Vec<String>)]
    pub participants: Vec<renmai_graph::PersonId>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InteractionBatch {
    /// 1 to 1,000 interactions, written all or nothing.
    pub interactions: Vec<InteractionIn>,
}

/// A human assessment of closeness (`KNOWS`).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssessmentIn {
    /// Usually one of our people.
    #[schema(value_type = String)]
    pub from: renmai_graph::PersonId,
    #[schema(value_type = String)]
    pub to: renmai_graph::PersonId,
    /// 0 stranger, 1 acquainted, 2 familiar, 3 trusted, 4 ally.
    #[schema(value_type = u8, minimum = 0, maximum = 4)]
    pub level: renmai_graph::ClosenessLevel,
    /// When it was made (default now).
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub at: Option<Timestamp>,
    /// Who made it.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub by: Option<renmai_graph::PersonId>,
}

/// What a write did.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct WriteResult {
    /// Records new to the store.
    pub created: u64,
    /// Records that were already there (updated in place, never duplicated).
    pub existing: u64,
    /// Ids of the interactions written (for interactions).
    pub ids: Vec<String>,
}
