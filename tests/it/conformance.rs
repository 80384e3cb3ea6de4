//! The store conformance suite: every backend, fed the same inputs, must
//! give the same outputs (exports, counts, account lists, account slices,
//! people, import summaries and the same errors for the same bad inputs).
//!
//! The embedded store always runs; the Neo4j store runs against the Bolt
//! server named by `BOLT_URI`, `BOLT_USER`, `BOLT_PASSWORD`, `BOLT_DATABASE`
//! (tests/all.sh starts one with tests/bolt-server). Without them the Bolt
//! half is skipped with a notice. The Bolt tests share one database, so they
//! take [`BOLT`] in turn and start from an emptied database.

use std::sync::Arc;

use renmai::bundle::Bundle;
use renmai::import;
use renmai::store::neo4j::{Neo4jSettings, Neo4jStore};
use renmai::store::{AccountSummary, ImportSummary, NoProgress, PersonRecord, Stats, Store};
use renmai::validate::SourceMap;
use renmai_graph::{AccountData, OrgId, PersonId};

use crate::helpers::*;

/// Serializes the tests that use the shared Bolt database.
pub static BOLT: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// The Bolt server of the environment, if any.
pub fn bolt_settings() -> Option<Neo4jSettings> {
    let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    Some(Neo4jSettings {
        uri: var("BOLT_URI")?,
        user: var("BOLT_USER").unwrap_or_else(|| "neo4j".into()),
        password: var("BOLT_PASSWORD").unwrap_or_default(),
        database: var("BOLT_DATABASE"),
        ..Neo4jSettings::default()
    })
}

/// A connected, emptied Neo4j store, or `None` (with a notice) without a server.
pub async fn bolt_store(test: &str) -> Option<Arc<Neo4jStore>> {
    let Some(settings) = bolt_settings() else {
        eprintln!(
            "NOTICE: {test}: BOLT_URI is not set; the Neo4j half is skipped (tests/all.sh starts a Bolt server)"
        );
        return None;
    };
    let store = Neo4jStore::connect(&settings)
        .await
        .unwrap_or_else(|e| panic!("BOLT_URI is set but the server cannot be used: {e}"));
    store.clear().await.expect("emptying the Bolt database");
    Some(Arc::new(store))
}

fn small_bundle() -> (Bundle, SourceMap) {
    let dir = tempfile::tempdir().unwrap();
    write_small_bundle(dir.path());
    let (_, b, src) = import::read(dir.path()).unwrap();
    (b, src)
}

fn demo() -> Bundle {
    renmai::demo::demo_bundle(chrono::NaiveDate::from_ymd_opt(2026, 3, 1).unwrap())
}

/// Everything a store answers about its data, to compare across backends.
#[derive(Debug, PartialEq)]
struct Snapshot {
    stats: Stats,
    export: Bundle,
    accounts: Vec<AccountSummary>,
    slices: Vec<(OrgId, Option<AccountData>)>,
    people: Vec<(PersonId, Option<PersonRecord>)>,
}

async fn snapshot(store: &dyn Store) -> Snapshot {
    let mut stats = store.stats().await.unwrap();
    stats.store.clear();
    stats.location.clear();
    let export = canonical(store.export().await.unwrap());
    let accounts = store.accounts().await.unwrap();
    let mut slices = Vec::new();
    // Every organization (our own company answers `None`) and an unknown id.
    let mut orgs: Vec<OrgId> = export.organizations.iter().map(|o| o.id.clone()).collect();
    orgs.push(OrgId::parse("no-such-account").unwrap());
    for o in orgs {
        let d = store.account_data(&o).await.unwrap();
        slices.push((o, d));
    }
    let mut people = Vec::new();
    let mut ids: Vec<PersonId> = export.people.iter().map(|p| p.id.clone()).collect();
    ids.push(PersonId::parse("no-such-person").unwrap());
    for id in ids {
        let p = store.person(&id).await.unwrap();
        people.push((id, p));
    }
    Snapshot {
        stats,
        export,
        accounts,
        slices,
        people,
    }
}

async fn import(store: &dyn Store, b: Bundle, src: SourceMap) -> Result<ImportSummary, String> {
    store
        .import(b, src, Arc::new(NoProgress))
        .await
        .map_err(|e| e.to_string())
}

/// Bad bundles against the stored small bundle: each must be refused.
fn bad_inputs() -> Vec<(&'static str, Bundle)> {
    let (good, _) = small_bundle();
    let mut out = Vec::new();

    let mut b = Bundle::default();
    let mut p = good.people[3].clone();
    p.id = PersonId::parse("new-person").unwrap();
    p.org = OrgId::parse("missing-org").unwrap();
    b.people.push(p);
    out.push(("person of an unknown organization", b));

    let mut b = Bundle::default();
    let mut i = good.interactions[0].clone();
    i.id = renmai_graph::InteractionId::parse("new-1").unwrap();
    i.participants[1] = PersonId::parse("ghost").unwrap();
    if i.initiator != i.participants[0] {
        i.initiator = i.participants[0].clone();
    }
    b.interactions.push(i);
    b.interactions.push(good.interactions[1].clone());
    out.push(("interaction with an unknown participant", b));

    let mut b = Bundle::default();
    let mut t = good.account_team[0].clone();
    t.person = PersonId::parse("10").unwrap(); // a customer, not one of ours
    b.account_team.push(t);
    out.push(("team member who is not ours", b));

    // Carla (10) is the root of the stored tree; making her report to Eve
    // (12), who reports up to her, closes a cycle through stored records.
    let mut b = Bundle::default();
    let mut carla = good
        .people
        .iter()
        .find(|p| p.id.as_str() == "10")
        .unwrap()
        .clone();
    carla.reports_to = Some(PersonId::parse("12").unwrap());
    b.people.push(carla);
    out.push(("reporting cycle through stored people", b));

    let mut b = Bundle::default();
    let mut o = good.organizations[1].clone();
    o.parent = Some(o.id.clone());
    b.organizations.push(o);
    out.push(("organization that is its own parent", b));

    let mut b = Bundle::default();
    b.opportunity_stages.push(renmai_graph::StageChange {
        opportunity: renmai_graph::OpportunityId::parse("no-such-deal").unwrap(),
        stage: "proposal".into(),
        at: renmai_graph::Timestamp::from_epoch_seconds(1_750_000_000),
    });
    out.push(("stage change of an unknown deal", b));
    out
}

/// Runs the whole scenario against one store and returns what it observed.
async fn scenario(store: &dyn Store) -> Vec<String> {
    let mut seen = Vec::new();
    let (b, src) = small_bundle();

    let first = import(store, b.clone(), src.clone()).await.unwrap();
    seen.push(format!("small import: {first:?}"));
    let after_small = snapshot(store).await;
    seen.push(format!("{after_small:#?}"));

    // Idempotent: nothing new, nothing changed.
    let again = import(store, b.clone(), src.clone()).await.unwrap();
    assert_eq!(again.new_records(), 0, "{again:?}");
    seen.push(format!("small re-import: {again:?}"));
    assert_eq!(snapshot(store).await, after_small, "re-import changed data");

    for (what, bad) in bad_inputs() {
        let src = SourceMap::synthetic("bad", &bad);
        let err = import(store, bad, src).await.expect_err(what);
        assert!(err.contains("nothing was written"), "{what}: {err}");
        seen.push(format!("{what}: {err}"));
        assert_eq!(
            snapshot(store).await,
            after_small,
            "{what}: a refused import changed data"
        );
    }

    // Deals: competitors and a stage history, stored and read back alike.
    let dir = tempfile::tempdir().unwrap();
    crate::deals::write_deal_bundle(dir.path());
    let (_, deals, src) = import::read(dir.path()).unwrap();
    let s = import(store, deals, src).await.unwrap();
    assert_eq!(s.opportunity_stages.new, 3, "{s:?}");
    seen.push(format!("deals import: {s:?}"));
    seen.push(format!("{:#?}", snapshot(store).await));

    let d = demo();
    let src = SourceMap::synthetic("demo", &d);
    let s = import(store, d.clone(), src.clone()).await.unwrap();
    seen.push(format!("demo import: {s:?}"));
    let after_demo = snapshot(store).await;
    seen.push(format!("{after_demo:#?}"));
    let s = import(store, d, src).await.unwrap();
    assert_eq!(s.new_records(), 0, "{s:?}");
    assert_eq!(snapshot(store).await, after_demo);
    seen
}

/// Plans on the demo: objectives, action decisions and snapshots are stored
/// and read back the same way by every store.
async fn plan_scenario(store: Arc<dyn Store>) -> Vec<String> {
    use renmai::store::PlanItem;
    use renmai_graph::plan::{ActionStatus, Objective};
    let account = renmai_graph::OrgId::parse("acc-meridian").unwrap();
    let engine = renmai::engine::Engine::new(store.clone(), Default::default());
    let as_of = renmai_graph::Timestamp::parse("2026-01-15T00:00:00Z").unwrap();
    let (_, plan) = engine.plan(&account, Some(as_of)).await.unwrap().unwrap();
    let mut action = plan.actions[0].clone();
    action.status = ActionStatus::Accepted;
    store
        .save_plan_item(&account, PlanItem::Action(action.clone()))
        .await
        .unwrap();
    let objective = Objective {
        id: "cfo".into(),
        text: "reach ally with the CFO".into(),
        person: Some(action.whom.clone()),
        target_level: Some(renmai_graph::ClosenessLevel::ALLY),
        due: chrono::NaiveDate::from_ymd_opt(2026, 6, 30).unwrap(),
    };
    store
        .save_plan_item(&account, PlanItem::Objective(objective.clone()))
        .await
        .unwrap();
    // Saving again replaces, never duplicates.
    store
        .save_plan_item(&account, PlanItem::Objective(objective))
        .await
        .unwrap();
    store.save_snapshot(&plan).await.unwrap();
    store.save_snapshot(&plan).await.unwrap();
    let state = store.plan_state(&account).await.unwrap();
    assert_eq!((state.objectives.len(), state.actions.len()), (1, 1));
    let snaps = store.snapshots(&account).await.unwrap();
    assert_eq!(snaps, vec![plan]);
    let missing = store
        .save_plan_item(
            &renmai_graph::OrgId::parse("nope").unwrap(),
            PlanItem::Action(action),
        )
        .await
        .unwrap_err()
        .to_string();
    vec![format!("{state:?}"), format!("{snaps:?}"), missing]
}

#[tokio::test]
async fn embedded_store_passes_the_suite() {
    let t = TestStore::new();
    let seen = scenario(t.store.as_ref()).await;
    // The scenario saw real data: 6 refusals, the bundles stored.
    assert_eq!(
        seen.iter()
            .filter(|s| s.contains("nothing was written"))
            .count(),
        6
    );
    let s = t.store.stats().await.unwrap();
    assert!(s.accounts >= 5 && s.interactions > 100, "{s:?}");
    let plans = plan_scenario(t.store.clone()).await;
    assert!(
        plans[2].contains("no customer account with id nope"),
        "{}",
        plans[2]
    );
}

#[tokio::test]
async fn neo4j_store_answers_exactly_as_the_embedded_store() {
    let _bolt = BOLT.lock().await;
    let Some(neo) = bolt_store("conformance").await else {
        return;
    };
    let t = TestStore::new();
    let mut expected = scenario(t.store.as_ref()).await;
    let mut got = scenario(neo.as_ref()).await;
    expected.extend(plan_scenario(t.store.clone()).await);
    got.extend(plan_scenario(neo.clone()).await);
    assert_eq!(expected.len(), got.len());
    for (e, g) in expected.iter().zip(&got) {
        assert_eq!(g, e, "the Neo4j store differs from the embedded store");
    }
    assert_eq!(neo.kind(), "neo4j");
}

/// Runs the `renmai` binary with `args` and returns its standard output.
fn renmai(args: &[&str], env: &[(&str, &str)]) -> String {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_renmai"))
        .args(args)
        .envs(env.iter().copied())
        .env_remove("RENMAI_STORE")
        .output()
        .expect("running renmai");
    assert!(
        out.status.success(),
        "renmai {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8 output")
}

#[tokio::test]
async fn both_stores_give_identical_scores_for_every_account() {
    let _bolt = BOLT.lock().await;
    let Some(neo) = bolt_store("identical scores").await else {
        return;
    };
    let settings = bolt_settings().unwrap();
    let t = TestStore::new();
    let (small, src) = small_bundle();
    let d = demo();
    let dsrc = SourceMap::synthetic("demo", &d);
    for s in [t.store.as_ref() as &dyn Store, neo.as_ref()] {
        import(s, small.clone(), src.clone()).await.unwrap();
        import(s, d.clone(), dsrc.clone()).await.unwrap();
    }
    let db = t.dir.path().join("renmai.db");
    let db = db.to_str().unwrap();
    let mut neo_env = vec![
        ("RENMAI_NEO4J_URI", settings.uri.as_str()),
        ("RENMAI_NEO4J_USER", settings.user.as_str()),
        ("RENMAI_NEO4J_PASSWORD", settings.password.as_str()),
    ];
    if let Some(db) = &settings.database {
        neo_env.push(("RENMAI_NEO4J_DB", db));
    }
    let as_of = "2026-03-01T12:00:00Z";
    for family in ["closeness", "influence", "paths", "coverage", "next"] {
        let args = ["score", family, "--format", "json", "--as-of", as_of];
        let mut sqlite_args = vec!["--db", db];
        sqlite_args.extend(args);
        let mut neo_args = vec!["--store", "neo4j"];
        neo_args.extend(args);
        let a = renmai(&sqlite_args, &[]);
        let b = renmai(&neo_args, &neo_env);
        assert!(a.len() > 100, "{family}: too little output to compare: {a}");
        // Every account appears in the output.
        for acct in ["acc-meridian", "acc-hartmann", "acc-lumen"] {
            assert!(a.contains(acct), "{family}: {acct} missing");
        }
        assert_eq!(a, b, "{family}: the stores give different scores");
    }
}

/// A Bolt server of this test's own, started with tests/bolt-server and
/// stopped when dropped.
struct OwnServer {
    port: String,
    env: std::collections::HashMap<String, String>,
}

const BOLT_SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/bolt-server");

impl OwnServer {
    fn start(port: &str, fresh: bool) -> OwnServer {
        let mut cmd = std::process::Command::new(BOLT_SCRIPT);
        cmd.args(["start", port]);
        if fresh {
            cmd.arg("--fresh");
        }
        let out = cmd.output().expect("running tests/bolt-server");
        assert!(
            out.status.success(),
            "bolt-server start {port}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let env = String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        OwnServer {
            port: port.to_owned(),
            env,
        }
    }

    fn settings(&self) -> Neo4jSettings {
        Neo4jSettings {
            uri: self.env["BOLT_URI"].clone(),
            user: self.env["BOLT_USER"].clone(),
            password: self.env["BOLT_PASSWORD"].clone(),
            database: self.env.get("BOLT_DATABASE").cloned(),
            ..Neo4jSettings::default()
        }
    }

    /// SIGKILL: no shutdown, no flush, like a crashed machine.
    fn kill(&self) {
        let pid = &self.env["BOLT_SERVER_PID"];
        let ok = std::process::Command::new("kill")
            .args(["-9", pid])
            .status()
            .expect("kill");
        assert!(ok.success());
        // Wait until the process is gone so a restart can take the port.
        for _ in 0..100 {
            if !std::path::Path::new(&format!("/proc/{pid}")).exists() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
    }
}

impl Drop for OwnServer {
    fn drop(&mut self) {
        let _ = std::process::Command::new(BOLT_SCRIPT)
            .args(["stop", &self.port])
            .output();
    }
}

/// Counts what an import has written so far.
#[derive(Default)]
struct Counter(std::sync::atomic::AtomicU64);
impl renmai::store::Progress for Counter {
    fn advance(&self, n: u64) {
        self.0.fetch_add(n, std::sync::atomic::Ordering::SeqCst);
    }
}

/// `n` valid interactions between the small bundle's people.
fn many_interactions(n: usize) -> Bundle {
    let (small, _) = small_bundle();
    let pairs: Vec<(PersonId, PersonId)> = small
        .interactions
        .iter()
        .map(|i| (i.participants[0].clone(), i.participants[1].clone()))
        .collect();
    let mut b = Bundle::default();
    for k in 0..n {
        let (a, c) = pairs[k % pairs.len()].clone();
        b.interactions.push(renmai_graph::Interaction {
            id: renmai_graph::InteractionId::parse(&format!("bulk-{k}")).unwrap(),
            kind: renmai_graph::InteractionKind::Email,
            at: renmai_graph::Timestamp::from_epoch_seconds(1_750_000_000 + k as i64),
            initiator: a.clone(),
            participants: vec![a, c],
            in_reply_to: None,
        });
    }
    b
}

/// Kills the Bolt server in the middle of an import: the import fails with
/// a clear error, and after a restart nothing of it is stored; re-running
/// it then stores everything once. Uses a server of its own.
#[tokio::test]
async fn a_server_killed_mid_import_leaves_nothing_half_imported() {
    if bolt_settings().is_none() {
        eprintln!(
            "NOTICE: kill test: BOLT_URI is not set; skipped (tests/all.sh starts a Bolt server)"
        );
        return;
    }
    let port = std::env::var("RENMAI_TEST_BOLT_KILL_PORT").unwrap_or_else(|_| "7698".into());
    let server = OwnServer::start(&port, true);
    let store = Neo4jStore::connect(&server.settings()).await.unwrap();
    let (small, src) = small_bundle();
    import(&store, small, src).await.unwrap();
    let before = store.stats().await.unwrap();

    let bulk = many_interactions(30_000);
    let bsrc = SourceMap::synthetic("bulk", &bulk);
    let counter = Arc::new(Counter::default());
    let store = Arc::new(store);
    let task = {
        let (store, bulk, bsrc, counter) =
            (store.clone(), bulk.clone(), bsrc.clone(), counter.clone());
        tokio::spawn(async move { store.import(bulk, bsrc, counter).await })
    };
    // Kill once a good part (but not all) of the rows went over the wire.
    let t0 = std::time::Instant::now();
    while counter.0.load(std::sync::atomic::Ordering::SeqCst) < 8_000 {
        assert!(t0.elapsed().as_secs() < 120, "the import did not progress");
        assert!(!task.is_finished(), "the import ended before the kill");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    server.kill();
    let err = task
        .await
        .unwrap()
        .expect_err("the import must fail")
        .to_string();
    assert!(
        err.contains("lost the connection to the Neo4j server")
            && err.contains("nothing of an unfinished import was committed"),
        "unclear error: {err}"
    );
    drop(store);

    let server = OwnServer::start(&port, false);
    let store = Neo4jStore::connect(&server.settings()).await.unwrap();
    assert_eq!(
        store.stats().await.unwrap(),
        before,
        "half an import is stored"
    );
    let s = import(&store, bulk.clone(), bsrc.clone()).await.unwrap();
    assert_eq!((s.interactions.new, s.interactions.existing), (30_000, 0));
    let after = store.stats().await.unwrap();
    assert_eq!(after.interactions, before.interactions + 30_000);
}

#[tokio::test]
async fn migrate_copies_sqlite_to_neo4j_and_back() {
    let _bolt = BOLT.lock().await;
    let Some(neo) = bolt_store("migrate").await else {
        return;
    };
    let src = TestStore::new();
    src.import(demo()).await;
    let (small, _) = small_bundle();
    src.import(small).await;
    let original = canonical(src.store.export().await.unwrap());

    let copied = renmai::cli::migrate::copy(src.store.as_ref(), neo.as_ref(), true)
        .await
        .unwrap();
    assert_eq!(copied.interactions, original.interactions.len() as u64);
    assert_eq!(canonical(neo.export().await.unwrap()), original);
    // Re-running (resuming) is safe: upserts, same counts.
    renmai::cli::migrate::copy(src.store.as_ref(), neo.as_ref(), true)
        .await
        .unwrap();
    assert_eq!(canonical(neo.export().await.unwrap()), original);

    let back = TestStore::new();
    renmai::cli::migrate::copy(neo.as_ref(), back.store.as_ref(), true)
        .await
        .unwrap();
    assert_eq!(canonical(back.store.export().await.unwrap()), original);
}

#[tokio::test]
async fn migrate_refuses_a_target_that_does_not_match() {
    let _bolt = BOLT.lock().await;
    let Some(neo) = bolt_store("migrate mismatch").await else {
        return;
    };
    // The target already holds other data: the counts cannot match.
    let (small, src) = small_bundle();
    import(neo.as_ref(), small, src).await.unwrap();
    let from = TestStore::new();
    from.import(demo()).await;
    let err = renmai::cli::migrate::copy(from.store.as_ref(), neo.as_ref(), true)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("does not match the source") && err.contains("in the target"),
        "{err}"
    );
}

#[tokio::test]
async fn bad_store_settings_give_clear_errors() {
    use renmai::cli::migrate::{open_neo4j, open_spec};
    use renmai::config::{Config, FileConfig, Neo4jConfig};
    let err = open_neo4j(&Neo4jConfig::default(), None)
        .await
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("--neo4j-uri"), "{err}");
    let config = Config::resolve(FileConfig::default(), None, None);
    for (spec, want) in [
        ("mysql://x", "names no store"),
        ("sqlite:", "needs a path"),
        ("bolt://127.0.0.1:1", "cannot be opened"),
    ] {
        let err = format!("{:#}", open_spec(spec, &config).await.err().unwrap());
        assert!(err.contains(want), "{spec}: {err}");
    }
}

/// Concurrent imports of the same records: each succeeds (conflicts are
/// retried as whole transactions) and each record is created exactly once.
#[tokio::test]
async fn concurrent_overlapping_imports_create_each_record_once() {
    let _bolt = BOLT.lock().await;
    let Some(neo) = bolt_store("concurrent imports").await else {
        return;
    };
    let (small, src) = small_bundle();
    import(neo.as_ref(), small, src).await.unwrap();
    let bulk = many_interactions(3_000);
    let bsrc = SourceMap::synthetic("bulk", &bulk);
    let mut tasks = Vec::new();
    for _ in 0..4 {
        let (neo, bulk, bsrc) = (neo.clone(), bulk.clone(), bsrc.clone());
        tasks.push(tokio::spawn(async move {
            neo.import(bulk, bsrc, Arc::new(NoProgress)).await
        }));
    }
    let mut new = 0;
    for t in tasks {
        let s = t.await.unwrap().expect("every concurrent import succeeds");
        assert_eq!(s.interactions.new + s.interactions.existing, 3_000);
        new += s.interactions.new;
    }
    assert_eq!(new, 3_000, "a record was counted new twice");
    assert_eq!(neo.stats().await.unwrap().interactions, 5 + 3_000);
}

// ---- the JSON API's store methods (enrichment, tokens, idempotency keys) ----

/// A customer of the demo's Hartmann account, the same bundle for every
/// store: two people of one name there (an ambiguous name lookup).
fn namesakes(d: &Bundle) -> Bundle {
    let base = d
        .people
        .iter()
        .find(|p| p.org.as_str() == "acc-hartmann" && p.reports_to.is_some())
        .expect("a Hartmann person with a manager")
        .clone();
    let mut b = Bundle::default();
    for id in ["dup-2", "dup-1"] {
        let mut p = base.clone();
        p.id = PersonId::parse(id).unwrap();
        p.name = "Sam Ödegård".into();
        p.emails.clear();
        p.external_ids.clear();
        b.people.push(p);
    }
    b
}

/// Every API-facing store method, fed the same calls; what each answered,
/// with token creation times checked here and left out (they are "now").
async fn api_store_scenario(store: &dyn Store) -> Vec<String> {
    use renmai::auth::{ApiToken, TokenScope, hash_token};
    use renmai::store::{PersonLookup, StoredResponse};
    use renmai_graph::{Email, ExternalId};
    let mut seen = Vec::new();
    let d = demo();
    let src = SourceMap::synthetic("demo", &d);
    import(store, d.clone(), src).await.unwrap();
    let extra = namesakes(&d);
    let src = SourceMap::synthetic("namesakes", &extra);
    import(store, extra, src).await.unwrap();

    let with_email = d.people.iter().find(|p| !p.emails.is_empty()).unwrap();
    let with_ext = d
        .people
        .iter()
        .find(|p| !p.external_ids.is_empty())
        .unwrap();
    let org_name = |p: &renmai_graph::Person| {
        d.organizations
            .iter()
            .find(|o| o.id == p.org)
            .unwrap()
            .name
            .clone()
    };
    let lookups = vec![
        PersonLookup::Email(with_email.emails[0].clone()),
        PersonLookup::External(with_ext.external_ids[0].clone()),
        // ASCII case differences match, as SQLite's NOCASE.
        PersonLookup::NameAtOrg {
            name: with_email.name.to_ascii_uppercase(),
            org_name: org_name(with_email).to_ascii_lowercase(),
        },
        PersonLookup::NameAtOrg {
            name: "SAM Ödegård".into(),
            org_name: "hartmann maschinenbau ag".into(),
        },
        // Non-ASCII letters are compared exactly (NOCASE folds ASCII only).
        PersonLookup::NameAtOrg {
            name: "SAM öDEGÅRD".into(),
            org_name: "hartmann maschinenbau ag".into(),
        },
        PersonLookup::NameAtOrg {
            name: with_email.name.clone(),
            org_name: "No Such Company".into(),
        },
        PersonLookup::Email(Email::parse("nobody@example.com").unwrap()),
        PersonLookup::External(ExternalId::parse("salesforce:none").unwrap()),
    ];
    let found = store.find_people(lookups.clone()).await.unwrap();
    let ids = |v: &Vec<Vec<renmai::store::PersonRecord>>| -> Vec<Vec<String>> {
        v.iter()
            .map(|r| r.iter().map(|x| x.person.id.as_str().to_owned()).collect())
            .collect()
    };
    let found_ids = ids(&found);
    assert_eq!(found_ids[0], vec![with_email.id.as_str()]);
    assert_eq!(found_ids[1], vec![with_ext.id.as_str()]);
    assert!(found_ids[2].contains(&with_email.id.as_str().to_owned()));
    assert_eq!(
        found_ids[3],
        vec!["dup-1", "dup-2"],
        "by id, both namesakes"
    );
    assert!(found_ids[4..].iter().all(|v| v.is_empty()), "{found_ids:?}");
    assert!(store.find_people(vec![]).await.unwrap().is_empty());
    seen.push(format!("{found:?}"));

    // An e-mail address given to someone else moves with its lookup; the
    // former owner, re-imported without it, no longer has it either.
    let mut gets = d
        .people
        .iter()
        .find(|p| p.id != with_email.id && p.org == with_email.org)
        .unwrap()
        .clone();
    gets.emails = with_email.emails.clone();
    let moved = Bundle {
        people: vec![gets.clone()],
        ..Bundle::default()
    };
    let src = SourceMap::synthetic("moved", &moved);
    import(store, moved, src).await.unwrap();
    let after = store.find_people(lookups[..1].to_vec()).await.unwrap();
    assert_eq!(ids(&after), vec![vec![gets.id.as_str().to_owned()]]);
    let former = store.person(&with_email.id).await.unwrap().unwrap();
    assert!(!former.person.emails.contains(&with_email.emails[0]));
    seen.push(format!("{after:?} {former:?}"));
    // And an import without e-mails takes a person's away.
    let mut bare = gets.clone();
    bare.emails.clear();
    let bare_b = Bundle {
        people: vec![bare],
        ..Bundle::default()
    };
    let src = SourceMap::synthetic("bare", &bare_b);
    import(store, bare_b, src).await.unwrap();
    let gone = store.find_people(lookups[..1].to_vec()).await.unwrap();
    assert_eq!(gone, vec![vec![]]);

    // Tokens.
    let (h1, h2, h3) = (hash_token("one"), hash_token("two"), hash_token("three"));
    let names = |v: Vec<ApiToken>| -> Vec<(String, TokenScope)> {
        let now = chrono::Utc::now().timestamp();
        for t in &v {
            let age = now - t.created_at.epoch_seconds();
            assert!((0..300).contains(&age), "created {age} s ago");
        }
        v.into_iter().map(|t| (t.name, t.scope)).collect()
    };
    let by_hash = |t: Option<ApiToken>| t.map(|t| (t.name, t.scope));
    seen.push(format!(
        "{:?}",
        [
            store
                .save_token("alpha", TokenScope::Read, &h1, false)
                .await
                .unwrap(),
            store
                .save_token("alpha", TokenScope::Write, &h2, false)
                .await
                .unwrap(),
        ]
    ));
    seen.push(format!(
        "{:?} {:?}",
        by_hash(store.token_by_hash(&h1).await.unwrap()),
        by_hash(store.token_by_hash(&h2).await.unwrap())
    ));
    assert!(
        store
            .save_token("alpha", TokenScope::Write, &h2, true)
            .await
            .unwrap()
    );
    assert!(
        store
            .save_token("Beta", TokenScope::Read, &h3, false)
            .await
            .unwrap()
    );
    seen.push(format!(
        "{:?} {:?} {:?}",
        by_hash(store.token_by_hash(&h1).await.unwrap()),
        by_hash(store.token_by_hash(&h2).await.unwrap()),
        names(store.tokens().await.unwrap())
    ));
    seen.push(format!(
        "{:?}",
        [
            store.revoke_token("alpha").await.unwrap(),
            store.revoke_token("alpha").await.unwrap(),
            store.revoke_token("nope").await.unwrap(),
        ]
    ));
    seen.push(format!(
        "{:?} {:?}",
        by_hash(store.token_by_hash(&h2).await.unwrap()),
        names(store.tokens().await.unwrap())
    ));
    // A revoked name can be given out again without `replace`.
    assert!(
        store
            .save_token("alpha", TokenScope::Read, &h1, false)
            .await
            .unwrap()
    );
    seen.push(format!("{:?}", names(store.tokens().await.unwrap())));

    // Idempotency keys: per client, the first response kept wins.
    let resp = |status: u16, body: &str| StoredResponse {
        request_hash: format!("h-{body}"),
        status,
        body: body.into(),
    };
    assert_eq!(store.idempotent_response("c", "k").await.unwrap(), None);
    store
        .save_idempotent_response("c", "k", resp(201, "{\"first\":1}"))
        .await
        .unwrap();
    store
        .save_idempotent_response("c", "k", resp(200, "second"))
        .await
        .unwrap();
    store
        .save_idempotent_response("ab", "c", resp(202, "ab/c"))
        .await
        .unwrap();
    let kept = [("c", "k"), ("d", "k"), ("a", "bc"), ("ab", "c")];
    let mut got = Vec::new();
    for (client, key) in kept {
        got.push(store.idempotent_response(client, key).await.unwrap());
    }
    assert_eq!(got[0], Some(resp(201, "{\"first\":1}")));
    assert_eq!((got[1].clone(), got[2].clone()), (None, None));
    seen.push(format!("{got:?}"));
    seen
}

#[tokio::test]
async fn embedded_store_passes_the_api_store_suite() {
    let t = TestStore::new();
    let seen = api_store_scenario(t.store.as_ref()).await;
    assert!(seen.len() > 5);
}

#[tokio::test]
async fn neo4j_store_answers_the_api_store_calls_as_the_embedded_store() {
    let _bolt = BOLT.lock().await;
    let Some(neo) = bolt_store("api store conformance").await else {
        return;
    };
    let t = TestStore::new();
    let expected = api_store_scenario(t.store.as_ref()).await;
    let got = api_store_scenario(neo.as_ref()).await;
    assert_eq!(expected.len(), got.len());
    for (e, g) in expected.iter().zip(&got) {
        assert_eq!(g, e, "the Neo4j store differs from the embedded store");
    }
}

/// The JSON API itself over each store: the same requests give the same
/// statuses and bodies (enrichment, an idempotent write and its replay, a
/// revoked token).
async fn json_api_exchange(store: Arc<dyn Store>) -> Vec<String> {
    use axum::body::Body;
    use axum::http::Request;
    use http_body_util::BodyExt;
    use renmai::auth::{TokenScope, generate_token, hash_token};
    use tower::ServiceExt;
    let d = renmai::demo::demo_bundle(chrono::NaiveDate::from_ymd_opt(2026, 11, 28).unwrap());
    let src = SourceMap::synthetic("demo", &d);
    import(store.as_ref(), d, src).await.unwrap();
    let (read, write) = (generate_token(), generate_token());
    assert!(
        store
            .save_token("reader", TokenScope::Read, &hash_token(&read), false)
            .await
            .unwrap()
    );
    assert!(
        store
            .save_token("writer", TokenScope::Write, &hash_token(&write), false)
            .await
            .unwrap()
    );
    let router = renmai::web::app(renmai::web::AppState::new(
        store.clone(),
        Default::default(),
    ));
    let call = |method: &str,
                uri: &str,
                token: &str,
                body: Option<serde_json::Value>,
                key: Option<&str>| {
        let mut b = Request::builder()
            .method(method)
            .uri(format!("/api/v1{uri}"))
            .header("authorization", format!("Bearer {token}"));
        if let Some(k) = key {
            b = b.header("idempotency-key", k);
        }
        let req = match body {
            Some(v) => b
                .header("content-type", "application/json")
                .body(Body::from(v.to_string())),
            None => b.body(Body::empty()),
        }
        .unwrap();
        let router = router.clone();
        async move {
            let resp = router.oneshot(req).await.unwrap();
            let status = resp.status().as_u16();
            let replayed = resp.headers().get("idempotency-replayed").is_some();
            let bytes = resp.into_body().collect().await.unwrap().to_bytes();
            format!(
                "{status} replayed={replayed} {}",
                String::from_utf8_lossy(&bytes)
            )
        }
    };
    let enrich = serde_json::json!({
        "as_of": "2026-11-28",
        "records": [
            {"ref": "crm-1", "email": "Birgit.Schulz@Hartmann-MB.de"},
            {"external_id": "salesforce:0035g0000lzQBmX"},
            {"name": "birgit schulz", "company": "HARTMANN MASCHINENBAU AG"},
            {"email": "nobody@example.com"},
            {"name": "Birgit Schulz"}
        ]
    });
    let mut seen = vec![call("POST", "/enrich", &read, Some(enrich.clone()), None).await];
    assert!(
        seen[0].starts_with("200 ") && seen[0].contains("\"matched\":3"),
        "{}",
        seen[0]
    );
    let log = serde_json::json!({"kind": "meeting", "at": "2026-11-20T10:00:00Z", "initiator": "nw-01", "participants": ["nw-01", "hm-001"]});
    let first = call(
        "POST",
        "/interactions",
        &write,
        Some(log.clone()),
        Some("key-1"),
    )
    .await;
    let again = call("POST", "/interactions", &write, Some(log), Some("key-1")).await;
    assert!(first.starts_with("201 replayed=false"), "{first}");
    assert_eq!(again.replacen("replayed=true", "replayed=false", 1), first);
    // The generated interaction id differs per run; the rest must not.
    let masked = |s: &str| {
        let v: serde_json::Value = serde_json::from_str(s.splitn(3, ' ').nth(2).unwrap()).unwrap();
        format!(
            "{} created={} existing={}",
            &s[..3],
            v["created"],
            v["existing"]
        )
    };
    seen.push(masked(&first));
    seen.push(masked(&again));
    // A pinned as_of: the default trails the clock by the minute, and the
    // two stores' calls may fall either side of a minute boundary.
    // Provenance: the same writes on both stores (their times differ).
    let person = call(
        "GET",
        "/people/hm-001?as_of=2026-11-28T12:00:00Z",
        &read,
        None,
        None,
    )
    .await;
    let (head, body) = person.split_at(person.find('{').unwrap_or(person.len()));
    let mut body: serde_json::Value = serde_json::from_str(body).expect("a person as JSON");
    let lines = body["provenance"].as_array_mut().expect("provenance lines");
    assert!(
        lines.len() >= 2,
        "the person record and their interactions: {lines:?}"
    );
    for l in lines.iter_mut() {
        let o = l.as_object_mut().unwrap();
        assert!(o.remove("imported_at").is_some_and(|t| t.is_string()));
        o.remove("text");
    }
    seen.push(format!("{head}{body}"));
    assert!(store.revoke_token("reader").await.unwrap());
    seen.push(call("POST", "/enrich", &read, Some(enrich), None).await);
    assert!(seen[4].starts_with("401 "), "{}", seen[4]);
    seen
}

#[tokio::test]
async fn the_json_api_answers_alike_on_both_stores() {
    let _bolt = BOLT.lock().await;
    let Some(neo) = bolt_store("JSON API").await else {
        return;
    };
    let t = TestStore::new();
    let expected = json_api_exchange(t.store.clone()).await;
    let got = json_api_exchange(neo).await;
    for (e, g) in expected.iter().zip(&got) {
        assert_eq!(g, e, "the JSON API differs on the Neo4j store");
    }
}

/// Data written before enrichment lookups existed (no name keys, no e-mail
/// or external id nodes, no layout version) is upgraded on connect, so the
/// JSON API finds its people.
#[tokio::test]
async fn older_neo4j_data_is_upgraded_on_connect() {
    use renmai::store::PersonLookup;
    let _bolt = BOLT.lock().await;
    let Some(neo) = bolt_store("upgrade").await else {
        return;
    };
    let d = demo();
    let src = SourceMap::synthetic("demo", &d);
    import(neo.as_ref(), d.clone(), src).await.unwrap();
    let p = d.people.iter().find(|p| !p.emails.is_empty()).unwrap();
    let org = d.organizations.iter().find(|o| o.id == p.org).unwrap();
    let lookups = vec![
        PersonLookup::Email(p.emails[0].clone()),
        PersonLookup::NameAtOrg {
            name: p.name.clone(),
            org_name: org.name.clone(),
        },
    ];
    let before = neo.find_people(lookups.clone()).await.unwrap();
    assert!(before.iter().all(|r| r.iter().any(|x| x.person.id == p.id)));
    // Back to the first layout, by hand.
    let settings = bolt_settings().unwrap();
    let mut config = neo4rs::ConfigBuilder::default()
        .uri(settings.uri.as_str())
        .user(settings.user.as_str())
        .password(settings.password.as_str());
    if let Some(db) = &settings.database {
        config = config.db(db.as_str());
    }
    let g = neo4rs::Graph::connect(config.build().unwrap()).unwrap();
    for q in [
        "MATCH (n:PersonEmail) DELETE n",
        "MATCH (n:PersonExternalId) DELETE n",
        "MATCH (n:RenmaiSchema) DELETE n",
        "MATCH (n:Person) REMOVE n.name_key",
        "MATCH (n:Organization) REMOVE n.name_key",
    ] {
        g.run(neo4rs::query(q)).await.unwrap();
    }
    assert_eq!(
        neo.find_people(lookups.clone()).await.unwrap(),
        vec![vec![], vec![]]
    );
    let upgraded = Neo4jStore::connect(&settings).await.unwrap();
    assert_eq!(upgraded.find_people(lookups).await.unwrap(), before);
}
