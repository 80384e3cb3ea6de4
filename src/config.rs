//! Configuration: defaults, then a TOML file (`--config` / `RENMAI_CONFIG`),
//! then environment variables, then flags. Clap handles the last two; this
//! module merges the file underneath them.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use renmai_graph::{DealConfig, ScoringConfig};
use serde::Deserialize;

pub const DEFAULT_DB: &str = "renmai.db";
pub const DEFAULT_ADDR: &str = "127.0.0.1:8080";

/// The settings a config file may hold; every key is optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub db: Option<PathBuf>,
    pub addr: Option<SocketAddr>,
    #[serde(default)]
    pub scoring: Option<ScoringConfig>,
    /// Which store: `sqlite` (default) or `neo4j`.
    pub store: Option<StoreKind>,
    /// Connection of the Neo4j store (`[neo4j]` uri, user, password, db).
    #[serde(default)]
    pub neo4j: Neo4jConfig,
    /// Identity resolution of `renmai import` from mailboxes, calendars,
    /// contacts and CRM exports (`[ingest]`).
    #[serde(default)]
    pub ingest: IngestConfig,
    /// Deal stages, amount categories and risk thresholds (`[deals]`).
    #[serde(default)]
    pub deals: Option<DealConfig>,
    /// How long interaction metadata is kept (`[retention]`).
    #[serde(default)]
    pub retention: RetentionConfig,
    /// Sign-in settings (`[access]`: secure_cookies, session_minutes,
    /// lock_after, lock_minutes, request_timeout_seconds).
    #[serde(default)]
    pub access: crate::access::AccessConfig,
}

/// `[retention] interactions_days = N`: interactions older than N days are
/// deleted (by `serve` every hour and by `renmai retention apply`). Off
/// when unset.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetentionConfig {
    pub interactions_days: Option<u32>,
}

/// `[ingest]`: which e-mail domains are ours, and domains pinned to an
/// organization (`[ingest.domains]`, e.g. `"acme.de" = "acme"`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IngestConfig {
    #[serde(default)]
    pub our_domains: Vec<String>,
    #[serde(default)]
    pub domains: std::collections::BTreeMap<String, String>,
    /// Two-letter country (`DE`) whose national phone numbers (`030 1234567`)
    /// become E.164; without it they are kept as written, unnormalized.
    #[serde(default)]
    pub default_phone_region: Option<String>,
}

/// Which backend keeps the data.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum StoreKind {
    /// The embedded SQLite file (`--db`).
    #[default]
    Sqlite,
    /// A Neo4j (or other Bolt) server shared by several app servers.
    Neo4j,
}

/// Where the Neo4j store is; every key optional until `--store neo4j` needs `uri`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Neo4jConfig {
    pub uri: Option<String>,
    pub user: Option<String>,
    pub password: Option<String>,
    pub db: Option<String>,
    /// Milliseconds one read or small write may take before it fails with a
    /// 503 (default 10,000); imports get this plus 10 ms per record.
    pub timeout_ms: Option<u64>,
    /// Milliseconds each step of opening the store may take (default 30,000:
    /// a restarted server first recovers its database).
    pub connect_timeout_ms: Option<u64>,
}

impl Neo4jConfig {
    /// Fills the keys `over` leaves unset from `self`.
    pub fn overlay(self, over: Neo4jConfig) -> Neo4jConfig {
        Neo4jConfig {
            uri: over.uri.or(self.uri),
            user: over.user.or(self.user),
            password: over.password.or(self.password),
            db: over.db.or(self.db),
            timeout_ms: over.timeout_ms.or(self.timeout_ms),
            connect_timeout_ms: over.connect_timeout_ms.or(self.connect_timeout_ms),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {reason}")]
    Read { path: String, reason: String },
    #[error("config file {path}: {reason}")]
    Parse { path: String, reason: String },
}

impl FileConfig {
    pub fn load(path: &Path) -> Result<FileConfig, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError::Read {
            path: path.display().to_string(),
            reason: e.to_string(),
        })?;
        Self::parse(&text, &path.display().to_string())
    }

    pub fn parse(text: &str, path: &str) -> Result<FileConfig, ConfigError> {
        let file: FileConfig = toml::from_str(text).map_err(|e| ConfigError::Parse {
            path: path.to_owned(),
            reason: e.to_string(),
        })?;
        if let Some(d) = &file.deals {
            d.validate().map_err(|e| ConfigError::Parse {
                path: path.to_owned(),
                reason: e.to_string(),
            })?;
        }
        Ok(file)
    }
}

/// The resolved settings the app runs with.
#[derive(Debug, Clone)]
pub struct Config {
    pub db: PathBuf,
    pub addr: SocketAddr,
    pub scoring: ScoringConfig,
    pub store: StoreKind,
    pub neo4j: Neo4jConfig,
    pub ingest: IngestConfig,
    pub deals: DealConfig,
    pub retention: RetentionConfig,
    pub access: crate::access::AccessConfig,
}

impl Config {
    /// Layers: a flag or variable (`cli_*`, `Some` when given) beats the file,
    /// which beats the defaults.
    pub fn resolve(
        file: FileConfig,
        cli_db: Option<PathBuf>,
        cli_addr: Option<SocketAddr>,
    ) -> Config {
        Config {
            db: cli_db
                .or(file.db)
                .unwrap_or_else(|| PathBuf::from(DEFAULT_DB)),
            addr: cli_addr
                .or(file.addr)
                .unwrap_or_else(|| DEFAULT_ADDR.parse().expect("valid default address")),
            scoring: file.scoring.unwrap_or_default(),
            store: file.store.unwrap_or_default(),
            neo4j: file.neo4j,
            ingest: file.ingest,
            deals: file.deals.unwrap_or_default(),
            retention: file.retention,
            access: file.access,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layers_flags_over_file_over_defaults() {
        let file = FileConfig::parse(
            "db = \"/data/r.db\"\n[scoring]\nhalf_life_days = 30.0\n",
            "t.toml",
        )
        .unwrap();
        let c = Config::resolve(file, None, None);
        assert_eq!(c.db, PathBuf::from("/data/r.db"));
        assert_eq!(c.addr.to_string(), DEFAULT_ADDR);
        assert_eq!(c.scoring.half_life_days, 30.0);
        assert_eq!(c.scoring.evidence_scale, 10.0, "unset keys keep defaults");

        let file = FileConfig::parse("db = \"/data/r.db\"", "t.toml").unwrap();
        let c = Config::resolve(
            file,
            Some("x.db".into()),
            Some("0.0.0.0:9000".parse().unwrap()),
        );
        assert_eq!(c.db, PathBuf::from("x.db"));
        assert_eq!(c.addr.port(), 9000);
    }

    #[test]
    fn store_and_neo4j_keys_layer_under_flags() {
        let file = FileConfig::parse(
            "store = \"neo4j\"\n[neo4j]\nuri = \"bolt://db:7687\"\nuser = \"app\"\n",
            "t.toml",
        )
        .unwrap();
        let c = Config::resolve(file, None, None);
        assert_eq!(c.store, StoreKind::Neo4j);
        let n = c.neo4j.overlay(Neo4jConfig {
            user: Some("admin".into()),
            ..Neo4jConfig::default()
        });
        assert_eq!(n.uri.as_deref(), Some("bolt://db:7687"));
        assert_eq!(n.user.as_deref(), Some("admin"), "flags beat the file");
        assert!(FileConfig::parse("store = \"mysql\"", "t.toml").is_err());
        assert!(FileConfig::parse("[neo4j]\nurl = \"x\"", "t.toml").is_err());
    }

    #[test]
    fn unknown_keys_are_errors() {
        let err = FileConfig::parse("dbb = 1", "t.toml")
            .unwrap_err()
            .to_string();
        assert!(err.contains("t.toml") && err.contains("dbb"), "{err}");
    }

    #[test]
    fn deals_section_configures_stages_and_bands_and_is_checked() {
        let text = r#"
[deals]
late_stage = "pitch"
stages = [
  { id = "lead", name = "Lead", probability = 0.1 },
  { id = "pitch", name = "Pitch", probability = 0.5 },
  { id = "won", name = "Won", probability = 1.0, outcome = "won" },
  { id = "lost", name = "Lost", probability = 0.0, outcome = "lost" },
]
categories = [{ name = "any", min = 0 }, { name = "big", min = 1e6 }]
"#;
        let c = Config::resolve(FileConfig::parse(text, "t.toml").unwrap(), None, None);
        assert_eq!(c.deals.stages.len(), 4);
        assert_eq!(c.deals.category(Some(2e6)), Some(1));
        assert_eq!(c.deals.low_acceptance, 1, "unset keys keep defaults");
        let c = Config::resolve(FileConfig::parse("", "t.toml").unwrap(), None, None);
        assert_eq!(c.deals.stages.len(), 8);

        let bad = text.replace("min = 1e6", "min = -5");
        let err = FileConfig::parse(&bad, "t.toml").unwrap_err().to_string();
        assert!(
            err.contains("t.toml") && err.contains("categories[1].min"),
            "{err}"
        );
    }
}
