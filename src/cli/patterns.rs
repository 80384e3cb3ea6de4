//! `renmai patterns ACCOUNT`: the account's buying patterns from its past
//! deals (PBM) and the open deals that depart from them.

use anyhow::{Context, bail};
use clap::{Args, ValueEnum};
use renmai_graph::OrgId;
use renmai_graph::deals::DealConfig;
use renmai_graph::patterns::AccountPatterns;

use crate::engine::Engine;

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum PatternsFormat {
    Table,
    Json,
}

#[derive(Args, Debug)]
pub struct PatternsArgs {
    /// The account's id.
    pub account: String,
    #[arg(long, value_enum, default_value_t = PatternsFormat::Table)]
    pub format: PatternsFormat,
}

pub async fn run(engine: &Engine, deals: &DealConfig, args: PatternsArgs) -> anyhow::Result<()> {
    let id = OrgId::parse(&args.account).context("ACCOUNT")?;
    let Some(data) = engine.account_data(&id).await? else {
        bail!("no customer account with id {id}");
    };
    let p = crate::patterns::patterns(engine, deals, &data).await?;
    match args.format {
        PatternsFormat::Json => println!("{}", serde_json::to_string_pretty(&p)?),
        PatternsFormat::Table => print!("{}", text(&data.account.name, &p)),
    }
    Ok(())
}

/// The patterns as plain text, counts first.
pub fn text(name: &str, p: &AccountPatterns) -> String {
    let mut s = format!(
        "{name}: {} won, {} lost, {} open — {}\n",
        p.won, p.lost, p.open, p.note
    );
    if !p.sufficient {
        return s;
    }
    s.push_str("\ntime per stage (median days, n deals):\n");
    for d in p.stage_durations.iter().filter(|d| d.n > 0) {
        match d.median_days {
            Some(m) => s.push_str(&format!("  {:<20} {m:>6.0} days  (n={})\n", d.stage, d.n)),
            None => s.push_str(&format!(
                "  {:<20}      –       (n={}, too few)\n",
                d.stage, d.n
            )),
        }
    }
    if let Some(c) = p.cycle_median_days {
        s.push_str(&format!(
            "  whole cycle          {c:>6.0} days  (n={})\n",
            p.cycle_n
        ));
    }
    let months = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let wins: Vec<String> = p
        .won_by_month
        .iter()
        .enumerate()
        .filter(|(_, n)| **n > 0)
        .map(|(i, n)| format!("{} {n}", months[i]))
        .collect();
    s.push_str(&format!("\nwins by closing month: {}\n", wins.join(", ")));
    if !p.decision_months.is_empty() {
        let m: Vec<&str> = p
            .decision_months
            .iter()
            .map(|m| months[*m as usize - 1])
            .collect();
        s.push_str(&format!("decides in: {}\n", m.join(", ")));
    }
    s.push_str("\nroles and levels (won deals with / won; lost with / lost; by stage):\n");
    for x in &p.presence {
        s.push_str(&format!(
            "  {:<18} won {}/{}  lost {}/{}{}\n",
            x.label,
            x.won_with,
            x.won,
            x.lost_with,
            x.lost,
            if x.typical_of_wins {
                "  typical of wins"
            } else {
                ""
            }
        ));
    }
    s.push_str("\nstakeholders in the chain at the end of each stage (median; n):\n");
    let f = |m: Option<f64>, n: usize| m.map_or(format!("– (n={n})"), |m| format!("{m} (n={n})"));
    for c in &p.stage_coverage {
        s.push_str(&format!(
            "  {:<20} won {:<12} lost {}\n",
            c.stage,
            f(c.won_median_contacts, c.won_n),
            f(c.lost_median_contacts, c.lost_n)
        ));
    }
    if !p.evaluators.is_empty() {
        s.push_str("\ntypical evaluators:\n");
        for e in &p.evaluators {
            s.push_str(&format!(
                "  {:<12} {:<16} in {} of {} deals\n",
                e.person.as_str(),
                e.role.map(|r| r.label()).unwrap_or(""),
                e.deals,
                e.of
            ));
        }
    }
    if !p.warnings.is_empty() {
        s.push_str("\nwarnings:\n");
        for w in &p.warnings {
            let ev: Vec<&str> = w.evidence.iter().map(|o| o.as_str()).collect();
            s.push_str(&format!("  ! {} (deals: {})\n", w.text, ev.join(", ")));
        }
    }
    s
}
