//! The command line: `renmai serve|import|export|stats|demo|score`.

pub mod deals;
pub mod ingest;
pub mod leads;
pub mod migrate;
pub mod patterns;
pub mod people;
pub mod plan;
pub mod privacy;
pub mod score;
pub mod support;
pub mod user;

use std::io::IsTerminal;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use clap::{Args, Parser, Subcommand, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};

use crate::config::{Config, FileConfig, Neo4jConfig, StoreKind};
use crate::import;
use crate::ingest::SourceFormat;
use crate::store::sqlite::SqliteStore;
use crate::store::{NoProgress, Progress, Stats, Store};
use crate::validate::SourceMap;
use crate::web::{self, AppState};

#[derive(Parser, Debug)]
#[command(
    name = "renmai",
    version,
    about = "Relationship intelligence for key-account sales and service"
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Args, Debug)]
pub struct GlobalArgs {
    /// The embedded store's database file [default: ./renmai.db].
    #[arg(long, env = "RENMAI_DB", global = true)]
    pub db: Option<PathBuf>,
    /// A TOML config file (db, addr, [scoring]); flags and variables override it.
    #[arg(long, env = "RENMAI_CONFIG", global = true)]
    pub config: Option<PathBuf>,
    /// No progress bars.
    #[arg(long, short, global = true)]
    pub quiet: bool,
    /// Which store keeps the data [default: sqlite].
    #[arg(long, env = "RENMAI_STORE", value_enum, global = true)]
    pub store: Option<StoreKind>,
    /// The Neo4j server, e.g. bolt://db.internal:7687 or neo4j+s://… (with --store neo4j).
    #[arg(long, env = "RENMAI_NEO4J_URI", global = true)]
    pub neo4j_uri: Option<String>,
    /// Neo4j user [default: neo4j].
    #[arg(long, env = "RENMAI_NEO4J_USER", global = true)]
    pub neo4j_user: Option<String>,
    /// Neo4j password (prefer the variable to the flag: flags show in `ps`).
    #[arg(
        long,
        env = "RENMAI_NEO4J_PASSWORD",
        hide_env_values = true,
        global = true
    )]
    pub neo4j_password: Option<String>,
    /// Neo4j database [default: the server's default database].
    #[arg(long, env = "RENMAI_NEO4J_DB", global = true)]
    pub neo4j_db: Option<String>,
    /// Milliseconds a Neo4j read or small write may take before the request
    /// fails with "unavailable" (503) [default: 10000].
    #[arg(long, env = "RENMAI_NEO4J_TIMEOUT_MS", global = true)]
    pub neo4j_timeout_ms: Option<u64>,
    /// Milliseconds each step of connecting to Neo4j may take [default: 30000].
    #[arg(long, env = "RENMAI_NEO4J_CONNECT_TIMEOUT_MS", global = true)]
    pub neo4j_connect_timeout_ms: Option<u64>,
}

impl GlobalArgs {
    /// The Neo4j settings given as flags or variables.
    pub fn neo4j(&self) -> Neo4jConfig {
        Neo4jConfig {
            uri: self.neo4j_uri.clone(),
            user: self.neo4j_user.clone(),
            password: self.neo4j_password.clone(),
            db: self.neo4j_db.clone(),
            timeout_ms: self.neo4j_timeout_ms,
            connect_timeout_ms: self.neo4j_connect_timeout_ms,
        }
    }
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Serve the pages and the JSON API.
    Serve {
        /// Address to listen on [default: 127.0.0.1:8080].
        #[arg(long, env = "RENMAI_ADDR")]
        addr: Option<SocketAddr>,
        /// Load the demo data first if the store is empty, and (re)create
        /// the demo users with new passwords, printed at start.
        #[arg(long)]
        demo: bool,
        /// Mark session cookies Secure (serve behind TLS).
        #[arg(long, env = "RENMAI_SECURE_COOKIES")]
        secure_cookies: bool,
    },
    /// Import a renmai bundle (a folder of CSV files or a JSON document), or
    /// what sellers have: calendars (.ics), mailboxes (mbox, Maildir),
    /// contact cards (.vcf), LinkedIn/Google/Outlook contact exports,
    /// Salesforce and HubSpot exports, any CSV with a mapping file. People
    /// are matched to the stored ones (e-mail, CRM id, name at organization);
    /// uncertain matches go to `renmai people review`. All or nothing.
    Import {
        path: PathBuf,
        #[arg(long, value_enum, default_value_t = SourceFormat::Auto)]
        format: SourceFormat,
        /// Column mapping of a generic CSV (`--format csv`).
        #[arg(long)]
        mapping: Option<PathBuf>,
        /// Reject a whole file when one of its records is malformed
        /// (default: skip the record and report it).
        #[arg(long)]
        strict: bool,
    },
    /// Export everything as a bundle that imports back to the same data.
    Export {
        #[arg(long, value_enum, default_value_t = ExportFormat::Json)]
        format: ExportFormat,
        /// A folder (csv) or a file (json; `-` for standard output).
        path: PathBuf,
    },
    /// Counts of what the store holds.
    Stats {
        #[arg(long, value_enum, default_value_t = TableOrJson::Table)]
        format: TableOrJson,
    },
    /// Load the built-in demo data (three accounts with a story each).
    Demo,
    /// Scores from the store: closeness, influence, paths, coverage or next approaches.
    Score(score::ScoreArgs),
    /// An account's plan (ESP+): show it, save a snapshot, set objectives, decide actions.
    Plan(plan::PlanArgs),
    /// Deals (TAS+): list them, or show one with its stage timeline and
    /// decision chain as of a date or stage.
    #[command(subcommand)]
    Deals(deals::DealsCommand),
    /// Management reports: pipeline, coverage by stage, deals at risk, trends.
    Report(deals::ReportArgs),
    /// Copy everything from one store to another (e.g. SQLite to Neo4j), in
    /// batches; safe to re-run; verified by comparing counts.
    Migrate(migrate::MigrateArgs),
    /// API tokens for the JSON API: create, list, revoke.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Possible duplicates to review, and merging or splitting people.
    #[command(subcommand)]
    People(people::PeopleCommand),
    /// Leads from service: accounts and stakeholders whose service cases are rising.
    Leads(leads::LeadsArgs),
    /// An account's buying patterns from its past deals, and open deals departing from them.
    Patterns(patterns::PatternsArgs),
    /// Sales support (MCI): presales and experts on deals, and their load per month.
    #[command(subcommand)]
    Support(support::SupportCommand),
    /// Erase a person everywhere (interactions, lines, addresses, CRM ids,
    /// review and merge records, plan mentions, cached API responses) and
    /// say what was removed.
    Forget {
        person: String,
        #[arg(long, value_enum, default_value_t = TableOrJson::Table)]
        format: TableOrJson,
    },
    /// Retention of interaction metadata (`[retention] interactions_days`).
    #[command(subcommand)]
    Retention(privacy::RetentionCommand),
    /// The audit log: imports, API writes, page forms, merges, erasures,
    /// retention, restores, and who viewed exports.
    Audit {
        /// Only lines from this instant on (RFC 3339).
        #[arg(long)]
        since: Option<String>,
        #[arg(long, value_enum, default_value_t = TableOrJson::Table)]
        format: TableOrJson,
    },
    /// Copy the database to PATH, consistently, while `serve` keeps writing.
    Backup { path: PathBuf },
    /// Replace the database with a backup made by `renmai backup` (stop
    /// `serve` first). Refuses files that are not renmai databases or have
    /// a newer schema.
    Restore { path: PathBuf },
    /// Users who sign in to the pages: add, list, disable, enable, password.
    #[command(subcommand)]
    User(user::UserCommand),
    /// Managers' teams and sellers' accounts.
    #[command(subcommand)]
    Team(user::TeamCommand),
}

#[derive(Subcommand, Debug)]
pub enum TokenCommand {
    /// Create a token and print it once (only its hash is stored).
    Create {
        #[arg(long)]
        name: String,
        /// read: GET calls and enrichment; write: also logging interactions and assessments.
        #[arg(long, default_value = "read")]
        scope: crate::auth::TokenScope,
        /// The user whose rights the token carries (sees only their
        /// accounts); without it the token acts as an admin.
        #[arg(long)]
        user: Option<String>,
    },
    /// List the live tokens (names and scopes, never the secrets).
    List,
    /// Revoke a token by name; calls with it get 401 from then on.
    Revoke { name: String },
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExportFormat {
    Json,
    Csv,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum TableOrJson {
    Table,
    Json,
}

/// A progress bar on stderr when it is a terminal and not `--quiet`.
struct Bar(ProgressBar);

impl Progress for Bar {
    fn start(&self, total: u64, what: &str) {
        self.0.set_length(total);
        self.0.set_message(what.to_owned());
    }
    fn advance(&self, n: u64) {
        self.0.inc(n);
    }
    fn finish(&self) {
        self.0.finish_and_clear();
    }
}

fn progress(quiet: bool) -> Arc<dyn Progress> {
    if quiet || !std::io::stderr().is_terminal() {
        return Arc::new(NoProgress);
    }
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len} ({per_sec}, {eta})")
            .expect("valid template")
            .progress_chars("=> "),
    );
    Arc::new(Bar(bar))
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let file = match &cli.global.config {
        Some(p) => FileConfig::load(p)?,
        None => FileConfig::default(),
    };
    let cli_addr = match &cli.command {
        Command::Serve { addr, .. } => *addr,
        _ => None,
    };
    let mut config = Config::resolve(file, cli.global.db.clone(), cli_addr);
    config.store = cli.global.store.unwrap_or(config.store);
    config.neo4j = config.neo4j.overlay(cli.global.neo4j());
    let quiet = cli.global.quiet;
    if let Command::Migrate(args) = &cli.command {
        return migrate::run(args, &config, quiet).await;
    }
    if let Command::Restore { path } = &cli.command {
        if config.store != StoreKind::Sqlite {
            anyhow::bail!("restore works on the embedded SQLite store only");
        }
        return privacy::restore(&config.db, path).await;
    }
    let store = open_store(&config).await?;

    match cli.command {
        Command::Serve {
            demo,
            secure_cookies,
            ..
        } => {
            if demo {
                load_demo(store.as_ref(), quiet, false).await?;
                user_setup(user::demo_users(store.as_ref()).await)?;
                demo_token(store.as_ref(), config.addr).await?;
            } else {
                user_setup(user::first_admin(store.as_ref()).await)?;
            }
            config.access.secure_cookies |= secure_cookies;
            serve(store, config).await
        }
        Command::Import {
            path,
            format,
            mapping,
            strict,
        } => {
            let format = match format {
                SourceFormat::Auto => crate::ingest::run::detect(&path)?,
                f => f,
            };
            if format == SourceFormat::Bundle {
                import_path(store.as_ref(), &path, quiet).await
            } else if format == SourceFormat::DealSupport {
                support::import(store.as_ref(), &path).await
            } else {
                let opts = ingest_options(&config)?;
                ingest::import(
                    &store,
                    &path,
                    format,
                    mapping.as_deref(),
                    strict,
                    &opts,
                    quiet,
                )
                .await
            }
        }
        Command::Export { format, path } => export(store.as_ref(), format, &path).await,
        Command::Stats { format } => {
            let s = store.stats().await?;
            match format {
                TableOrJson::Json => println!("{}", serde_json::to_string_pretty(&s)?),
                TableOrJson::Table => print!("{}", stats_table(&s)),
            }
            Ok(())
        }
        Command::Demo => load_demo(store.as_ref(), quiet, true).await,
        Command::Score(args) => {
            score::run(&crate::engine::Engine::new(store, config.scoring), args).await
        }
        Command::Plan(args) => {
            plan::run(&crate::engine::Engine::new(store, config.scoring), args).await
        }
        Command::Deals(cmd) => {
            let engine = crate::engine::Engine::new(store, config.scoring);
            deals::run(&engine, &config.deals, cmd).await
        }
        Command::Report(args) => {
            let engine = crate::engine::Engine::new(store, config.scoring);
            deals::report(&engine, &config.deals, args).await
        }
        Command::Token(cmd) => token(store.as_ref(), cmd).await,
        Command::People(cmd) => people::run(store.as_ref(), cmd).await,
        Command::Leads(args) => leads::run(store.as_ref(), args).await,
        Command::Patterns(args) => {
            let deals = config.deals.clone();
            patterns::run(
                &crate::engine::Engine::new(store, config.scoring),
                &deals,
                args,
            )
            .await
        }
        Command::Support(cmd) => support::run(store.as_ref(), cmd).await,
        Command::Forget { person, format } => {
            privacy::forget(store.as_ref(), &person, format).await
        }
        Command::Retention(cmd) => {
            privacy::retention(store.as_ref(), cmd, config.retention.interactions_days).await
        }
        Command::Audit { since, format } => {
            privacy::audit(store.as_ref(), since.as_deref(), format).await
        }
        Command::Backup { path } => privacy::backup(store.as_ref(), &path).await,
        Command::User(cmd) => user::user(store.as_ref(), cmd).await,
        Command::Team(cmd) => user::team(store.as_ref(), cmd).await,
        Command::Migrate(_) | Command::Restore { .. } => {
            unreachable!("migrate and restore open their own stores, above")
        }
    }
}

/// The `[ingest]` settings as the resolver wants them.
fn ingest_options(config: &Config) -> anyhow::Result<crate::ingest::resolve::ResolveOptions> {
    let mut domain_orgs = std::collections::BTreeMap::new();
    for (domain, org) in &config.ingest.domains {
        let org = renmai_graph::OrgId::parse(org)
            .map_err(|e| anyhow::anyhow!("[ingest.domains] {domain:?}: {e}"))?;
        domain_orgs.insert(domain.to_lowercase(), org);
    }
    let phone_region = config
        .ingest
        .default_phone_region
        .as_deref()
        .map(renmai_graph::PhoneRegion::parse)
        .transpose()
        .map_err(|e| anyhow::anyhow!("[ingest] default_phone_region: {e}"))?;
    Ok(crate::ingest::resolve::ResolveOptions {
        our_domains: config.ingest.our_domains.clone(),
        domain_orgs,
        phone_region,
    })
}

/// Opens the configured store: the SQLite file or the Neo4j server.
pub async fn open_store(config: &Config) -> anyhow::Result<Arc<dyn Store>> {
    match config.store {
        StoreKind::Sqlite => Ok(Arc::new(SqliteStore::open(&config.db)?)),
        StoreKind::Neo4j => migrate::open_neo4j(&config.neo4j, None).await,
    }
}

async fn token(store: &dyn Store, cmd: TokenCommand) -> anyhow::Result<()> {
    use crate::auth;
    match cmd {
        TokenCommand::Create { name, scope, user } => {
            auth::validate_name(&name).map_err(anyhow::Error::msg)?;
            if let Some(u) = &user
                && store.login_record(u).await?.is_none()
            {
                anyhow::bail!("there is no user named {u:?} (`renmai user list`)");
            }
            let secret = auth::generate_token();
            if !store
                .save_token(&name, scope, &auth::hash_token(&secret), false)
                .await?
            {
                anyhow::bail!(
                    "a token named {name:?} exists; revoke it first (`renmai token revoke {name}`) or pick another name"
                );
            }
            if let Some(u) = &user {
                store.set_token_owner(&name, u).await?;
                eprintln!("the token carries the rights of user {u:?}");
            }
            eprintln!("created {scope} token {name:?}; it is shown only this once:");
            println!("{secret}");
        }
        TokenCommand::List => {
            let tokens = store.tokens().await?;
            if tokens.is_empty() {
                eprintln!(
                    "no tokens; create one with `renmai token create --name NAME --scope read|write`"
                );
            }
            for t in tokens {
                println!(
                    "{:<24} {:<6} {:<24} created {}",
                    t.name,
                    t.scope,
                    t.owner
                        .as_deref()
                        .map_or("(operator: admin)".to_owned(), |o| format!("user {o}")),
                    t.created_at
                );
            }
        }
        TokenCommand::Revoke { name } => {
            if !store.revoke_token(&name).await? {
                anyhow::bail!(
                    "there is no live token named {name:?} (`renmai token list` shows them)"
                );
            }
            eprintln!("revoked token {name:?}");
        }
    }
    Ok(())
}

/// `serve --demo` makes the README's first command give a usable API: a
/// fresh read/write token named `demo` (replacing the last one) on stderr.
async fn demo_token(store: &dyn Store, addr: SocketAddr) -> anyhow::Result<()> {
    let secret = crate::auth::generate_token();
    store
        .save_token(
            "demo",
            crate::auth::TokenScope::Write,
            &crate::auth::hash_token(&secret),
            true,
        )
        .await?;
    // Owned by the demo admin: it sees every account.
    store.set_token_owner("demo", "admin").await?;
    eprintln!("demo API token (read+write, user admin): {secret}");
    eprintln!("  try: curl -H 'Authorization: Bearer {secret}' http://{addr}/api/v1/accounts");
    Ok(())
}

async fn import_path(store: &dyn Store, path: &Path, quiet: bool) -> anyhow::Result<()> {
    let t0 = std::time::Instant::now();
    let (format, bundle, src) = import::read(path)?;
    let src = src.with_provenance(crate::privacy::Provenance::cli(path.display().to_string()));
    tracing::debug!(read = ?t0.elapsed(), records = bundle.len(), "bundle read");
    let summary = store.import(bundle, src, progress(quiet)).await?;
    eprintln!(
        "imported {} ({format}) into {} {}",
        path.display(),
        store.kind(),
        store.location()
    );
    for (kind, c) in summary.rows() {
        if c.new + c.existing > 0 {
            eprintln!(
                "  {kind:<22} {:>9} new {:>9} already stored",
                c.new, c.existing
            );
        }
    }
    Ok(())
}

async fn export(store: &dyn Store, format: ExportFormat, path: &Path) -> anyhow::Result<()> {
    let bundle = store.export().await?;
    match format {
        ExportFormat::Csv => import::csv_bundle::write_dir(&bundle, path)
            .with_context(|| format!("writing {}", path.display()))?,
        ExportFormat::Json if path == Path::new("-") => {
            import::json_bundle::to_writer(&bundle, std::io::stdout().lock())?
        }
        ExportFormat::Json => {
            let f = std::fs::File::create(path)
                .with_context(|| format!("creating {}", path.display()))?;
            let mut w = std::io::BufWriter::new(f);
            import::json_bundle::to_writer(&bundle, &mut w)?;
            std::io::Write::flush(&mut w)?;
        }
    }
    privacy::note(
        store,
        "export",
        &format!(
            "{} records as {format:?} to {}",
            bundle.len(),
            path.display()
        ),
    )
    .await?;
    eprintln!("exported {} records to {}", bundle.len(), path.display());
    Ok(())
}

/// Loads the demo. With `always` (the `demo` command) it upserts over what is
/// there; `serve --demo` only fills an empty store.
async fn load_demo(store: &dyn Store, quiet: bool, always: bool) -> anyhow::Result<()> {
    if !always && !store.is_empty().await? {
        tracing::info!("store is not empty; --demo leaves it as it is");
        return Ok(());
    }
    let today = chrono::Utc::now().date_naive();
    let mut bundle = crate::demo::demo_bundle(today);
    let extras = crate::demo::demo_extras(today, &bundle);
    bundle.interactions.extend(extras.interactions);
    let src = SourceMap::synthetic("demo", &bundle)
        .with_provenance(crate::privacy::Provenance::cli("demo"));
    let summary = store.import(bundle, src, progress(quiet)).await?;
    if summary.new_records() == 0 && always {
        eprintln!("the demo data is already loaded");
    } else {
        eprintln!("loaded the demo data ({} records)", summary.new_records());
    }
    // Service cases' own fields and deal support live beside the bundle;
    // a store without them keeps the demo without them.
    let locations = vec![];
    let beside = async {
        store.save_service_cases(extras.cases).await?;
        store.save_deal_support(extras.support, locations).await?;
        Ok::<_, crate::store::StoreError>(())
    };
    match beside.await {
        Err(crate::store::StoreError::Backend(e)) if e.contains("not supported") => {
            tracing::info!("demo without service cases and deal support: {e}");
        }
        other => other?,
    }
    Ok(())
}

fn stats_table(s: &Stats) -> String {
    let rows = [
        ("organizations", s.organizations),
        ("accounts", s.accounts),
        ("people (ours)", s.people_ours),
        ("people (customers)", s.people_customers),
        ("account team rows", s.account_team),
        ("interactions", s.interactions),
        ("influences", s.influences),
        ("assessments", s.assessments),
        ("opportunities", s.opportunities),
    ];
    let mut out = format!("store: {} ({})\n", s.store, s.location);
    for (k, v) in rows {
        out.push_str(&format!("{k:<20} {v:>10}\n"));
    }
    out
}

/// A store without user management (both built-in stores have it) still
/// serves the API with operator tokens; the pages then cannot be signed in to.
fn user_setup(r: anyhow::Result<()>) -> anyhow::Result<()> {
    match r {
        Err(e) if e.to_string().contains("not supported by this store") => {
            tracing::warn!(
                "{e}: the pages cannot be signed in to on this store; the API works with tokens"
            );
            Ok(())
        }
        other => other,
    }
}

async fn serve(store: Arc<dyn Store>, config: Config) -> anyhow::Result<()> {
    let state = AppState::new(store, config.scoring.clone())
        .with_deals(config.deals.clone())
        .with_access(config.access.clone());
    let listener = tokio::net::TcpListener::bind(config.addr)
        .await
        .with_context(|| format!("cannot listen on {}", config.addr))?;
    let addr = listener.local_addr()?;
    if let Some(days) = config.retention.interactions_days {
        tokio::spawn(retention_schedule(state.engine.clone(), days));
    }
    eprintln!(
        "renmai is serving on http://{addr}/ (store: {} {})",
        state.engine.store().kind(),
        state.engine.store().location()
    );
    axum::serve(listener, web::app(state))
        .with_graceful_shutdown(shutdown_signal())
        .await?;
    eprintln!("renmai stopped");
    Ok(())
}

/// While serving: applies retention at start and every hour, dropping
/// cached scores when something was deleted so they age out at once.
async fn retention_schedule(engine: Arc<crate::engine::Engine>, days: u32) {
    let mut every = tokio::time::interval(std::time::Duration::from_secs(3600));
    loop {
        every.tick().await;
        match privacy::apply_retention(engine.store().as_ref(), days, "retention").await {
            Ok(r) if r.interactions_deleted > 0 => {
                tracing::info!(
                    deleted = r.interactions_deleted,
                    cutoff = %r.cutoff.to_rfc3339(),
                    "retention: old interactions deleted"
                );
                engine.invalidate();
            }
            Ok(_) => {}
            Err(e) => tracing::warn!("retention: {e:#}"),
        }
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}
