//! `renmai people review|merge|split|distinct`: the human side of identity
//! resolution. Imports put uncertain matches on a review list; a person
//! decides, and a wrong merge can be split again.

use clap::Subcommand;
use renmai_graph::PersonId;

use super::TableOrJson;
use crate::store::{MergeReport, Store};

#[derive(Subcommand, Debug)]
pub enum PeopleCommand {
    /// Possible duplicates found by imports, most likely first.
    Review {
        #[arg(long, value_enum, default_value_t = TableOrJson::Table)]
        format: TableOrJson,
    },
    /// Merge MERGED into SURVIVOR: every interaction, line, address and CRM
    /// id moves to SURVIVOR and MERGED is deleted (undo with `split`).
    Merge { survivor: String, merged: String },
    /// Undo the latest merge of MERGED into SURVIVOR.
    Split { survivor: String, merged: String },
    /// Decide that two people on the review list are different people.
    Distinct { a: String, b: String },
}

fn id(s: &str) -> anyhow::Result<PersonId> {
    PersonId::parse(s).map_err(|e| anyhow::anyhow!("{e}"))
}

fn describe(r: &MergeReport) -> String {
    format!(
        "{} interaction(s), {} line(s), {} e-mail address(es), {} CRM id(s){}",
        r.interactions,
        r.lines,
        r.emails,
        r.external_ids,
        if r.interactions_dropped > 0 {
            format!(
                "; {} interaction(s) between just the two dropped",
                r.interactions_dropped
            )
        } else {
            String::new()
        }
    )
}

pub async fn run(store: &dyn Store, cmd: PeopleCommand) -> anyhow::Result<()> {
    match cmd {
        PeopleCommand::Review { format } => {
            let list = store.review().await?;
            match format {
                TableOrJson::Json => println!("{}", serde_json::to_string_pretty(&list)?),
                TableOrJson::Table => {
                    if list.is_empty() {
                        eprintln!("nothing to review");
                    }
                    for item in &list {
                        let name = |p: &PersonId| {
                            let p = p.clone();
                            async move {
                                store
                                    .person(&p)
                                    .await
                                    .ok()
                                    .flatten()
                                    .map(|r| r.person.name)
                                    .unwrap_or_default()
                            }
                        };
                        println!(
                            "{:>4.0}%  {} ({})  ~  {} ({})  {}",
                            item.confidence * 100.0,
                            item.existing,
                            name(&item.existing).await,
                            item.new,
                            name(&item.new).await,
                            item.reason
                        );
                    }
                    if !list.is_empty() {
                        eprintln!(
                            "decide with `renmai people merge SURVIVOR MERGED` or `renmai people distinct A B`"
                        );
                    }
                }
            }
        }
        PeopleCommand::Merge { survivor, merged } => {
            let r = store.merge_people(&id(&survivor)?, &id(&merged)?).await?;
            super::privacy::note(
                store,
                "merge",
                &format!("{merged} into {survivor}: {}", describe(&r)),
            )
            .await?;
            eprintln!(
                "merged {merged} into {survivor}: moved {}; undo with `renmai people split {survivor} {merged}`",
                describe(&r)
            );
        }
        PeopleCommand::Split { survivor, merged } => {
            let r = store.split_people(&id(&survivor)?, &id(&merged)?).await?;
            super::privacy::note(
                store,
                "split",
                &format!("{merged} from {survivor}: {}", describe(&r)),
            )
            .await?;
            eprintln!("split {merged} from {survivor}: restored {}", describe(&r));
        }
        PeopleCommand::Distinct { a, b } => {
            if !store.dismiss_review(&id(&a)?, &id(&b)?).await? {
                anyhow::bail!("{a} and {b} are not on the review list (`renmai people review`)");
            }
            eprintln!("noted: {a} and {b} are different people");
        }
    }
    Ok(())
}
