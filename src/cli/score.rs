//! `renmai score closeness|influence|paths|coverage|next`: scores from the
//! store, as a table for people, JSON (with every explanation) or CSV.

use std::collections::HashMap;

use anyhow::{Context, bail};
use clap::{Args, ValueEnum};
use renmai_graph::coverage::GroupKey;
use renmai_graph::{AccountScores, OrgId, Person, PersonId, Timestamp};
use serde::Serialize;

use crate::engine::Engine;

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Family {
    Closeness,
    Influence,
    Paths,
    Coverage,
    Next,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutputFormat {
    Table,
    Json,
    Csv,
}

#[derive(Args, Debug)]
pub struct ScoreArgs {
    /// What to score.
    #[arg(value_enum)]
    pub family: Family,
    /// One account (default: every account).
    #[arg(long)]
    pub account: Option<String>,
    /// For `paths`: the person to reach (default: the account's most senior person).
    #[arg(long)]
    pub target: Option<String>,
    /// For `paths`: how many paths.
    #[arg(short, long, default_value_t = 3)]
    pub k: usize,
    /// Score as of this time (RFC 3339) instead of now.
    #[arg(long)]
    pub as_of: Option<String>,
    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    pub format: OutputFormat,
}

/// One output row: column names and values, the same for table and CSV.
struct Rows {
    header: Vec<&'static str>,
    rows: Vec<Vec<String>>,
}

fn group_label(g: &GroupKey) -> String {
    match g {
        GroupKey::Role(r) => format!("role:{}", r.as_str()),
        GroupKey::Department(d) => format!("department:{d}"),
        GroupKey::Level(l) => format!("level:{}", l.get()),
    }
}

fn f3(x: f64) -> String {
    format!("{x:.3}")
}

fn opt<T: ToString>(x: &Option<T>) -> String {
    x.as_ref().map(ToString::to_string).unwrap_or_default()
}

#[derive(Serialize)]
struct JsonOut<'a, T: Serialize> {
    account: &'a OrgId,
    as_of: Timestamp,
    #[serde(flatten)]
    body: T,
}

pub async fn run(engine: &Engine, args: ScoreArgs) -> anyhow::Result<()> {
    let as_of = args
        .as_of
        .as_deref()
        .map(Timestamp::parse)
        .transpose()
        .context("--as-of")?
        .unwrap_or_else(crate::engine::now_to_the_minute);
    let accounts: Vec<OrgId> = match &args.account {
        Some(a) => vec![OrgId::parse(a).context("--account")?],
        None => engine
            .store()
            .accounts()
            .await?
            .into_iter()
            .map(|a| a.id)
            .collect(),
    };
    if args.target.is_some() && args.family != Family::Paths {
        bail!("--target only applies to `score paths`");
    }
    let mut table = Rows {
        header: vec![],
        rows: vec![],
    };
    let mut json: Vec<serde_json::Value> = Vec::new();
    for account in &accounts {
        let Some(data) = engine.account_data(account).await? else {
            bail!("no customer account with id {account}");
        };
        let scores = engine
            .scores(account, Some(as_of))
            .await?
            .expect("account exists");
        let names: HashMap<&PersonId, &Person> = data
            .people
            .iter()
            .chain(&data.our_people)
            .map(|p| (&p.id, p))
            .collect();
        let name = |id: &PersonId| {
            names
                .get(id)
                .map(|p| p.name.clone())
                .unwrap_or_else(|| id.to_string())
        };
        match args.family {
            Family::Paths => {
                let target = match &args.target {
                    Some(t) => PersonId::parse(t).context("--target")?,
                    None => match data
                        .people
                        .iter()
                        .min_by(|a, b| (a.level, &a.id).cmp(&(b.level, &b.id)))
                    {
                        Some(p) => p.id.clone(),
                        None => continue,
                    },
                };
                if !data.people.iter().any(|p| p.id == target) {
                    bail!("{target} is not a stakeholder of account {account}");
                }
                let paths = engine
                    .warm_paths(account, &target, args.k, Some(as_of))
                    .await?
                    .unwrap_or_default();
                table.header = vec!["account", "target", "rank", "strength", "seller", "hops"];
                for (i, p) in paths.iter().enumerate() {
                    let hops: Vec<String> = p
                        .hops
                        .iter()
                        .map(|h| format!("{} → {} ({})", name(&h.from), name(&h.to), h.text))
                        .collect();
                    table.rows.push(vec![
                        account.to_string(),
                        name(&target),
                        (i + 1).to_string(),
                        f3(p.strength),
                        name(&p.seller),
                        hops.join("; "),
                    ]);
                }
                json.push(serde_json::to_value(JsonOut {
                    account,
                    as_of,
                    body: serde_json::json!({"target": target, "paths": paths}),
                })?);
            }
            Family::Closeness => {
                table.header = vec![
                    "account",
                    "person",
                    "name",
                    "closeness",
                    "level",
                    "best_connector",
                    "strong_ties",
                    "last_contact",
                ];
                for s in &scores.stakeholders {
                    let c = &s.closeness;
                    table.rows.push(vec![
                        account.to_string(),
                        c.person.to_string(),
                        name(&c.person),
                        f3(c.closeness),
                        c.level.name().to_owned(),
                        c.best_connector.as_ref().map(&name).unwrap_or_default(),
                        c.strong_ties.to_string(),
                        opt(&c.last_contact),
                    ]);
                }
                json.push(serde_json::to_value(JsonOut {
                    account,
                    as_of,
                    body: serde_json::json!({"stakeholders": scores.stakeholders.iter().map(|s| &s.closeness).collect::<Vec<_>>(), "ties": scores.ties}),
                })?);
            }
            Family::Influence => {
                table.header = vec![
                    "account",
                    "person",
                    "name",
                    "influence",
                    "pagerank",
                    "betweenness",
                    "broker",
                ];
                for s in &scores.stakeholders {
                    let i = &s.influence;
                    table.rows.push(vec![
                        account.to_string(),
                        i.person.to_string(),
                        name(&i.person),
                        f3(i.influence),
                        format!("{:.5}", i.pagerank),
                        format!("{:.1}", i.betweenness),
                        if i.broker {
                            "yes".into()
                        } else {
                            String::new()
                        },
                    ]);
                }
                json.push(serde_json::to_value(JsonOut {
                    account,
                    as_of,
                    body: serde_json::json!({"stakeholders": scores.stakeholders.iter().map(|s| &s.influence).collect::<Vec<_>>()}),
                })?);
            }
            Family::Coverage => {
                table.header = vec!["account", "group", "members", "strong", "gap", "closest"];
                for g in &scores.coverage.groups {
                    table.rows.push(vec![
                        account.to_string(),
                        group_label(&g.group),
                        g.members.to_string(),
                        g.strong_members.to_string(),
                        if g.gap { "GAP".into() } else { String::new() },
                        g.closest
                            .as_ref()
                            .map(|(p, c)| format!("{} {}", name(p), f3(*c)))
                            .unwrap_or_default(),
                    ]);
                }
                json.push(serde_json::to_value(JsonOut {
                    account,
                    as_of,
                    body: &scores.coverage,
                })?);
            }
            Family::Next => {
                table.header = vec![
                    "account",
                    "rank",
                    "person",
                    "name",
                    "score",
                    "introducer",
                    "why",
                ];
                for (i, n) in scores.next_approaches.iter().enumerate() {
                    table.rows.push(vec![
                        account.to_string(),
                        (i + 1).to_string(),
                        n.person.to_string(),
                        name(&n.person),
                        f3(n.score),
                        n.introducer.as_ref().map(&name).unwrap_or_default(),
                        n.why.clone(),
                    ]);
                }
                json.push(serde_json::to_value(JsonOut {
                    account,
                    as_of,
                    body: serde_json::json!({"next_approaches": scores.next_approaches}),
                })?);
            }
        }
        summary_line(&scores, args.format);
    }
    match args.format {
        OutputFormat::Json => println!("{}", serde_json::to_string_pretty(&json)?),
        OutputFormat::Csv => {
            let mut w = csv::Writer::from_writer(std::io::stdout().lock());
            w.write_record(&table.header)?;
            for r in &table.rows {
                w.write_record(r)?;
            }
            w.flush()?;
        }
        OutputFormat::Table => print!("{}", render_table(&table)),
    }
    Ok(())
}

/// For people reading a table: the account's headline on stderr.
fn summary_line(s: &AccountScores, format: OutputFormat) {
    if format == OutputFormat::Table {
        eprintln!(
            "account {}: relationship index {:.3}, coverage {:.0}% ({} gaps), as of {}",
            s.account,
            s.relationship_index,
            s.coverage.coverage * 100.0,
            s.coverage.gaps.len(),
            s.as_of
        );
    }
}

fn render_table(t: &Rows) -> String {
    if t.rows.is_empty() {
        return "(nothing to show)\n".into();
    }
    let cols = t.header.len();
    let mut width: Vec<usize> = t.header.iter().map(|h| h.chars().count()).collect();
    for r in &t.rows {
        for (i, c) in r.iter().enumerate().take(cols) {
            width[i] = width[i].max(c.chars().count().min(60));
        }
    }
    let mut out = String::new();
    let line = |cells: Vec<String>| -> String {
        let mut l = String::new();
        for (i, c) in cells.iter().enumerate() {
            let c: String = c.chars().take(60).collect();
            let pad = width[i].saturating_sub(c.chars().count());
            l.push_str(&c);
            if i + 1 < cells.len() {
                l.push_str(&" ".repeat(pad + 2));
            }
        }
        l.trim_end().to_owned() + "\n"
    };
    out.push_str(&line(t.header.iter().map(|h| h.to_string()).collect()));
    for r in &t.rows {
        out.push_str(&line(r.clone()));
    }
    out
}
