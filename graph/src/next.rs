//! Next approaches (for coaches): whom to approach next, through whom, and why.
//!
//! `score = influence × role_weight × (target − closeness)⁺ × reachability`,
//! where reachability is the strength of the best warm path from our team
//! (0 when no warm path exists: a cold call is not an approach this list
//! proposes). Each factor is in 0..1, so the score is too.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::account::AccountData;
use crate::closeness::OurCloseness;
use crate::config::{ScoringConfig, role_weight};
use crate::influence::StakeholderInfluence;
use crate::model::PersonId;
use crate::paths::WarmPath;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NextApproach {
    pub person: PersonId,
    pub score: f64,
    pub influence: f64,
    pub role_weight: f64,
    pub closeness: f64,
    /// `(target − closeness)⁺`.
    pub room: f64,
    pub reachability: f64,
    /// Our seller who should start the approach (first hop of the path).
    pub introducer: Option<PersonId>,
    /// Who makes the last introduction (the stakeholder before the target,
    /// or the seller for a direct tie).
    pub connector: Option<PersonId>,
    pub path: Option<WarmPath>,
    pub why: String,
}

/// Ranks the account's stakeholders, best first; those with a zero score are
/// left out. All slices are in `data.people` order.
pub fn next_approaches(
    data: &AccountData,
    ours: &[OurCloseness],
    influence: &[StakeholderInfluence],
    best_paths: &[Option<WarmPath>],
    cfg: &ScoringConfig,
) -> Vec<NextApproach> {
    let names: HashMap<&PersonId, &str> = data
        .people
        .iter()
        .chain(&data.our_people)
        .rev()
        .map(|x| (&x.id, x.name.as_str()))
        .collect();
    let name_of = |id: &PersonId| {
        names
            .get(id)
            .map_or_else(|| id.to_string(), |n| (*n).to_owned())
    };
    let mut out: Vec<NextApproach> = data
        .people
        .iter()
        .zip(ours)
        .zip(influence)
        .zip(best_paths)
        .filter_map(|(((p, o), inf), path)| {
            let rw = role_weight(p.role);
            let room = (cfg.target_closeness - o.closeness).max(0.0);
            let reach = path.as_ref().map_or(0.0, |w| w.strength);
            let score = inf.influence * rw * room * reach;
            if score <= 0.0 {
                return None;
            }
            let path = path.clone().expect("reach > 0 implies a path");
            let role = p.role.map_or("no buying role", |r| r.label());
            let connector = path.connector().clone();
            let why = format!(
                "{name} ({role}, level {lvl}) carries influence {inf:.2} in the account; we are at {c:.2} against a target of {t:.2}; \
                 {seller} can reach them through {hops} hop(s) at strength {reach:.2}{via}",
                name = p.name,
                lvl = p.level.get(),
                inf = inf.influence,
                c = o.closeness,
                t = cfg.target_closeness,
                seller = name_of(&path.seller),
                hops = path.hops.len(),
                via = if path.hops.len() > 1 {
                    format!(", introduced by {}", name_of(&connector))
                } else {
                    String::new()
                },
            );
            Some(NextApproach {
                person: p.id.clone(),
                score,
                influence: inf.influence,
                role_weight: rw,
                closeness: o.closeness,
                room,
                reachability: reach,
                introducer: Some(path.seller.clone()),
                connector: Some(connector),
                path: Some(path),
                why,
            })
        })
        .collect();
    out.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then_with(|| a.person.cmp(&b.person))
    });
    out
}
