//! `renmai plan`: an account's plan as Markdown, JSON or printable HTML;
//! saving dated snapshots; objectives and action decisions.

use anyhow::{Context, bail};
use clap::{Args, Subcommand, ValueEnum};
use renmai_graph::plan::{ActionStatus, Objective};
use renmai_graph::{ClosenessLevel, OrgId, PersonId, Timestamp};

use crate::engine::Engine;
use crate::plan::{Names, PlanDocument, changes, history, markdown, printable, what_if_lines};
use crate::store::PlanItem;

#[derive(Args, Debug)]
#[command(args_conflicts_with_subcommands = true)]
pub struct PlanArgs {
    #[command(subcommand)]
    pub cmd: Option<PlanCmd>,
    #[command(flatten)]
    pub show: ShowArgs,
}

#[derive(Args, Debug)]
pub struct ShowArgs {
    /// The account id.
    pub account: Option<String>,
    /// The plan as of this time (RFC 3339) instead of now.
    #[arg(long)]
    pub as_of: Option<String>,
    #[arg(long, value_enum, default_value_t = PlanFormat::Md)]
    pub format: PlanFormat,
    /// Also show what the account loses if this person (a stakeholder or one of ours) leaves.
    #[arg(long)]
    pub without: Option<String>,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum PlanFormat {
    Md,
    Json,
    Html,
}

#[derive(Subcommand, Debug)]
pub enum PlanCmd {
    /// Save a dated snapshot of the plan (its history shows the trend).
    Save {
        account: String,
        #[arg(long)]
        as_of: Option<String>,
    },
    /// Add or replace an objective, e.g. reach trusted with the CFO by a date.
    Objective {
        account: String,
        /// A short id for the objective (re-using one replaces it).
        #[arg(long)]
        id: String,
        #[arg(long)]
        text: String,
        /// The stakeholder the objective is about.
        #[arg(long)]
        person: Option<String>,
        /// The closeness level to reach: 0-4 or stranger..ally.
        #[arg(long)]
        level: Option<String>,
        /// Due date, YYYY-MM-DD.
        #[arg(long)]
        due: String,
    },
    /// Accept, close or dismiss an action; reassign it or move its date.
    Action {
        account: String,
        /// The action's id, as the plan shows it (e.g. re_engage:lh-004).
        action: String,
        #[arg(long, value_enum)]
        status: Option<StatusArg>,
        #[arg(long)]
        owner: Option<String>,
        /// New due date, YYYY-MM-DD.
        #[arg(long)]
        due: Option<String>,
    },
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum StatusArg {
    Accepted,
    Done,
    Dismissed,
}

fn parse_time(s: &Option<String>) -> anyhow::Result<Option<Timestamp>> {
    s.as_deref()
        .map(Timestamp::parse)
        .transpose()
        .context("--as-of")
}

fn parse_date(s: &str, what: &str) -> anyhow::Result<chrono::NaiveDate> {
    chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .with_context(|| format!("{what}: expected a date like 2026-06-30, got {s:?}"))
}

pub async fn run(engine: &Engine, args: PlanArgs) -> anyhow::Result<()> {
    match args.cmd {
        None => {
            let Some(account) = args.show.account else {
                bail!(
                    "which account? `renmai plan ACCOUNT` (see `renmai stats` or the accounts page for ids)"
                );
            };
            let without = args
                .show
                .without
                .as_deref()
                .map(PersonId::parse)
                .transpose()
                .context("--without")?;
            show(
                engine,
                &OrgId::parse(&account)?,
                parse_time(&args.show.as_of)?,
                args.show.format,
                without,
            )
            .await
        }
        Some(PlanCmd::Save { account, as_of }) => {
            let id = OrgId::parse(&account)?;
            let (_, plan) = engine
                .plan(&id, parse_time(&as_of)?)
                .await?
                .with_context(|| format!("no customer account with id {id}"))?;
            engine.store().save_snapshot(&plan).await?;
            eprintln!(
                "saved the plan of {id} as of {}: index {:.3}, coverage {:.0}%, {} open actions",
                plan.as_of,
                plan.relationship_index,
                plan.coverage * 100.0,
                plan.actions
                    .iter()
                    .filter(|a| matches!(
                        a.status,
                        ActionStatus::Suggested | ActionStatus::Accepted
                    ))
                    .count()
            );
            Ok(())
        }
        Some(PlanCmd::Objective {
            account,
            id,
            text,
            person,
            level,
            due,
        }) => {
            let account = OrgId::parse(&account)?;
            let objective = Objective {
                id,
                text,
                person: person
                    .as_deref()
                    .map(PersonId::parse)
                    .transpose()
                    .context("--person")?,
                target_level: level
                    .as_deref()
                    .map(ClosenessLevel::parse)
                    .transpose()
                    .context("--level")?,
                due: parse_date(&due, "--due")?,
            };
            if let Some(p) = &objective.person {
                let data = engine
                    .account_data(&account)
                    .await?
                    .with_context(|| format!("no customer account with id {account}"))?;
                if !data.people.iter().any(|x| &x.id == p) {
                    bail!("--person: {p} is not a stakeholder of {account}");
                }
            }
            engine
                .store()
                .save_plan_item(&account, PlanItem::Objective(objective))
                .await?;
            eprintln!("objective saved");
            Ok(())
        }
        Some(PlanCmd::Action {
            account,
            action,
            status,
            owner,
            due,
        }) => {
            let account = OrgId::parse(&account)?;
            let (_, plan) = engine
                .plan(&account, None)
                .await?
                .with_context(|| format!("no customer account with id {account}"))?;
            let Some(mut a) = plan.actions.into_iter().find(|a| a.id == action) else {
                bail!(
                    "no action {action:?} in the plan of {account}; `renmai plan {account}` lists them"
                );
            };
            if let Some(s) = status {
                a.status = match s {
                    StatusArg::Accepted => ActionStatus::Accepted,
                    StatusArg::Done => ActionStatus::Done,
                    StatusArg::Dismissed => ActionStatus::Dismissed,
                };
            }
            if let Some(o) = owner {
                a.owner = Some(PersonId::parse(&o).context("--owner")?);
            }
            if let Some(d) = due {
                a.due = parse_date(&d, "--due")?;
            }
            engine
                .store()
                .save_plan_item(&account, PlanItem::Action(a))
                .await?;
            eprintln!("action {action} saved");
            Ok(())
        }
    }
}

async fn show(
    engine: &Engine,
    account: &OrgId,
    as_of: Option<Timestamp>,
    format: PlanFormat,
    without: Option<PersonId>,
) -> anyhow::Result<()> {
    let (data, plan) = engine
        .plan(account, as_of)
        .await?
        .with_context(|| format!("no customer account with id {account}"))?;
    let snapshots = engine.store().snapshots(account).await?;
    let names = Names::of(&data);
    let what_if = match &without {
        Some(p) => {
            if !data
                .people
                .iter()
                .chain(&data.our_people)
                .any(|x| &x.id == p)
            {
                bail!(
                    "--without: {p} is neither a stakeholder of {account} nor one of our people on it"
                );
            }
            engine.what_if_leaves(account, p, Some(plan.as_of)).await?
        }
        None => None,
    };
    match format {
        PlanFormat::Md => {
            print!(
                "{}",
                markdown(&plan, &data.account.name, &names, &snapshots)
            );
            if let Some(w) = &what_if {
                println!("\n## What if {} leaves\n", names.get(&w.person));
                for line in what_if_lines(w, &names) {
                    println!("- {line}");
                }
            }
        }
        PlanFormat::Json => {
            let mut doc = serde_json::to_value(PlanDocument {
                plan: &plan,
                history: history(&snapshots),
                changes_since_last_snapshot: changes(&plan, &snapshots),
            })?;
            if let Some(w) = &what_if {
                doc["what_if_leaves"] = serde_json::to_value(w)?;
            }
            println!("{}", serde_json::to_string_pretty(&doc)?);
        }
        PlanFormat::Html => print!("{}", printable(&plan, &data, &names, &snapshots)?),
    }
    Ok(())
}
