//! The Neo4j store's own behaviour: packed account blocks (cold reads in
//! two queries, kept current by writes) and failing fast when the Bolt
//! server is slow, hung or gone.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use renmai::bundle::Bundle;
use renmai::store::neo4j::{Neo4jSettings, Neo4jStore};
use renmai::store::{NoProgress, Store};
use renmai::validate::SourceMap;
use renmai_graph::OrgId;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::conformance::{BOLT, bolt_settings, bolt_store};
use crate::helpers::{TestStore, write_small_bundle};

async fn import(store: &dyn Store, b: Bundle) {
    let src = SourceMap::synthetic("test", &b);
    store
        .import(b, src, Arc::new(NoProgress))
        .await
        .expect("import");
}

fn small() -> Bundle {
    let dir = tempfile::tempdir().unwrap();
    write_small_bundle(dir.path());
    renmai::import::read(dir.path()).unwrap().1
}

fn json_bundle(v: serde_json::Value) -> Bundle {
    serde_json::from_value(v).unwrap()
}

/// A cold read is served from the packed block once it is built, by any
/// connection; a write of interactions makes only the touched account's
/// block stale, any other write every block; and every read equals what the
/// embedded store answers for the same data.
#[tokio::test]
async fn packed_blocks_serve_cold_reads_and_follow_writes() {
    let _bolt = BOLT.lock().await;
    let Some(neo) = bolt_store("packed blocks").await else {
        return;
    };
    let sqlite = TestStore::new();
    let acme = OrgId::parse("1").unwrap();
    let leasing = OrgId::parse("2").unwrap();
    import(neo.as_ref(), small()).await;
    sqlite.import(small()).await;
    let same = |what: &'static str| {
        let (neo, sqlite) = (neo.clone(), sqlite.store.clone());
        async move {
            for a in ["1", "2"] {
                let a = OrgId::parse(a).unwrap();
                assert_eq!(
                    neo.account_data(&a).await.unwrap(),
                    sqlite.account_data(&a).await.unwrap(),
                    "{what}: account {a}"
                );
            }
        }
    };

    // First reads build the blocks, the next ones use them.
    same("built").await;
    assert_eq!(neo.packed_reads(), 0);
    same("packed").await;
    assert_eq!(neo.packed_reads(), 2);
    let other = Neo4jStore::connect(&bolt_settings().unwrap())
        .await
        .unwrap();
    other.account_data(&acme).await.unwrap().unwrap();
    assert_eq!(
        other.packed_reads(),
        1,
        "another app server reads the block"
    );

    // Interactions only: Acme's block is stale, Acme Leasing's is not.
    let meeting = json_bundle(serde_json::json!({"interactions": [
        {"id": "p1", "kind": "meeting", "at": "2025-12-10T10:00:00Z", "initiator": "1", "participants": ["1", "12"]}
    ]}));
    import(neo.as_ref(), meeting.clone()).await;
    sqlite.import(meeting).await;
    let before = neo.packed_reads();
    let data = neo.account_data(&acme).await.unwrap().unwrap();
    assert!(data.interactions.iter().any(|i| i.id.as_str() == "p1"));
    assert_eq!(neo.packed_reads(), before, "Acme was read record by record");
    neo.account_data(&leasing).await.unwrap().unwrap();
    assert_eq!(
        neo.packed_reads(),
        before + 1,
        "Acme Leasing's block stayed"
    );
    same("after an interaction").await;

    // An interaction written again with other people leaves its old account.
    let moved = json_bundle(serde_json::json!({"interactions": [
        {"id": "p1", "kind": "meeting", "at": "2025-12-10T10:00:00Z", "initiator": "1", "participants": ["1", "20"]}
    ]}));
    import(neo.as_ref(), moved.clone()).await;
    sqlite.import(moved).await;
    same("after moving an interaction").await;
    let data = neo.account_data(&acme).await.unwrap().unwrap();
    assert!(data.interactions.iter().all(|i| i.id.as_str() != "p1"));

    // A person renamed: every block is stale.
    let mut renamed = small();
    renamed.people.retain(|p| p.id.as_str() == "20");
    renamed.people[0].name = "Gil Lessor-Brandt".into();
    renamed.organizations.clear();
    renamed.account_team.clear();
    renamed.interactions.clear();
    renamed.influences.clear();
    renamed.assessments.clear();
    renamed.opportunities.clear();
    renamed.opportunity_contacts.clear();
    import(neo.as_ref(), renamed.clone()).await;
    sqlite.import(renamed).await;
    let before = neo.packed_reads();
    let data = neo.account_data(&leasing).await.unwrap().unwrap();
    assert_eq!(data.people[0].name, "Gil Lessor-Brandt");
    assert_eq!(neo.packed_reads(), before);
    same("after a rename").await;
}

/// A TCP server that accepts connections and never answers.
async fn silent_server() -> (String, tokio::task::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let task = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    (addr, task)
}

/// Opening the store on a server that accepts but never answers fails
/// within the connect timeout, naming the server.
#[tokio::test]
async fn a_silent_server_fails_the_connect_fast() {
    let (addr, task) = silent_server().await;
    let settings = Neo4jSettings {
        uri: format!("bolt://{addr}"),
        connect_timeout: Duration::from_millis(500),
        ..Neo4jSettings::default()
    };
    let t = Instant::now();
    let err = Neo4jStore::connect(&settings)
        .await
        .err()
        .expect("a silent server cannot be used")
        .to_string();
    assert!(
        t.elapsed() < Duration::from_secs(3),
        "took {:?}",
        t.elapsed()
    );
    assert!(
        err.contains(&addr) && err.contains("no answer within 500 ms while connecting"),
        "{err}"
    );
    task.abort();
}

/// Forwards TCP connections to `upstream` until frozen; frozen, it holds
/// every byte (a hung server); closed, it drops every connection and
/// refuses new ones (a dead server).
struct Proxy {
    addr: String,
    frozen: Arc<AtomicBool>,
    task: tokio::task::JoinHandle<()>,
}

impl Proxy {
    async fn start(upstream: String) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let frozen = Arc::new(AtomicBool::new(false));
        let f = frozen.clone();
        let task = tokio::spawn(async move {
            let mut conns = tokio::task::JoinSet::new();
            while let Ok((client, _)) = listener.accept().await {
                let Ok(server) = TcpStream::connect(&upstream).await else {
                    continue;
                };
                let (cr, cw) = client.into_split();
                let (sr, sw) = server.into_split();
                conns.spawn(pipe(cr, sw, f.clone()));
                conns.spawn(pipe(sr, cw, f.clone()));
            }
        });
        Proxy { addr, frozen, task }
    }
    fn freeze(&self) {
        self.frozen.store(true, Ordering::SeqCst);
    }
    /// Drops the listener and every connection (the `JoinSet` aborts them).
    fn close(self) {
        self.task.abort();
    }
}

async fn pipe(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    frozen: Arc<AtomicBool>,
) {
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = match from.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        while frozen.load(Ordering::SeqCst) {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        if to.write_all(&buf[..n]).await.is_err() {
            return;
        }
    }
}

/// Requests to the web app get a problem+json 503 naming the server and
/// what timed out within the query timeout (plus a margin) when the Bolt
/// server hangs, and when it is gone.
#[tokio::test]
async fn a_hung_or_dead_server_gives_a_503_within_the_timeout() {
    use axum::body::Body;
    use axum::http::Request;
    use http_body_util::BodyExt;
    use renmai::auth::{TokenScope, generate_token, hash_token};
    use tower::ServiceExt;

    let _bolt = BOLT.lock().await;
    let Some(direct) = bolt_store("hung server").await else {
        return;
    };
    import(direct.as_ref(), small()).await;
    let token = generate_token();
    direct
        .save_token("reader", TokenScope::Read, &hash_token(&token), false)
        .await
        .unwrap();
    let upstream = bolt_settings()
        .unwrap()
        .uri
        .split("://")
        .nth(1)
        .unwrap()
        .to_owned();

    let timeout = Duration::from_millis(1_000);
    let ask = |router: axum::Router, path: &'static str| {
        let token = token.clone();
        async move {
            let t = Instant::now();
            let res = router
                .oneshot(
                    Request::get(path)
                        .header("Authorization", format!("Bearer {token}"))
                        .body(Body::empty())
                        .unwrap(),
                )
                .await
                .unwrap();
            let elapsed = t.elapsed();
            let status = res.status().as_u16();
            let kind = res.headers()["content-type"].to_str().unwrap().to_owned();
            let body: serde_json::Value =
                serde_json::from_slice(&res.into_body().collect().await.unwrap().to_bytes())
                    .unwrap_or_default();
            (status, kind, body, elapsed)
        }
    };

    for dead in [false, true] {
        let proxy = Proxy::start(upstream.clone()).await;
        let settings = Neo4jSettings {
            uri: format!("bolt://{}", proxy.addr),
            query_timeout: timeout,
            ..bolt_settings().unwrap()
        };
        let store = Arc::new(Neo4jStore::connect(&settings).await.unwrap());
        let router = renmai::web::app(renmai::web::AppState::new(store, Default::default()));
        let (status, ..) = ask(router.clone(), "/api/v1/accounts/1").await;
        assert_eq!(status, 200, "through the proxy, before it fails");

        let what = if dead { "dead" } else { "hung" };
        if dead {
            proxy.close();
        } else {
            proxy.freeze();
        }
        let (status, kind, body, elapsed) = ask(router, "/api/v1/accounts/2").await;
        assert_eq!(status, 503, "{what}: {body}");
        assert_eq!(kind, "application/problem+json");
        let detail = body["detail"].as_str().unwrap_or_default();
        let why = if dead {
            "lost the connection to the Neo4j server"
        } else {
            "no answer within 1 s"
        };
        assert!(
            detail.contains(&settings.uri) && detail.contains(why),
            "{what}: {detail}"
        );
        assert!(
            elapsed < timeout * 3,
            "{what}: answered after {elapsed:?} (timeout {timeout:?})"
        );
    }
}

/// Another app server's write (here: the `renmai` binary importing into
/// the same database) reaches this process's engine within a second or
/// two, without any write through it and long before the 30 s fallback.
#[tokio::test]
async fn another_servers_write_reaches_the_engine_within_seconds() {
    let _bolt = BOLT.lock().await;
    let Some(neo) = bolt_store("external writes").await else {
        return;
    };
    import(neo.as_ref(), small()).await;
    let engine = renmai::engine::Engine::new(neo.clone(), Default::default());
    let acme = OrgId::parse("1").unwrap();
    let before = engine.account_data(&acme).await.unwrap().unwrap();
    assert!(before.interactions.iter().all(|i| i.id.as_str() != "ext-1"));
    let own_version = neo.external_version();
    assert!(own_version.is_some(), "the Neo4j store reports a version");

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("meeting.json");
    std::fs::write(
        &file,
        serde_json::json!({"format": "renmai-bundle", "version": 1, "interactions": [
            {"id": "ext-1", "kind": "meeting", "at": "2025-12-11T10:00:00Z", "initiator": "1", "participants": ["1", "12"]}
        ]})
        .to_string(),
    )
    .unwrap();
    let s = bolt_settings().unwrap();
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_renmai"));
    cmd.args(["--quiet", "--store", "neo4j", "import"])
        .arg(&file)
        .env("RENMAI_NEO4J_URI", &s.uri)
        .env("RENMAI_NEO4J_USER", &s.user)
        .env("RENMAI_NEO4J_PASSWORD", &s.password)
        .env_remove("RENMAI_STORE");
    if let Some(db) = &s.database {
        cmd.env("RENMAI_NEO4J_DB", db);
    }
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let started = Instant::now();
    loop {
        let data = engine.account_data(&acme).await.unwrap().unwrap();
        if data.interactions.iter().any(|i| i.id.as_str() == "ext-1") {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "the engine still serves the slice from before the other server's write"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_ne!(neo.external_version(), own_version);

    // Our own writes do not move the version (the engine updates what they
    // touch itself), even on the account the other server wrote last.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let settled = neo.external_version();
    import(
        neo.as_ref(),
        json_bundle(serde_json::json!({"interactions": [
            {"id": "own-1", "kind": "call", "at": "2025-12-12T10:00:00Z", "initiator": "1", "participants": ["1", "12"]}
        ]})),
    )
    .await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(neo.external_version(), settled);
}
