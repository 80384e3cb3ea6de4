//! `renmai deals list|show` and `renmai report pipeline|coverage|risk|trends`.

use anyhow::Context;
use clap::{Args, Subcommand, ValueEnum};
use renmai_graph::report::{DealRow, Table};
use renmai_graph::{DealConfig, OpportunityId, OrgId};

use crate::deals::{Report, ReportKind, detail, parse_as_of, rows, to_csv, to_text};
use crate::engine::Engine;

#[derive(Subcommand, Debug)]
pub enum DealsCommand {
    /// The deals of one account or of all, with stage, category and weight.
    List {
        #[arg(long)]
        account: Option<String>,
        /// As of this time (RFC 3339 or a date) instead of now.
        #[arg(long)]
        as_of: Option<String>,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// One deal: its stage timeline and its decision chain as of a date, or
    /// as it stood at the end of a stage (`--stage proposal`).
    Show {
        id: String,
        #[arg(long)]
        as_of: Option<String>,
        #[arg(long, conflicts_with = "as_of")]
        stage: Option<String>,
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
}

#[derive(Args, Debug)]
pub struct ReportArgs {
    #[arg(value_enum)]
    pub kind: ReportKind,
    /// Only this account's deals.
    #[arg(long)]
    pub account: Option<String>,
    #[arg(long)]
    pub as_of: Option<String>,
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Table,
    Json,
    Csv,
}

fn deals_table(cfg: &DealConfig, deals: &[DealRow]) -> Table {
    let rows = deals
        .iter()
        .map(|d| {
            vec![
                d.id.to_string(),
                d.account.to_string(),
                d.name.clone(),
                d.status.as_str().to_owned(),
                d.stage_index
                    .map(|i| cfg.stages[i].name.clone())
                    .or_else(|| d.stage.clone())
                    .unwrap_or_default(),
                d.category_index
                    .map(|i| cfg.categories[i].name.clone())
                    .unwrap_or_default(),
                d.amount.map(|a| format!("{a:.2}")).unwrap_or_default(),
                format!("{:.2}", d.probability),
                format!("{:.2}", d.weighted),
                d.close_date.map(|c| c.to_string()).unwrap_or_default(),
                d.competitors.join(";"),
                d.chain.len().to_string(),
            ]
        })
        .collect();
    Table {
        headers: [
            "deal",
            "account",
            "name",
            "status",
            "stage",
            "category",
            "amount",
            "probability",
            "weighted",
            "close_date",
            "competitors",
            "stakeholders",
        ]
        .map(str::to_owned)
        .to_vec(),
        rows,
    }
}

fn print_table(t: &Table, format: Format) {
    match format {
        Format::Csv => print!("{}", to_csv(t)),
        _ => print!("{}", to_text(t)),
    }
}

pub async fn run(engine: &Engine, cfg: &DealConfig, cmd: DealsCommand) -> anyhow::Result<()> {
    match cmd {
        DealsCommand::List {
            account,
            as_of,
            format,
        } => {
            let account = account.as_deref().map(OrgId::parse).transpose()?;
            let as_of = parse_as_of(as_of.as_deref())?;
            let deals = rows(engine, cfg, account.as_ref(), as_of).await?;
            match format {
                Format::Json => println!("{}", serde_json::to_string_pretty(&deals)?),
                f => print_table(&deals_table(cfg, &deals), f),
            }
        }
        DealsCommand::Show {
            id,
            as_of,
            stage,
            format,
        } => {
            let id = OpportunityId::parse(&id).context("deal id")?;
            let as_of = parse_as_of(as_of.as_deref())?;
            let d = detail(engine, cfg, &id, as_of, stage.as_deref()).await?;
            if format == Format::Json {
                println!("{}", serde_json::to_string_pretty(&d)?);
                return Ok(());
            }
            let r = &d.deal;
            println!("{} — {} ({})", r.id, r.name, r.account_name);
            println!(
                "status {}, stage {} as of {}, amount {}, probability {:.2}, competitors {}",
                r.status.as_str(),
                d.stage_as_of.as_deref().unwrap_or("(none yet)"),
                d.as_of.to_rfc3339(),
                r.amount.map_or("-".into(), |a| format!("{a:.2}")),
                r.probability,
                if r.competitors.is_empty() {
                    "none known".into()
                } else {
                    r.competitors.join(", ")
                }
            );
            println!("\nstage timeline:");
            let timeline = Table {
                headers: ["stage", "from", "until", "recorded"]
                    .map(str::to_owned)
                    .to_vec(),
                rows: d
                    .history
                    .iter()
                    .map(|p| {
                        vec![
                            p.stage.clone(),
                            p.from.map(|t| t.to_rfc3339()).unwrap_or("?".into()),
                            p.until.map(|t| t.to_rfc3339()).unwrap_or("now".into()),
                            if p.derived { "derived" } else { "yes" }.into(),
                        ]
                    })
                    .collect(),
            };
            print_table(&timeline, format);
            println!("\ndecision chain as of {}:", d.as_of.to_rfc3339());
            let chain = Table {
                headers: [
                    "person",
                    "name",
                    "role",
                    "attitude",
                    "solution",
                    "price",
                    "assessed",
                    "our closeness",
                ]
                .map(str::to_owned)
                .to_vec(),
                rows: r
                    .chain
                    .iter()
                    .map(|c| {
                        let opt = |v: Option<u8>| v.map_or("-".into(), |v| format!("{v}/4"));
                        vec![
                            c.entry.person.to_string(),
                            c.name.clone(),
                            c.entry.role.map_or("-", |r| r.as_str()).into(),
                            c.entry.attitude.map_or("-", |a| a.as_str()).into(),
                            opt(c.entry.solution_acceptance),
                            opt(c.entry.price_acceptance),
                            c.entry
                                .assessed_at
                                .map_or("undated".into(), |t| t.to_rfc3339()),
                            format!("{} ({:.2})", c.level.name(), c.closeness),
                        ]
                    })
                    .collect(),
            };
            print_table(&chain, format);
        }
    }
    Ok(())
}

pub async fn report(engine: &Engine, cfg: &DealConfig, args: ReportArgs) -> anyhow::Result<()> {
    let account = args.account.as_deref().map(OrgId::parse).transpose()?;
    let as_of = parse_as_of(args.as_of.as_deref())?;
    let deals = rows(engine, cfg, account.as_ref(), as_of).await?;
    let report = Report::of(args.kind, cfg, &deals);
    match args.format {
        Format::Json => println!("{}", serde_json::to_string_pretty(&report)?),
        f => print_table(&report.table(), f),
    }
    Ok(())
}
