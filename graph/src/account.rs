//! The input of scoring: everything the store knows about one account.

use serde::{Deserialize, Serialize};

use crate::model::{
    Assessment, Influence, Interaction, Opportunity, OpportunityContact, Organization, Person,
    StageChange, TeamMember,
};

/// One account's slice of the graph, as loaded from a store.
///
/// Accounts are natural shards: a customer person belongs to one account, so
/// every score of a stakeholder can be computed from this slice alone.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccountData {
    /// The customer organization (`is_ours == false`).
    pub account: Organization,
    /// The account's people (stakeholders).
    pub people: Vec<Person>,
    /// Our people who are on the team, took part in an interaction with a
    /// stakeholder, or assessed a tie to one.
    pub our_people: Vec<Person>,
    /// Our account team.
    pub team: Vec<TeamMember>,
    /// Interactions with at least one stakeholder of this account.
    pub interactions: Vec<Interaction>,
    /// Influence lines between this account's people.
    pub influences: Vec<Influence>,
    /// `KNOWS` assessments touching this account's people.
    pub assessments: Vec<Assessment>,
    pub opportunities: Vec<Opportunity>,
    pub opportunity_contacts: Vec<OpportunityContact>,
    /// Stage history of the account's deals, oldest first per deal.
    #[serde(default)]
    pub opportunity_stages: Vec<StageChange>,
}
