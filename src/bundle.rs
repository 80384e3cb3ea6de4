//! The bundle: renmai's own interchange format, as a folder of CSV files or
//! as one JSON document. Import, export and the demo all speak it.
//!
//! The CSV folder is the one `shared/bench/gen.py` writes (organizations,
//! people, account_team, interactions, influences), extended with optional
//! columns and files so that everything renmai stores round-trips.

use renmai_graph::{
    Assessment, Influence, Interaction, Opportunity, OpportunityContact, Organization, Person,
    StageChange, TeamMember,
};
use serde::{Deserialize, Serialize};

/// Tag and version that open a JSON bundle.
pub const JSON_FORMAT: &str = "renmai-bundle";
pub const JSON_VERSION: u32 = 1;

/// Everything a store holds, as plain records.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Bundle {
    #[serde(default)]
    pub organizations: Vec<Organization>,
    #[serde(default)]
    pub people: Vec<Person>,
    #[serde(default)]
    pub account_team: Vec<TeamMember>,
    #[serde(default)]
    pub interactions: Vec<Interaction>,
    #[serde(default)]
    pub influences: Vec<Influence>,
    #[serde(default)]
    pub assessments: Vec<Assessment>,
    #[serde(default)]
    pub opportunities: Vec<Opportunity>,
    #[serde(default)]
    pub opportunity_contacts: Vec<OpportunityContact>,
    /// Dated stage changes of deals (the stage history).
    #[serde(default)]
    pub opportunity_stages: Vec<StageChange>,
}

impl Bundle {
    /// Number of records of every kind together, for progress bars.
    pub fn len(&self) -> usize {
        self.organizations.len()
            + self.people.len()
            + self.account_team.len()
            + self.interactions.len()
            + self.influences.len()
            + self.assessments.len()
            + self.opportunities.len()
            + self.opportunity_contacts.len()
            + self.opportunity_stages.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
