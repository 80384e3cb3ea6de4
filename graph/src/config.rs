//! The constants of the scoring model, in one place (DESIGN.md, "Scoring model v1").

use serde::{Deserialize, Serialize};

use crate::model::{BuyingRole, InteractionKind};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ScoringConfig {
    /// Evidence halves every `half_life_days` days.
    pub half_life_days: f64,
    /// `evidence = 1 − exp(−raw / evidence_scale)`.
    pub evidence_scale: f64,
    /// A `KNOWS` assessment's trust halves every `assessment_half_life_days`.
    pub assessment_half_life_days: f64,
    /// Closeness at or above which a stakeholder counts as covered (familiar).
    pub coverage_threshold: f64,
    /// An influential stakeholder untouched this long is going cold.
    pub cold_after_days: f64,
    /// PageRank damping.
    pub damping: f64,
    /// Strength given to a `REPORTS_TO` link on a warm path.
    pub reports_to_strength: f64,
    /// Closeness the next-approach ranking aims for.
    pub target_closeness: f64,
    pub weights: KindWeights,
}

impl Default for ScoringConfig {
    fn default() -> Self {
        ScoringConfig {
            half_life_days: 90.0,
            evidence_scale: 10.0,
            assessment_half_life_days: 180.0,
            coverage_threshold: 0.55,
            cold_after_days: 60.0,
            damping: 0.85,
            reports_to_strength: 0.6,
            target_closeness: 0.8,
            weights: KindWeights::default(),
        }
    }
}

/// Weight of one interaction of each kind in the evidence sum.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct KindWeights {
    pub meeting: f64,
    pub visit: f64,
    pub dinner: f64,
    pub demo: f64,
    pub workshop: f64,
    pub call: f64,
    pub email: f64,
    pub service_case: f64,
}

impl Default for KindWeights {
    fn default() -> Self {
        KindWeights {
            meeting: 3.0,
            visit: 4.0,
            dinner: 5.0,
            demo: 3.0,
            workshop: 3.0,
            call: 2.0,
            email: 1.0,
            service_case: 1.0,
        }
    }
}

impl KindWeights {
    pub fn of(&self, kind: InteractionKind) -> f64 {
        match kind {
            InteractionKind::Meeting => self.meeting,
            InteractionKind::Visit => self.visit,
            InteractionKind::Dinner => self.dinner,
            InteractionKind::Demo => self.demo,
            InteractionKind::Workshop => self.workshop,
            InteractionKind::Call => self.call,
            InteractionKind::Email => self.email,
            InteractionKind::ServiceCase => self.service_case,
        }
    }
}

/// How much a buying role matters when ranking whom to approach.
pub fn role_weight(role: Option<BuyingRole>) -> f64 {
    match role {
        Some(BuyingRole::EconomicBuyer) => 1.0,
        Some(BuyingRole::TechnicalBuyer) => 0.8,
        Some(BuyingRole::Coach) => 0.7,
        Some(BuyingRole::Influencer) => 0.6,
        Some(BuyingRole::UserBuyer) => 0.5,
        Some(BuyingRole::Procurement) => 0.5,
        Some(BuyingRole::Gatekeeper) => 0.4,
        None => 0.3,
    }
}
