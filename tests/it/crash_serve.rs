//! Crash safety of a running server (issue 10): `renmai serve` killed with
//! SIGKILL while many clients write interactions (one at a time and in
//! batches) and save plan snapshots. After the restart every write that
//! was acknowledged with a 2xx is there, and no batch is half there.
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
const BATCH: usize = 5;
/// Concurrent writers of interactions.
const WRITERS: usize = 8;

struct Server {
    child: Child,
    port: u16,
    token: String,
}

impl Server {
    /// `renmai serve --demo` on a free port; waits until it answers.
    fn start(db: &Path) -> Server {
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let mut child = Command::new(env!("CARGO_BIN_EXE_renmai"))
            .arg("--db")
            .arg(db)
            .args(["serve", "--demo", "--addr", &format!("127.0.0.1:{port}")])
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = child.stderr.take().unwrap();
        let mut lines = BufReader::new(stderr).lines();
        let token = lines
            .by_ref()
            .map_while(Result::ok)
            .find_map(|l| {
                l.find("rm_")
                    .map(|i| l[i..].split_whitespace().next().unwrap().to_owned())
            })
            .expect("serve --demo printed no token");
        // Keep draining stderr so the server never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        let deadline = Instant::now() + Duration::from_secs(60);
        while http(port, "GET", "/healthz", "", "") != Some(200) {
            assert!(Instant::now() < deadline, "the server did not come up");
            std::thread::sleep(Duration::from_millis(50));
        }
        Server { child, port, token }
    }

    fn kill(mut self) {
        self.child.kill().unwrap(); // SIGKILL
        self.child.wait().unwrap();
    }
}

/// One request on its own connection; the status code, or `None` when the
/// exchange broke off before a status line arrived (not acknowledged).
fn http(port: u16, method: &str, path: &str, token: &str, body: &str) -> Option<u16> {
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

#[derive(Default)]
struct Acks {
    singles: Vec<String>,
    /// Every batch sent: its ids and whether it was acknowledged.
    batches: Vec<(Vec<String>, bool)>,
    snapshots: Vec<i64>,
    failures: usize,
}

#[test]
fn sigkill_of_serve_under_concurrent_writes_loses_no_acknowledged_write() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("serve.db");
    let server = Server::start(&db);
    let (seller, customers, account) = {
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
        (seller, customers, account)
    };
    assert!(!customers.is_empty());

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
        let (seller, customers) = (seller.clone(), customers.clone());
        threads.push(std::thread::spawn(move || {
            let mut i = 0;
            while !stop.load(Ordering::Relaxed) {
                i += 1;
                let customer = &customers[(w + i) % customers.len()];
                if i % 2 == 0 {
                    let id = format!("crash-{w}-{i}");
                    let body = interaction(&id, &seller, customer, i);
                    match http(port, "POST", "/api/v1/interactions", &token, &body) {
                        Some(s) if (200..300).contains(&s) => acks.lock().unwrap().singles.push(id),
                        Some(s) => panic!("write refused with {s}: {body}"),
                        None => acks.lock().unwrap().failures += 1,
                    }
                } else {
                    let ids: Vec<String> =
                        (0..BATCH).map(|b| format!("crash-{w}-{i}-b{b}")).collect();
                    let items: Vec<String> = ids
                        .iter()
                        .enumerate()
                        .map(|(b, id)| interaction(id, &seller, customer, i + b))
                        .collect();
                    let body = format!(r#"{{"interactions":[{}]}}"#, items.join(","));
                    let status = http(port, "POST", "/api/v1/interactions/batch", &token, &body);
                    if let Some(s) = status {
                        assert!((200..300).contains(&s), "batch refused with {s}");
                    }
                    acks.lock().unwrap().batches.push((ids, status.is_some()));
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
            account.clone(),
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
        if (a.singles.len() >= 200 && acked_batches >= 200 && !a.snapshots.is_empty())
            || started.elapsed() > Duration::from_secs(60)
        {
            break;
        }
    }
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
    assert!(
        acks.singles.len() >= 50 && !acks.snapshots.is_empty(),
        "too few writes acknowledged before the kill to test anything: {} singles, {} snapshots",
        acks.singles.len(),
        acks.snapshots.len()
    );

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
    let mut count = |id: &str| -> i64 { exists.query_row([id], |r| r.get(0)).unwrap() };
    for id in &acks.singles {
        assert_eq!(count(id), 1, "acknowledged interaction {id} was lost");
    }
    let mut whole_unacked = 0;
    for (ids, acked) in &acks.batches {
        let n: i64 = ids.iter().map(|id| count(id)).sum();
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
        let body: String = c
            .query_row(
                "SELECT body FROM plan_snapshots WHERE account_id = ?1 AND saved_at = ?2",
                rusqlite::params![account, at],
                |r| r.get(0),
            )
            .unwrap_or_else(|e| panic!("acknowledged snapshot at {at} was lost: {e}"));
        serde_json::from_str::<serde_json::Value>(&body).expect("a snapshot is whole JSON");
    }
    // Acknowledged writes are readable through the API after the restart.
    let path = format!("/api/v1/people/{seller}");
    assert_eq!(
        http(server.port, "GET", &path, &server.token, ""),
        Some(200)
    );
    eprintln!(
        "acknowledged before the kill: {} interactions, {} batches, {} snapshots; {} batches written but unanswered; {} requests broken off",
        acks.singles.len(),
        acks.batches.iter().filter(|b| b.1).count(),
        acks.snapshots.len(),
        whole_unacked,
        acks.failures
    );
    server.kill();
}
