//! Crash safety of a running server (issue 10): `renmai serve` killed with
//! SIGKILL while many clients write interactions (one at a time and in
//! batches) and save plan snapshots. After the restart every write that
//! was acknowledged with a 2xx is there, and no batch is half there.
//!
//! The harness ([`Server`], [`write_until_killed`], [`check_recovered`]) is
//! shared by the embedded store's test here and the Neo4j store's test in
//! `crash_serve_bolt.rs`; only how a store is seeded and read back differs.
//!
//! The writers speak plain HTTP/1.1 over a socket (no client crate): a
//! write counts as acknowledged only once its status line has been read.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rusqlite::{Connection, OpenFlags};

/// Interactions per batch write.
pub const BATCH: usize = 5;
/// Concurrent writers of interactions.
const WRITERS: usize = 8;

pub struct Server {
    child: Child,
    pub port: u16,
    pub token: String,
    /// What the server wrote on stderr, for the message when it fails.
    log: Arc<Mutex<String>>,
}

/// A free loopback port.
pub fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

impl Server {
    /// `renmai serve --demo` on the embedded store `db`, on a free port.
    fn start(db: &Path) -> Server {
        let port = free_port();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_renmai"));
        cmd.arg("--db")
            .arg(db)
            .args(["serve", "--demo", "--addr", &format!("127.0.0.1:{port}")]);
        Server::spawn(cmd, port, None)
    }

    /// Runs `cmd` (a `renmai … serve --addr 127.0.0.1:PORT`) and waits until
    /// it answers `/healthz`. The API token is `token`, or the demo token it
    /// prints when `None`.
    pub fn spawn(mut cmd: Command, port: u16, token: Option<String>) -> Server {
        let mut child = cmd
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let log = Arc::new(Mutex::new(String::new()));
        let (token_tx, token_rx) = std::sync::mpsc::channel();
        {
            // Keep draining stderr so the server never blocks on a full pipe.
            let (stderr, log) = (child.stderr.take().unwrap(), log.clone());
            std::thread::spawn(move || {
                for l in BufReader::new(stderr).lines().map_while(Result::ok) {
                    if let Some(i) = l.find("rm_") {
                        let t = l[i..].split_whitespace().next().unwrap_or("").to_owned();
                        let _ = token_tx.send(t);
                    }
                    let mut log = log.lock().unwrap();
                    log.push_str(&l);
                    log.push('\n');
                }
            });
        }
        let deadline = Instant::now() + Duration::from_secs(90);
        let token = token.unwrap_or_else(|| {
            token_rx
                .recv_timeout(Duration::from_secs(90))
                .unwrap_or_else(|_| {
                    panic!("serve --demo printed no token:\n{}", log.lock().unwrap())
                })
        });
        while http(port, "GET", "/healthz", "", "") != Some(200) {
            if let Ok(Some(status)) = child.try_wait() {
                panic!("serve exited with {status}:\n{}", log.lock().unwrap());
            }
            assert!(
                Instant::now() < deadline,
                "the server did not come up:\n{}",
                log.lock().unwrap()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Server {
            child,
            port,
            token,
            log,
        }
    }

    /// SIGKILL: no shutdown code runs.
    pub fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    /// What the server logged so far.
    pub fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }
}

/// One request on its own connection; the status code, or `None` when the
/// exchange broke off before a status line arrived (not acknowledged).
pub fn http(port: u16, method: &str, path: &str, token: &str, body: &str) -> Option<u16> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(30))).ok()?;
    let auth = if token.is_empty() {
        String::new()
    } else {
        format!("Authorization: Bearer {token}\r\n")
    };
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{auth}Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).ok()?;
    let mut head = [0u8; 12];
    s.read_exact(&mut head).ok()?;
    let status = std::str::from_utf8(&head[9..12]).ok()?.parse().ok()?;
    // Drain the rest so the server finishes the exchange normally.
    let _ = s.read_to_end(&mut Vec::new());
    Some(status)
}

/// Opens the database read-only beside a running (or dead) server.
fn open(db: &Path) -> Connection {
    Connection::open_with_flags(db, OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap()
}

fn interaction(id: &str, seller: &str, customer: &str, minute: usize) -> String {
    format!(
        r#"{{"id":"{id}","kind":"call","at":"2025-06-01T{:02}:{:02}:00Z","initiator":"{seller}","participants":["{seller}","{customer}"]}}"#,
        (minute / 60) % 24,
        minute % 60
    )
}

/// Who the writes are about, and how their ids start.
pub struct Load {
    pub seller: String,
    pub customers: Vec<String>,
    pub account: String,
    /// Prefix of every interaction id written (unique per run on a shared store).
    pub id_prefix: String,
}

/// How many acknowledged writes of each kind to wait for before the kill
/// (or `max_wait`, whichever comes first).
pub struct Enough {
    pub singles: usize,
    pub batches: usize,
    pub max_wait: Duration,
}

#[derive(Default)]
pub struct Acks {
    pub singles: Vec<String>,
    /// Every batch sent: its ids and whether it was acknowledged.
    pub batches: Vec<(Vec<String>, bool)>,
    /// `as_of` (epoch seconds) of every acknowledged plan snapshot.
    pub snapshots: Vec<i64>,
    pub failures: usize,
}

/// Runs [`WRITERS`] writers of interactions (single and batch) and one
/// saver of plan snapshots against `server` until `enough` is acknowledged,
/// then SIGKILLs the server mid-write and returns what was acknowledged.
pub fn write_until_killed(server: Server, load: &Load, enough: &Enough) -> Acks {
    let acks = Arc::new(Mutex::new(Acks::default()));
    let stop = Arc::new(AtomicBool::new(false));
    let mut threads = Vec::new();
    for w in 0..WRITERS {
        let (acks, stop, token, port) = (
            acks.clone(),
            stop.clone(),
            server.token.clone(),
            server.port,
        );
        let (seller, customers, prefix) = (
            load.seller.clone(),
            load.customers.clone(),
            load.id_prefix.clone(),
        );
        threads.push(std::thread::spawn(move || {
            let mut i = 0;
            while !stop.load(Ordering::Relaxed) {
                i += 1;
                let customer = &customers[(w + i) % customers.len()];
                if i % 2 == 0 {
                    let id = format!("{prefix}-{w}-{i}");
                    let body = interaction(&id, &seller, customer, i);
                    match http(port, "POST", "/api/v1/interactions", &token, &body) {
                        Some(s) if (200..300).contains(&s) => acks.lock().unwrap().singles.push(id),
                        // Busy (a store timeout): not acknowledged, like a
                        // broken connection.
                        Some(503) | None => acks.lock().unwrap().failures += 1,
                        Some(s) => panic!("write refused with {s}: {body}"),
                    }
                } else {
                    let ids: Vec<String> = (0..BATCH)
                        .map(|b| format!("{prefix}-{w}-{i}-b{b}"))
                        .collect();
                    let items: Vec<String> = ids
                        .iter()
                        .enumerate()
                        .map(|(b, id)| interaction(id, &seller, customer, i + b))
                        .collect();
                    let body = format!(r#"{{"interactions":[{}]}}"#, items.join(","));
                    let status = http(port, "POST", "/api/v1/interactions/batch", &token, &body);
                    if let Some(s) = status {
                        assert!(
                            (200..300).contains(&s) || s == 503,
                            "batch refused with {s}"
                        );
                    }
                    let acked = status.is_some_and(|s| (200..300).contains(&s));
                    acks.lock().unwrap().batches.push((ids, acked));
                }
            }
        }));
    }
    // Plan snapshots, each at its own date (a snapshot is keyed by it).
    {
        let (acks, stop, token, port, account) = (
            acks.clone(),
            stop.clone(),
            server.token.clone(),
            server.port,
            load.account.clone(),
        );
        threads.push(std::thread::spawn(move || {
            let mut day = 0i64;
            while !stop.load(Ordering::Relaxed) {
                day += 1;
                let at = 1_735_689_600 + day * 86_400; // 2025-01-01 + days
                let as_of = chrono::DateTime::from_timestamp(at, 0)
                    .unwrap()
                    .to_rfc3339();
                let path = format!(
                    "/api/v1/accounts/{account}/plan/snapshots?as_of={}",
                    as_of.replace('+', "%2B")
                );
                match http(port, "POST", &path, &token, "") {
                    Some(201) => acks.lock().unwrap().snapshots.push(at),
                    Some(s) => panic!("snapshot refused with {s}: {path}"),
                    None => {}
                }
            }
        }));
    }

    // Let the writes run until a fair number is acknowledged, then kill.
    let started = Instant::now();
    loop {
        std::thread::sleep(Duration::from_millis(100));
        let a = acks.lock().unwrap();
        let acked_batches = a.batches.iter().filter(|b| b.1).count();
        if (a.singles.len() >= enough.singles
            && acked_batches >= enough.batches
            && !a.snapshots.is_empty())
            || started.elapsed() > enough.max_wait
        {
            break;
        }
    }
    let log = server.log();
    server.kill();
    stop.store(true, Ordering::Relaxed);
    for t in threads {
        t.join().unwrap();
    }
    let acks = Arc::try_unwrap(acks)
        .map_err(|_| "writers still hold the acks")
        .unwrap()
        .into_inner()
        .unwrap();
    let min_singles = enough.singles / 4;
    assert!(
        acks.singles.len() >= min_singles && !acks.snapshots.is_empty(),
        "too few writes acknowledged before the kill to test anything: {} singles (want {min_singles}), {} snapshots; server log:\n{log}",
        acks.singles.len(),
        acks.snapshots.len()
    );
    acks
}

/// Checks the restarted store: every acknowledged single, batch and
/// snapshot is there (`interactions` counts how many times an id is
/// stored, `snapshot` says whether the one at `as_of` is there and whole),
/// and every batch is all there or not at all. Returns a summary line.
pub fn check_recovered(
    acks: &Acks,
    mut interactions: impl FnMut(&str) -> i64,
    mut snapshot: impl FnMut(i64) -> bool,
) -> String {
    for id in &acks.singles {
        assert_eq!(
            interactions(id),
            1,
            "acknowledged interaction {id} was lost"
        );
    }
    let mut whole_unacked = 0;
    for (ids, acked) in &acks.batches {
        let n: i64 = ids.iter().map(|id| interactions(id)).sum();
        assert!(
            n == 0 || n == BATCH as i64,
            "batch {} is half there: {n} of {BATCH}",
            ids[0]
        );
        if *acked {
            assert_eq!(n, BATCH as i64, "acknowledged batch {} was lost", ids[0]);
        } else if n > 0 {
            // Written but the answer never arrived: allowed, and whole.
            whole_unacked += 1;
        }
    }
    for at in &acks.snapshots {
        assert!(snapshot(*at), "acknowledged snapshot at {at} was lost");
    }
    format!(
        "acknowledged before the kill: {} interactions, {} batches, {} snapshots; {} batches written but unanswered; {} requests broken off",
        acks.singles.len(),
        acks.batches.iter().filter(|b| b.1).count(),
        acks.snapshots.len(),
        whole_unacked,
        acks.failures
    )
}

#[test]
fn sigkill_of_serve_under_concurrent_writes_loses_no_acknowledged_write() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("serve.db");
    let server = Server::start(&db);
    let load = {
        let c = open(&db);
        let seller: String = c
            .query_row(
                "SELECT p.id FROM people p JOIN organizations o ON o.id = p.org_id WHERE o.is_ours = 1 ORDER BY p.id LIMIT 1",
                [],
                |r| r.get(0),
            )
            .unwrap();
        let account: String = c
            .query_row(
                "SELECT o.id FROM organizations o WHERE o.is_ours = 0 AND EXISTS (SELECT 1 FROM people p WHERE p.org_id = o.id) ORDER BY o.id LIMIT 1",
                [],
                |r| r.get(0),
            )
            .unwrap();
        let mut q = c
            .prepare("SELECT id FROM people WHERE org_id = ?1 ORDER BY id LIMIT 20")
            .unwrap();
        let customers: Vec<String> = q
            .query_map([&account], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        Load {
            seller,
            customers,
            account,
            id_prefix: "crash".into(),
        }
    };
    assert!(!load.customers.is_empty());
    let enough = Enough {
        singles: 200,
        batches: 200,
        max_wait: Duration::from_secs(60),
    };
    let acks = write_until_killed(server, &load, &enough);

    // The restarted server recovers the store (WAL replay) and serves it.
    let server = Server::start(&db);
    let c = open(&db);
    let ok: String = c
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(ok, "ok");
    let mut exists = c
        .prepare("SELECT count(*) FROM interactions WHERE id = ?1")
        .unwrap();
    let mut snapshot = c
        .prepare("SELECT body FROM plan_snapshots WHERE account_id = ?1 AND saved_at = ?2")
        .unwrap();
    let summary = check_recovered(
        &acks,
        |id| exists.query_row([id], |r| r.get(0)).unwrap(),
        |at| {
            let body: Option<String> = snapshot
                .query_row(rusqlite::params![load.account, at], |r| r.get(0))
                .ok();
            body.is_some_and(|b| serde_json::from_str::<serde_json::Value>(&b).is_ok())
        },
    );
    // Acknowledged writes are readable through the API after the restart.
    let path = format!("/api/v1/people/{}", load.seller);
    assert_eq!(
        http(server.port, "GET", &path, &server.token, ""),
        Some(200)
    );
    eprintln!("{summary}");
    server.kill();
}
