//! `renmai import FILE --format deal-support` and `renmai support load`:
//! presales and experts assigned to deals, and their load per month.

use std::path::Path;

use anyhow::Context;
use chrono::Datelike;
use clap::Subcommand;

use super::score::OutputFormat;
use crate::store::Store;
use crate::support::{load_report, parse_month, read_csv};

#[derive(Subcommand, Debug)]
pub enum SupportCommand {
    /// Deals per supporter per month (default: the last 6 months).
    Load {
        /// First month, YYYY-MM.
        #[arg(long)]
        from: Option<String>,
        /// Last month, YYYY-MM [default: this month].
        #[arg(long)]
        to: Option<String>,
        #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
        format: OutputFormat,
    },
}

/// Reads, checks and stores assignments; all or nothing.
pub async fn import(store: &dyn Store, path: &Path) -> anyhow::Result<()> {
    let (rows, locations) = read_csv(path)?;
    let n = rows.len();
    let counts = store.save_deal_support(rows, locations).await?;
    eprintln!(
        "imported {} (deal support) into {} {}: {n} assignments, {} new, {} already stored",
        path.display(),
        store.kind(),
        store.location(),
        counts.new,
        counts.existing
    );
    Ok(())
}

pub async fn run(store: &dyn Store, cmd: SupportCommand) -> anyhow::Result<()> {
    let SupportCommand::Load { from, to, format } = cmd;
    let today = chrono::Utc::now().date_naive();
    let to = match to {
        Some(s) => parse_month(&s)
            .map_err(anyhow::Error::msg)
            .context("--to")?,
        None => today.with_day(1).expect("day 1"),
    };
    let from = match from {
        Some(s) => parse_month(&s)
            .map_err(anyhow::Error::msg)
            .context("--from")?,
        None => to
            .checked_sub_months(chrono::Months::new(5))
            .expect("a month in range"),
    };
    if from > to {
        anyhow::bail!(
            "--from {} is after --to {}",
            from.format("%Y-%m"),
            to.format("%Y-%m")
        );
    }
    let report = load_report(store, from, to).await?;
    match format {
        OutputFormat::Json => println!("{}", serde_json::to_string_pretty(&report)?),
        OutputFormat::Csv => {
            let mut w = csv::Writer::from_writer(std::io::stdout().lock());
            w.write_record(["person", "name", "roles", "month", "deals", "opportunities"])?;
            for p in &report.people {
                for m in &p.months {
                    let opps: Vec<&str> = m.opportunities.iter().map(|o| o.as_str()).collect();
                    w.write_record([
                        p.person.as_str(),
                        &p.name,
                        &p.roles.join(";"),
                        &m.month,
                        &m.deals.to_string(),
                        &opps.join(";"),
                    ])?;
                }
            }
            w.flush()?;
        }
        OutputFormat::Table => {
            if report.people.is_empty() {
                println!(
                    "(no supporter assigned to a deal between {} and {}; import assignments with `renmai import FILE --format deal-support`)",
                    report.from, report.to
                );
                return Ok(());
            }
            let months: Vec<&str> = report.people[0]
                .months
                .iter()
                .map(|m| m.month.as_str())
                .collect();
            let name_w = report
                .people
                .iter()
                .map(|p| p.name.chars().count())
                .max()
                .unwrap_or(4)
                .max(6);
            let mut head = format!("{:<name_w$}  {:<28}", "person", "roles");
            for m in &months {
                head.push_str(&format!("  {m:>7}"));
            }
            head.push_str("     peak  deals");
            println!("{head}");
            for p in &report.people {
                let mut line = format!("{:<name_w$}  {:<28}", p.name, p.roles.join(","));
                for m in &p.months {
                    line.push_str(&format!("  {:>7}", m.deals));
                }
                line.push_str(&format!("  {:>7}  {:>5}", p.peak, p.distinct_deals));
                println!("{line}");
            }
        }
    }
    Ok(())
}
