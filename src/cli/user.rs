//! `renmai user …` and `renmai team …`: users, roles, managers' teams and
//! sellers' accounts; plus the users `serve` makes on a first start.

use std::io::BufRead;

use anyhow::Context;
use clap::Subcommand;
use renmai_graph::{OrgId, PersonId};

use super::TableOrJson;
use crate::access::{NewUser, Role, password, validate_user_name};
use crate::store::Store;

#[derive(Subcommand, Debug)]
pub enum UserCommand {
    /// Create a user. Without --password-stdin a random password is
    /// printed once.
    Add {
        name: String,
        /// admin (sees everything), manager/coach (their team's accounts) or
        /// seller (their own accounts).
        #[arg(long)]
        role: Role,
        /// Which of our people the user is: the accounts whose account team
        /// has this person are theirs.
        #[arg(long)]
        person: Option<String>,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
    },
    /// List users with role, person, status and how many accounts they see.
    List {
        #[arg(long, value_enum, default_value_t = TableOrJson::Table)]
        format: TableOrJson,
    },
    /// Disable a user: their sessions end, sign-in and their tokens are refused.
    Disable { name: String },
    /// Enable a disabled user again.
    Enable { name: String },
    /// Set a new password (random and printed once without
    /// --password-stdin); ends the user's sessions and lifts a lockout.
    Password {
        name: String,
        #[arg(long)]
        password_stdin: bool,
    },
}

#[derive(Subcommand, Debug)]
pub enum TeamCommand {
    /// Put a seller on a manager's team: the manager sees the seller's accounts.
    AddSeller { manager: String, seller: String },
    /// Give a user (seller or manager) a customer account.
    Assign { user: String, account: String },
}

/// The password from stdin, or a random one to print.
fn new_password(from_stdin: bool) -> anyhow::Result<(String, bool)> {
    if !from_stdin {
        return Ok((password::random_secret(12), true));
    }
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("reading the password from standard input")?;
    let pw = line.trim_end_matches(['\r', '\n']).to_owned();
    password::check_strength(&pw).map_err(anyhow::Error::msg)?;
    Ok((pw, false))
}

pub async fn user(store: &dyn Store, cmd: UserCommand) -> anyhow::Result<()> {
    match cmd {
        UserCommand::Add {
            name,
            role,
            person,
            password_stdin,
        } => {
            validate_user_name(&name).map_err(anyhow::Error::msg)?;
            let person = match person {
                Some(p) => {
                    let id = PersonId::parse(&p).map_err(|e| anyhow::anyhow!("--person: {e}"))?;
                    match store.person(&id).await? {
                        Some(r) if r.is_ours => Some(id),
                        Some(_) => anyhow::bail!(
                            "--person {p}: this person is a customer's, not one of ours"
                        ),
                        None => anyhow::bail!("--person {p}: there is no such person"),
                    }
                }
                None => None,
            };
            let (pw, show) = new_password(password_stdin)?;
            let created = store
                .create_user(NewUser {
                    name: name.clone(),
                    role,
                    password_hash: password::hash(&pw).map_err(anyhow::Error::msg)?,
                    person,
                })
                .await?;
            if !created {
                anyhow::bail!("a user named {name:?} exists (`renmai user list`)");
            }
            eprintln!("created {role} {name:?}");
            if show {
                eprintln!("password (shown only this once):");
                println!("{pw}");
            }
        }
        UserCommand::List { format } => {
            let users = store.users().await?;
            let mut rows = Vec::new();
            for u in users {
                let accounts = match u.role {
                    Role::Admin => None,
                    _ => Some(store.visible_accounts(&u.name).await?.len()),
                };
                rows.push((u, accounts));
            }
            match format {
                TableOrJson::Json => {
                    let v: Vec<_> = rows
                        .iter()
                        .map(|(u, a)| serde_json::json!({"user": u, "accounts": a}))
                        .collect();
                    println!("{}", serde_json::to_string_pretty(&v)?);
                }
                TableOrJson::Table => {
                    if rows.is_empty() {
                        eprintln!("no users; create one with `renmai user add NAME --role admin`");
                    }
                    for (u, a) in rows {
                        println!(
                            "{:<24} {:<8} {:<12} {:<9} {}",
                            u.name,
                            u.role,
                            u.person.as_ref().map_or("-", |p| p.as_str()),
                            if u.disabled { "disabled" } else { "active" },
                            a.map_or("all accounts".to_owned(), |n| format!("{n} accounts"))
                        );
                    }
                }
            }
        }
        UserCommand::Disable { name } => {
            if !store.set_user_disabled(&name, true).await? {
                anyhow::bail!("there is no user named {name:?} (`renmai user list`)");
            }
            eprintln!(
                "disabled {name:?}: their sessions ended; sign-in and their tokens are refused"
            );
        }
        UserCommand::Enable { name } => {
            if !store.set_user_disabled(&name, false).await? {
                anyhow::bail!("there is no user named {name:?} (`renmai user list`)");
            }
            eprintln!("enabled {name:?}");
        }
        UserCommand::Password {
            name,
            password_stdin,
        } => {
            let (pw, show) = new_password(password_stdin)?;
            let hash = password::hash(&pw).map_err(anyhow::Error::msg)?;
            if !store.set_password(&name, &hash).await? {
                anyhow::bail!("there is no user named {name:?} (`renmai user list`)");
            }
            eprintln!("new password set for {name:?}; their sessions ended");
            if show {
                eprintln!("password (shown only this once):");
                println!("{pw}");
            }
        }
    }
    Ok(())
}

pub async fn team(store: &dyn Store, cmd: TeamCommand) -> anyhow::Result<()> {
    match cmd {
        TeamCommand::AddSeller { manager, seller } => {
            let users = store.users().await?;
            let role_of = |n: &str| users.iter().find(|u| u.name == n).map(|u| u.role);
            match role_of(&manager) {
                Some(Role::Manager) => {}
                Some(r) => anyhow::bail!("{manager:?} is a {r}; only a manager has a team"),
                None => anyhow::bail!("there is no user named {manager:?} (`renmai user list`)"),
            }
            match role_of(&seller) {
                Some(Role::Seller) => {}
                Some(r) => anyhow::bail!("{seller:?} is a {r}, not a seller"),
                None => anyhow::bail!("there is no user named {seller:?} (`renmai user list`)"),
            }
            store.add_to_team(&manager, &seller).await?;
            eprintln!("{seller:?} is on {manager:?}'s team");
        }
        TeamCommand::Assign { user, account } => {
            let id = OrgId::parse(&account).map_err(|e| anyhow::anyhow!("ACCOUNT: {e}"))?;
            store.assign_account(&user, &id).await?;
            eprintln!("{user:?} now sees account {account}");
        }
    }
    Ok(())
}

/// The demo's users: an admin, a coach and two sellers with different
/// accounts. Each `serve --demo` sets fresh passwords and prints them.
const DEMO_USERS: &[(&str, Role, Option<&str>)] = &[
    ("admin", Role::Admin, None),
    ("coach", Role::Manager, Some("nw-02")),
    ("sofia", Role::Seller, Some("nw-03")),
    ("rajesh", Role::Seller, Some("nw-04")),
];

/// Creates (or renews the passwords of) the demo users and prints them.
pub async fn demo_users(store: &dyn Store) -> anyhow::Result<()> {
    let mut printed = Vec::new();
    for &(name, role, person) in DEMO_USERS {
        let pw = password::random_secret(8);
        let hash = password::hash(&pw).map_err(anyhow::Error::msg)?;
        let created = store
            .create_user(NewUser {
                name: name.to_owned(),
                role,
                password_hash: hash.clone(),
                person: person.map(|p| PersonId::parse(p).expect("demo person id")),
            })
            .await?;
        if !created {
            store.set_password(name, &hash).await?;
            store.set_user_disabled(name, false).await?;
        }
        printed.push((name, role, pw));
    }
    store.add_to_team("coach", "sofia").await?;
    store.add_to_team("coach", "rajesh").await?;
    eprintln!("demo users (passwords are new at every start):");
    for (name, role, pw) in printed {
        let sees = match role {
            Role::Admin => "every account".to_owned(),
            _ => {
                let a = store.visible_accounts(name).await?;
                a.iter().map(|o| o.as_str()).collect::<Vec<_>>().join(", ")
            }
        };
        eprintln!(
            "  {name:<7} {:<8} password {pw}   sees {sees}",
            role.as_str()
        );
    }
    Ok(())
}

/// A first start without users: creates `admin` with the password in
/// `RENMAI_ADMIN_PASSWORD` or a random one printed once.
pub async fn first_admin(store: &dyn Store) -> anyhow::Result<()> {
    if !store.users().await?.is_empty() {
        return Ok(());
    }
    let (pw, show) = match std::env::var("RENMAI_ADMIN_PASSWORD") {
        Ok(p) if !p.is_empty() => {
            password::check_strength(&p)
                .map_err(|e| anyhow::anyhow!("RENMAI_ADMIN_PASSWORD: {e}"))?;
            (p, false)
        }
        _ => (password::random_secret(12), true),
    };
    store
        .create_user(NewUser {
            name: "admin".into(),
            role: Role::Admin,
            password_hash: password::hash(&pw).map_err(anyhow::Error::msg)?,
            person: None,
        })
        .await?;
    if show {
        eprintln!("no users yet: created the admin user \"admin\" with password {pw}");
    } else {
        eprintln!(
            "no users yet: created the admin user \"admin\" with the password in RENMAI_ADMIN_PASSWORD"
        );
    }
    eprintln!(
        "  change it with `renmai user password admin`; add people with `renmai user add NAME --role seller --person ID`"
    );
    Ok(())
}
