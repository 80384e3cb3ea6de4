//! `renmai leads`: accounts and stakeholders whose service contact is rising,
//! a source of new opportunities (孵化商机).

use anyhow::Context;
use clap::Args;
use renmai_graph::Timestamp;
use renmai_graph::service::LeadsConfig;

use super::score::OutputFormat;
use crate::leads::{LeadRow, LeadsReport, check_config, leads};
use crate::store::Store;

#[derive(Args, Debug)]
pub struct LeadsArgs {
    /// As of this time (RFC 3339 or a date) instead of now.
    #[arg(long)]
    pub as_of: Option<String>,
    /// Days in the recent window, compared with as many days before it.
    #[arg(long, default_value_t = 90)]
    pub window_days: u32,
    /// Fewest recent cases for a lead (fewer is noise, not a trend).
    #[arg(long, default_value_t = 3)]
    pub min_cases: u32,
    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    pub format: OutputFormat,
}

pub async fn run(store: &dyn Store, args: LeadsArgs) -> anyhow::Result<()> {
    let as_of = args
        .as_of
        .as_deref()
        .map(Timestamp::parse)
        .transpose()
        .context("--as-of")?
        .unwrap_or_else(crate::engine::now_to_the_minute);
    let cfg = LeadsConfig {
        window_days: args.window_days,
        min_recent: args.min_cases,
    };
    check_config(&cfg).map_err(|e| anyhow::anyhow!("--window-days/--min-cases: {e}"))?;
    let report = leads(store, as_of, cfg).await?;
    match args.format {
        OutputFormat::Json => println!("{}", serde_json::to_string_pretty(&report)?),
        OutputFormat::Csv => {
            let mut w = csv::Writer::from_writer(std::io::stdout().lock());
            w.write_record(HEADER)?;
            for r in rows(&report) {
                w.write_record(r)?;
            }
            w.flush()?;
        }
        OutputFormat::Table => {
            eprintln!(
                "leads from service as of {}: {} cases in the last {} days and the {} before; a lead needs at least {} recent cases and more than before",
                report.as_of,
                report.cases_considered,
                report.window_days,
                report.window_days,
                report.min_recent
            );
            print!("{}", table(&report));
        }
    }
    Ok(())
}

const HEADER: [&str; 10] = [
    "kind",
    "account",
    "account_name",
    "person",
    "person_name",
    "recent",
    "prior",
    "urgent",
    "last_opened",
    "reason",
];

fn row(kind: &str, l: &LeadRow) -> Vec<String> {
    vec![
        kind.to_owned(),
        l.account.to_string(),
        l.account_name.clone(),
        l.person
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default(),
        l.person_name.clone().unwrap_or_default(),
        l.recent.to_string(),
        l.prior.to_string(),
        l.recent_urgent.to_string(),
        l.last_opened.to_rfc3339(),
        l.reason.clone(),
    ]
}

fn rows(r: &LeadsReport) -> Vec<Vec<String>> {
    r.accounts
        .iter()
        .map(|l| row("account", l))
        .chain(r.stakeholders.iter().map(|l| row("stakeholder", l)))
        .collect()
}

fn table(r: &LeadsReport) -> String {
    let rows = rows(r);
    if rows.is_empty() {
        return "(no leads: no account's or stakeholder's service contact is rising)\n".into();
    }
    let mut width: Vec<usize> = HEADER.iter().map(|h| h.chars().count()).collect();
    for r in &rows {
        for (w, c) in width.iter_mut().zip(r) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |cells: Vec<String>| {
        let mut l = String::new();
        for (c, w) in cells.iter().zip(&width) {
            l.push_str(&format!("{c:<w$}  "));
        }
        l.trim_end().to_owned() + "\n"
    };
    let mut out = line(HEADER.iter().map(|h| h.to_string()).collect());
    for r in rows {
        out.push_str(&line(r));
    }
    out
}
