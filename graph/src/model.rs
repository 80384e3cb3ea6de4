//! The domain model of DESIGN.md: organizations, people, interactions,
//! opportunities and the edges between them, as validated types.
//!
//! Every type that can be built from user input has a `parse` (or `TryFrom`)
//! constructor that rejects bad values with a [`ModelError`] naming what was
//! expected, so the rest of the product never sees an out-of-range level or an
//! empty id.

use std::fmt;
use std::str::FromStr;

use compact_str::CompactString;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::phone::PersonPhone;
use crate::time::Timestamp;

/// What was wrong with a value, phrased for the person who typed it.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ModelError {
    #[error("{what}: expected {expected}, got {got:?}")]
    Invalid {
        what: &'static str,
        expected: String,
        got: String,
    },
}

impl ModelError {
    pub fn invalid(
        what: &'static str,
        expected: impl Into<String>,
        got: impl Into<String>,
    ) -> Self {
        ModelError::Invalid {
            what,
            expected: expected.into(),
            got: got.into(),
        }
    }
}

/// Ids are short strings held inline (no heap allocation up to 24 bytes):
/// an import of a million interactions holds several million of them.
/// Longest id accepted; CRM ids are at most 18 characters, e-mail message ids
/// are longer, 200 leaves room for both.
pub const MAX_ID_LEN: usize = 200;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident, $what:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(CompactString);

        impl $name {
            /// Accepts 1..=200 printable characters without surrounding spaces.
            pub fn parse(s: &str) -> Result<Self, ModelError> {
                validate_id(s).map(|()| $name(CompactString::from(s))).map_err(|expected| {
                    ModelError::invalid($what, expected, s)
                })
            }
            pub fn as_str(&self) -> &str {
                self.0.as_str()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl FromStr for $name {
            type Err = ModelError;
            fn from_str(s: &str) -> Result<Self, ModelError> {
                Self::parse(s)
            }
        }

        impl TryFrom<String> for $name {
            type Error = ModelError;
            fn try_from(s: String) -> Result<Self, ModelError> {
                validate_id(&s).map(|()| $name(CompactString::from(s.as_str()))).map_err(|expected| {
                    ModelError::invalid($what, expected, s)
                })
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.0)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = IdRepr::deserialize(d)?.into_string();
                $name::try_from(s).map_err(serde::de::Error::custom)
            }
        }
    };
}

/// Ids arrive as strings or as numbers (the CSV bundle's ids are integers).
#[derive(Deserialize)]
#[serde(untagged)]
enum IdRepr {
    Str(String),
    Int(u64),
}

impl IdRepr {
    fn into_string(self) -> String {
        match self {
            IdRepr::Str(s) => s,
            IdRepr::Int(n) => n.to_string(),
        }
    }
}

fn validate_id(s: &str) -> Result<(), String> {
    if s.is_empty() {
        return Err("a non-empty id".into());
    }
    if s.len() > MAX_ID_LEN {
        return Err(format!("an id of at most {MAX_ID_LEN} bytes"));
    }
    if s.trim() != s {
        return Err("an id without leading or trailing spaces".into());
    }
    if s.chars().any(char::is_control) {
        return Err("an id without control characters".into());
    }
    Ok(())
}

id_type!(
    /// Id of an organization (an account or our own company).
    OrgId,
    "organization id"
);
id_type!(
    /// Id of a person, ours or the customer's.
    PersonId,
    "person id"
);
id_type!(
    /// Id of an interaction (meeting, e-mail, ...).
    InteractionId,
    "interaction id"
);
id_type!(
    /// Id of an opportunity (a deal).
    OpportunityId,
    "opportunity id"
);

/// Seniority: 1 = C-level, 2 = VP, 3 = director, 4 = manager, 5 = staff, 6 = unknown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "u8", into = "u8")]
pub struct Level(u8);

impl Level {
    pub const UNKNOWN: Level = Level(6);
    pub fn new(n: u8) -> Result<Self, ModelError> {
        if (1..=6).contains(&n) {
            Ok(Level(n))
        } else {
            Err(ModelError::invalid(
                "level",
                "an integer from 1 (C-level) to 6 (unknown)",
                n.to_string(),
            ))
        }
    }
    pub fn parse(s: &str) -> Result<Self, ModelError> {
        let n: u8 = s.trim().parse().map_err(|_| {
            ModelError::invalid("level", "an integer from 1 (C-level) to 6 (unknown)", s)
        })?;
        Level::new(n)
    }
    pub fn get(self) -> u8 {
        self.0
    }
    pub fn label(self) -> &'static str {
        match self.0 {
            1 => "C-level",
            2 => "VP",
            3 => "Director",
            4 => "Manager",
            5 => "Staff",
            _ => "Unknown",
        }
    }
}

impl TryFrom<u8> for Level {
    type Error = ModelError;
    fn try_from(n: u8) -> Result<Self, ModelError> {
        Level::new(n)
    }
}
impl From<Level> for u8 {
    fn from(l: Level) -> u8 {
        l.0
    }
}

/// Closeness level 关系紧密度: 0 stranger 陌生, 1 acquainted 认识,
/// 2 familiar 熟悉, 3 trusted 信任, 4 ally 同盟.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "u8", into = "u8")]
pub struct ClosenessLevel(u8);

impl ClosenessLevel {
    pub const STRANGER: ClosenessLevel = ClosenessLevel(0);
    pub const ACQUAINTED: ClosenessLevel = ClosenessLevel(1);
    pub const FAMILIAR: ClosenessLevel = ClosenessLevel(2);
    pub const TRUSTED: ClosenessLevel = ClosenessLevel(3);
    pub const ALLY: ClosenessLevel = ClosenessLevel(4);

    pub fn new(n: u8) -> Result<Self, ModelError> {
        if n <= 4 {
            Ok(ClosenessLevel(n))
        } else {
            Err(ModelError::invalid(
                "closeness level",
                "an integer from 0 (stranger) to 4 (ally)",
                n.to_string(),
            ))
        }
    }
    /// Accepts the number or the English name ("trusted").
    pub fn parse(s: &str) -> Result<Self, ModelError> {
        let t = s.trim();
        if let Ok(n) = t.parse::<u8>() {
            return ClosenessLevel::new(n);
        }
        (0..=4)
            .map(ClosenessLevel)
            .find(|l| l.name().eq_ignore_ascii_case(t))
            .ok_or_else(|| {
                ModelError::invalid(
                    "closeness level",
                    "0-4 or one of stranger, acquainted, familiar, trusted, ally",
                    s,
                )
            })
    }
    pub fn get(self) -> u8 {
        self.0
    }
    pub fn name(self) -> &'static str {
        ["stranger", "acquainted", "familiar", "trusted", "ally"][self.0 as usize]
    }
    pub fn name_zh(self) -> &'static str {
        ["陌生", "认识", "熟悉", "信任", "同盟"][self.0 as usize]
    }
    /// The assessed closeness this level stands for: `L / 4`.
    pub fn as_score(self) -> f64 {
        f64::from(self.0) / 4.0
    }
}

impl TryFrom<u8> for ClosenessLevel {
    type Error = ModelError;
    fn try_from(n: u8) -> Result<Self, ModelError> {
        ClosenessLevel::new(n)
    }
}
impl From<ClosenessLevel> for u8 {
    fn from(l: ClosenessLevel) -> u8 {
        l.0
    }
}

/// A number in 0..=1: influence strength, a score.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Serialize, Deserialize)]
#[serde(try_from = "f64", into = "f64")]
pub struct Strength(f64);

impl Strength {
    pub fn new(x: f64) -> Result<Self, ModelError> {
        if x.is_finite() && (0.0..=1.0).contains(&x) {
            Ok(Strength(x))
        } else {
            Err(ModelError::invalid(
                "strength",
                "a number from 0 to 1",
                x.to_string(),
            ))
        }
    }
    pub fn parse(s: &str) -> Result<Self, ModelError> {
        let x: f64 = s
            .trim()
            .parse()
            .map_err(|_| ModelError::invalid("strength", "a number from 0 to 1", s))?;
        Strength::new(x)
    }
    pub fn get(self) -> f64 {
        self.0
    }
}
impl TryFrom<f64> for Strength {
    type Error = ModelError;
    fn try_from(x: f64) -> Result<Self, ModelError> {
        Strength::new(x)
    }
}
impl From<Strength> for f64 {
    fn from(s: Strength) -> f64 {
        s.0
    }
}

/// An assessed acceptance (solution or price), 0..=4 like closeness.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "u8", into = "u8")]
pub struct Acceptance(u8);

impl Acceptance {
    pub fn new(n: u8) -> Result<Self, ModelError> {
        if n <= 4 {
            Ok(Acceptance(n))
        } else {
            Err(ModelError::invalid(
                "acceptance",
                "an integer from 0 (rejects) to 4 (fully accepts)",
                n.to_string(),
            ))
        }
    }
    pub fn parse(s: &str) -> Result<Self, ModelError> {
        let n: u8 = s.trim().parse().map_err(|_| {
            ModelError::invalid(
                "acceptance",
                "an integer from 0 (rejects) to 4 (fully accepts)",
                s,
            )
        })?;
        Acceptance::new(n)
    }
    pub fn get(self) -> u8 {
        self.0
    }
}
impl TryFrom<u8> for Acceptance {
    type Error = ModelError;
    fn try_from(n: u8) -> Result<Self, ModelError> {
        Acceptance::new(n)
    }
}
impl From<Acceptance> for u8 {
    fn from(a: Acceptance) -> u8 {
        a.0
    }
}

/// A closed set of snake_case names, parsed case-insensitively, with the list
/// of accepted values in the error.
macro_rules! name_enum {
    ($(#[$doc:meta])* $name:ident, $what:literal { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
            pub fn parse(s: &str) -> Result<Self, ModelError> {
                let t = s.trim();
                Self::ALL
                    .iter()
                    .copied()
                    .find(|v| v.as_str().eq_ignore_ascii_case(t))
                    .ok_or_else(|| ModelError::invalid(
                        $what,
                        format!("one of {}", [$($text),+].join(", ")),
                        s,
                    ))
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = ModelError;
            fn from_str(s: &str) -> Result<Self, ModelError> {
                Self::parse(s)
            }
        }
    };
}
pub(crate) use name_enum;

name_enum!(
    /// Role in the buying centre.
    BuyingRole, "buying role" {
        EconomicBuyer => "economic_buyer",
        TechnicalBuyer => "technical_buyer",
        UserBuyer => "user_buyer",
        Coach => "coach",
        Procurement => "procurement",
        Gatekeeper => "gatekeeper",
        Influencer => "influencer",
    }
);

impl BuyingRole {
    /// Parses a role where `none` or empty means "no role".
    pub fn parse_optional(s: &str) -> Result<Option<Self>, ModelError> {
        let t = s.trim();
        if t.is_empty() || t.eq_ignore_ascii_case("none") {
            Ok(None)
        } else {
            BuyingRole::parse(t).map(Some)
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            BuyingRole::EconomicBuyer => "Economic buyer",
            BuyingRole::TechnicalBuyer => "Technical buyer",
            BuyingRole::UserBuyer => "User buyer",
            BuyingRole::Coach => "Coach",
            BuyingRole::Procurement => "Procurement",
            BuyingRole::Gatekeeper => "Gatekeeper",
            BuyingRole::Influencer => "Influencer",
        }
    }
}

name_enum!(
    /// Attitude toward us.
    Attitude, "attitude" {
        Champion => "champion",
        Supporter => "supporter",
        Neutral => "neutral",
        Skeptic => "skeptic",
        Opponent => "opponent",
    }
);

impl Attitude {
    pub fn parse_optional(s: &str) -> Result<Option<Self>, ModelError> {
        let t = s.trim();
        if t.is_empty() || t.eq_ignore_ascii_case("unknown") {
            Ok(None)
        } else {
            Attitude::parse(t).map(Some)
        }
    }
}

name_enum!(
    /// What kind of contact an interaction was; each kind has a weight in the
    /// closeness model.
    InteractionKind, "interaction kind" {
        Meeting => "meeting",
        Visit => "visit",
        Call => "call",
        Email => "email",
        Dinner => "dinner",
        Demo => "demo",
        Workshop => "workshop",
        ServiceCase => "service_case",
    }
);

name_enum!(
    /// What one of our people does on an account team.
    TeamRole, "team role" {
        AccountExecutive => "account_executive",
        SolutionsEngineer => "solutions_engineer",
        CustomerSuccess => "customer_success",
        SalesDirector => "sales_director",
        ExecutiveSponsor => "executive_sponsor",
        ServiceEngineer => "service_engineer",
    }
);

name_enum!(
    /// The kind of an informal influence line.
    InfluenceKind, "influence kind" {
        Peer => "peer",
        Mentor => "mentor",
        FormerColleague => "former_colleague",
        TrustedAdvisor => "trusted_advisor",
        Sponsor => "sponsor",
        Other => "other",
    }
);

name_enum!(
    /// Where a deal stands.
    OpportunityStatus, "opportunity status" {
        Open => "open",
        Won => "won",
        Lost => "lost",
    }
);

/// An external id of a record in another CRM, e.g. `salesforce:0035g00000abcDE`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ExternalId {
    pub system: String,
    pub id: String,
}

impl ExternalId {
    /// Parses `system:id`.
    pub fn parse(s: &str) -> Result<Self, ModelError> {
        let expected = "system:id, e.g. salesforce:0035g00000abcDE";
        let (system, id) = s
            .trim()
            .split_once(':')
            .ok_or_else(|| ModelError::invalid("external id", expected, s))?;
        let (system, id) = (system.trim(), id.trim());
        if system.is_empty()
            || id.is_empty()
            || !system
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            return Err(ModelError::invalid("external id", expected, s));
        }
        Ok(ExternalId {
            system: system.to_ascii_lowercase(),
            id: id.to_owned(),
        })
    }
}

impl fmt::Display for ExternalId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.system, self.id)
    }
}

/// A lower-cased e-mail address with one `@` and a dotted domain.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct Email(String);

impl Email {
    pub fn parse(s: &str) -> Result<Self, ModelError> {
        let t = s.trim().to_lowercase();
        let ok = match t.split_once('@') {
            Some((local, domain)) => {
                !local.is_empty()
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
                    && !domain.contains('@')
                    && !t.chars().any(|c| c.is_whitespace() || c.is_control())
            }
            None => false,
        };
        if ok && t.len() <= 254 {
            Ok(Email(t))
        } else {
            Err(ModelError::invalid(
                "e-mail",
                "an address like name@example.com",
                s,
            ))
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
    pub fn domain(&self) -> &str {
        self.0.split_once('@').map(|(_, d)| d).unwrap_or("")
    }
}

impl<'de> Deserialize<'de> for Email {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Email::parse(&s).map_err(serde::de::Error::custom)
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An account (customer) or our own company.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Organization {
    pub id: OrgId,
    pub name: String,
    #[serde(default)]
    pub industry: Option<String>,
    #[serde(default)]
    pub region: Option<String>,
    #[serde(default)]
    pub tier: Option<String>,
    /// True for our own company: its people are "our people".
    #[serde(default)]
    pub is_ours: bool,
    /// Group structure: this organization is a subsidiary of `parent`.
    #[serde(default)]
    pub parent: Option<OrgId>,
}

/// A customer stakeholder or one of our people.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Person {
    pub id: PersonId,
    pub org: OrgId,
    pub name: String,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub department: Option<String>,
    #[serde(default = "unknown_level")]
    pub level: Level,
    #[serde(default)]
    pub emails: Vec<Email>,
    #[serde(default)]
    pub external_ids: Vec<ExternalId>,
    /// Phone numbers, E.164 where the country is known (see [`crate::phone`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub phones: Vec<PersonPhone>,
    /// The formal line (`REPORTS_TO`).
    #[serde(default)]
    pub reports_to: Option<PersonId>,
    /// Buying-centre role at the account level (deals carry their own).
    #[serde(default)]
    pub role: Option<BuyingRole>,
    #[serde(default)]
    pub attitude: Option<Attitude>,
}

fn unknown_level() -> Level {
    Level::UNKNOWN
}

/// One of our people assigned to an account.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TeamMember {
    pub org: OrgId,
    pub person: PersonId,
    pub role: TeamRole,
}

/// A meeting, visit, call, e-mail... between two or more people. Metadata
/// only: who, when, what kind; never a message body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Interaction {
    pub id: InteractionId,
    pub kind: InteractionKind,
    pub at: Timestamp,
    /// Who started it; one of the participants.
    pub initiator: PersonId,
    /// Everyone who took part, the initiator included; at least two, distinct.
    pub participants: Vec<PersonId>,
    /// The interaction this one answers (an e-mail's `In-Reply-To`), by
    /// id; it may not be stored (a reply to a message outside the mailbox).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub in_reply_to: Option<InteractionId>,
}

impl Interaction {
    /// Checks the participant rules: two or more, distinct, initiator among them.
    pub fn validate(&self) -> Result<(), ModelError> {
        if self.participants.len() < 2 {
            return Err(ModelError::invalid(
                "participants",
                "at least two participants",
                self.participants.len().to_string(),
            ));
        }
        let mut seen: Vec<&PersonId> = self.participants.iter().collect();
        seen.sort();
        if let Some(w) = seen.windows(2).find(|w| w[0] == w[1]) {
            return Err(ModelError::invalid(
                "participants",
                "distinct participants",
                format!("{} twice", w[0]),
            ));
        }
        if !self.participants.contains(&self.initiator) {
            return Err(ModelError::invalid(
                "initiator",
                "one of the participants",
                self.initiator.to_string(),
            ));
        }
        Ok(())
    }
}

/// `INFLUENCES`: `from` has informal sway over `to`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Influence {
    pub from: PersonId,
    pub to: PersonId,
    #[serde(default = "other_influence")]
    pub kind: InfluenceKind,
    pub strength: Strength,
}

fn other_influence() -> InfluenceKind {
    InfluenceKind::Other
}

/// `KNOWS`: a human judgement that `from` and `to` are this close, made at
/// `at` by `by`. Later assessments of the same pair supersede earlier ones.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Assessment {
    pub from: PersonId,
    pub to: PersonId,
    pub level: ClosenessLevel,
    pub at: Timestamp,
    #[serde(default)]
    pub by: Option<PersonId>,
}

/// A deal (TAS+).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Opportunity {
    pub id: OpportunityId,
    pub account: OrgId,
    pub name: String,
    #[serde(default)]
    pub amount: Option<f64>,
    #[serde(default)]
    pub stage: Option<String>,
    pub status: OpportunityStatus,
    #[serde(default)]
    pub close_date: Option<chrono::NaiveDate>,
    #[serde(default)]
    pub owner: Option<PersonId>,
    /// Competitors in this deal, by name (free text, no `;`).
    #[serde(default)]
    pub competitors: Vec<String>,
}

/// A dated stage change: from `at` on, the deal stood at `stage`. Every
/// change is kept, so the stage of a deal can be told as of any date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StageChange {
    pub opportunity: OpportunityId,
    pub stage: String,
    pub at: Timestamp,
}

/// `INVOLVED_IN`: a stakeholder's part in one deal, assessed at `at`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OpportunityContact {
    pub opportunity: OpportunityId,
    pub person: PersonId,
    #[serde(default)]
    pub role: Option<BuyingRole>,
    #[serde(default)]
    pub attitude: Option<Attitude>,
    #[serde(default)]
    pub solution_acceptance: Option<Acceptance>,
    #[serde(default)]
    pub price_acceptance: Option<Acceptance>,
    #[serde(default)]
    pub at: Option<Timestamp>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_reject_empty_padded_and_control() {
        assert!(PersonId::parse("42").is_ok());
        assert!(PersonId::parse("0035g00000abcDE").is_ok());
        assert!(PersonId::parse("").is_err());
        assert!(PersonId::parse(" 42").is_err());
        assert!(PersonId::parse("a\nb").is_err());
        assert!(PersonId::parse(&"x".repeat(MAX_ID_LEN + 1)).is_err());
    }

    #[test]
    fn ids_deserialize_from_numbers_and_strings() {
        let a: PersonId = serde_json::from_str("17").unwrap();
        let b: PersonId = serde_json::from_str("\"17\"").unwrap();
        assert_eq!(a, b);
        assert!(serde_json::from_str::<PersonId>("\"\"").is_err());
    }

    #[test]
    fn level_range() {
        assert_eq!(Level::parse("1").unwrap().get(), 1);
        assert_eq!(Level::parse(" 6 ").unwrap().label(), "Unknown");
        for bad in ["0", "7", "-1", "x", ""] {
            let err = Level::parse(bad).unwrap_err().to_string();
            assert!(err.contains("1 (C-level) to 6"), "{err}");
        }
        assert!(serde_json::from_str::<Level>("9").is_err());
    }

    #[test]
    fn closeness_level_by_number_or_name() {
        assert_eq!(ClosenessLevel::parse("3").unwrap(), ClosenessLevel::TRUSTED);
        assert_eq!(ClosenessLevel::parse("Ally").unwrap(), ClosenessLevel::ALLY);
        assert_eq!(ClosenessLevel::TRUSTED.as_score(), 0.75);
        assert_eq!(ClosenessLevel::FAMILIAR.name_zh(), "熟悉");
        assert!(ClosenessLevel::parse("5").is_err());
        assert!(ClosenessLevel::parse("friend").is_err());
    }

    #[test]
    fn strength_range() {
        assert_eq!(Strength::parse("0.15").unwrap().get(), 0.15);
        assert!(Strength::new(1.2).is_err());
        assert!(Strength::new(f64::NAN).is_err());
        assert!(Strength::parse("-0.1").is_err());
        assert!(serde_json::from_str::<Strength>("1.5").is_err());
    }

    #[test]
    fn enums_parse_case_insensitively_and_list_choices() {
        assert_eq!(
            BuyingRole::parse("Economic_Buyer").unwrap(),
            BuyingRole::EconomicBuyer
        );
        assert_eq!(BuyingRole::parse_optional("none").unwrap(), None);
        let err = BuyingRole::parse("ceo").unwrap_err().to_string();
        assert!(
            err.contains("economic_buyer") && err.contains("\"ceo\""),
            "{err}"
        );
        assert_eq!(
            InteractionKind::parse("service_case").unwrap(),
            InteractionKind::ServiceCase
        );
        assert!(InteractionKind::parse("telegram").is_err());
        assert_eq!(
            serde_json::to_string(&Attitude::Champion).unwrap(),
            "\"champion\""
        );
    }

    #[test]
    fn email_normalized() {
        let e = Email::parse(" Ana.Lopez@Example.COM ").unwrap();
        assert_eq!(e.as_str(), "ana.lopez@example.com");
        assert_eq!(e.domain(), "example.com");
        for bad in [
            "",
            "ana",
            "ana@",
            "@x.com",
            "ana@x",
            "a b@x.com",
            "a@b@c.com",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn external_id_parse() {
        let x = ExternalId::parse("Salesforce:0035g00000abcDE").unwrap();
        assert_eq!(x.system, "salesforce");
        assert_eq!(x.to_string(), "salesforce:0035g00000abcDE");
        assert!(ExternalId::parse("nocolon").is_err());
        assert!(ExternalId::parse(":x").is_err());
    }

    #[test]
    fn interaction_participant_rules() {
        let p = |s: &str| PersonId::parse(s).unwrap();
        let mut i = Interaction {
            id: InteractionId::parse("1").unwrap(),
            kind: InteractionKind::Meeting,
            at: Timestamp::from_epoch_seconds(0),
            initiator: p("a"),
            participants: vec![p("a"), p("b")],
            in_reply_to: None,
        };
        assert!(i.validate().is_ok());
        i.participants = vec![p("a")];
        assert!(i.validate().is_err());
        i.participants = vec![p("a"), p("b"), p("a")];
        assert!(i.validate().is_err());
        i.participants = vec![p("b"), p("c")];
        assert!(i.validate().unwrap_err().to_string().contains("initiator"));
    }
}
