//! Crash safety: an import killed with SIGKILL part-way leaves the store
//! consistent, holding none or all of that import.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

use rusqlite::Connection;

const INTERACTIONS: usize = 150_000;

/// A bundle big enough that importing it takes a while.
fn write_large_bundle(dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(
        dir.join("organizations.csv"),
        "org_id,name,industry,region,is_ours\n0,Us,Software,EMEA,1\n1,Big Customer,Retail,NA,0\n",
    )
    .unwrap();
    let mut people = String::from("person_id,org_id,name,title,level,department,role,reports_to\n");
    for s in 1..=10 {
        people.push_str(&format!(
            "{s},0,Seller {s},Account Executive,4,Sales,none,\n"
        ));
    }
    for c in 100..600 {
        let boss = if c == 100 {
            String::new()
        } else {
            ((c - 100) / 4 + 100).to_string()
        };
        let boss = if boss == c.to_string() {
            String::new()
        } else {
            boss
        };
        people.push_str(&format!("{c},1,Person {c},Manager,4,IT,none,{boss}\n"));
    }
    std::fs::write(dir.join("people.csv"), people).unwrap();
    let f = std::fs::File::create(dir.join("interactions.csv")).unwrap();
    let mut w = std::io::BufWriter::new(f);
    writeln!(
        w,
        "interaction_id,from_person,to_person,kind,timestamp,direction"
    )
    .unwrap();
    for i in 0..INTERACTIONS {
        let s = 1 + i % 10;
        let c = 100 + (i * 7) % 500;
        let day = 1 + i % 28;
        writeln!(
            w,
            "{},{s},{c},email,2025-03-{day:02}T10:00:00Z,outbound",
            i + 1
        )
        .unwrap();
    }
}

fn renmai(db: &Path, bundle: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_renmai"));
    cmd.args(["--quiet", "--db"])
        .arg(db)
        .arg("import")
        .arg(bundle);
    cmd.stdout(Stdio::null()).stderr(Stdio::null());
    cmd
}

fn count(db: &Path) -> (i64, i64) {
    let c = Connection::open(db).unwrap();
    let ok: String = c
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(ok, "ok");
    let fk: i64 = c
        .query_row("SELECT count(*) FROM pragma_foreign_key_check", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(fk, 0, "foreign keys broken");
    let n: i64 = c
        .query_row("SELECT count(*) FROM interactions", [], |r| r.get(0))
        .unwrap();
    // Every interaction of the import is filed under its account.
    let p: i64 = c
        .query_row(
            "SELECT count(*) FROM interactions WHERE account_id = '1'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    // ... and listed under it for reading by account, in the same transaction.
    let listed: i64 = c
        .query_row(
            "SELECT count(*) FROM interactions_by_account WHERE account_id = '1'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(listed, p, "interactions_by_account is out of step");
    (n, p)
}

#[test]
fn sigkill_during_import_leaves_none_or_all() {
    let tmp = tempfile::tempdir().unwrap();
    let bundle = tmp.path().join("bundle");
    write_large_bundle(&bundle);

    // How long a whole import takes here, to aim the kills.
    let full_db = tmp.path().join("full.db");
    let start = Instant::now();
    assert!(renmai(&full_db, &bundle).status().unwrap().success());
    let full = start.elapsed();
    assert_eq!(count(&full_db), (INTERACTIONS as i64, INTERACTIONS as i64));

    let mut killed_mid_way = 0;
    for (k, delay_ms) in [0u64, 40, 120, 250, 400].into_iter().enumerate() {
        let db = tmp.path().join(format!("kill{k}.db"));
        // The child logs "bundle read" when parsing is done and the store
        // transaction begins; the kill lands at a chosen delay after that.
        let mut child = renmai(&db, &bundle)
            .env("RUST_LOG", "renmai=debug")
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = child.stderr.take().unwrap();
        let mut lines = std::io::BufRead::lines(std::io::BufReader::new(stderr));
        let started = lines.any(|l| l.map(|l| l.contains("bundle read")).unwrap_or(false));
        assert!(started, "the import never reached the store");
        std::thread::sleep(std::time::Duration::from_millis(delay_ms));
        if child.try_wait().unwrap().is_none() {
            child.kill().unwrap(); // SIGKILL
            killed_mid_way += 1;
        }
        child.wait().unwrap();
        let (n, p) = count(&db);
        assert!(
            (n, p) == (0, 0) || (n, p) == (INTERACTIONS as i64, INTERACTIONS as i64),
            "half an import survived: {n} interactions, {p} filed under the account"
        );
        // The store still works: the import can be run again to completion.
        assert!(renmai(&db, &bundle).status().unwrap().success());
        assert_eq!(count(&db).0, INTERACTIONS as i64);
    }
    assert!(
        killed_mid_way >= 3,
        "only {killed_mid_way} kills landed during the import; it ran {full:?}"
    );
}

/// Messages of the mailbox killed during its import.
const MESSAGES: usize = 60_000;

/// An mbox of `MESSAGES` messages between our sellers and 2,000 customers
/// of 40 companies.
fn write_mbox(path: &Path) {
    let f = std::fs::File::create(path).unwrap();
    let mut w = std::io::BufWriter::new(f);
    for i in 0..MESSAGES {
        let seller = format!("seller{}@renmai-seller.example", i % 10);
        let customer = format!("person{}@company{}.example", i % 2000, i % 40);
        let (from, to) = if i % 3 == 0 {
            (&customer, &seller)
        } else {
            (&seller, &customer)
        };
        writeln!(
            w,
            "From {from} Mon Mar  3 09:00:00 2025\nFrom: {from}\nTo: {to}\nDate: Mon, 3 Mar 2025 09:{:02}:{:02} +0000\nMessage-ID: <crash-{i}@example.com>\nSubject: s\n\nbody\n",
            (i / 60) % 60,
            i % 60
        )
        .unwrap();
    }
}

fn mail_counts(db: &Path) -> (i64, i64) {
    let c = Connection::open(db).unwrap();
    let ok: String = c
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(ok, "ok");
    let n: i64 = c
        .query_row("SELECT count(*) FROM interactions", [], |r| r.get(0))
        .unwrap();
    let people: i64 = c
        .query_row("SELECT count(*) FROM person_emails", [], |r| r.get(0))
        .unwrap();
    (n, people)
}

#[test]
fn sigkill_during_a_mailbox_import_leaves_none_or_all() {
    let tmp = tempfile::tempdir().unwrap();
    let mbox = tmp.path().join("inbox.mbox");
    write_mbox(&mbox);
    let config = tmp.path().join("renmai.toml");
    std::fs::write(
        &config,
        "[ingest]\nour_domains = [\"renmai-seller.example\"]\n",
    )
    .unwrap();
    let import = |db: &Path| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_renmai"));
        cmd.arg("--quiet")
            .arg("--config")
            .arg(&config)
            .arg("--db")
            .arg(db)
            .arg("import")
            .arg(&mbox)
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        cmd
    };

    let full_db = tmp.path().join("full.db");
    let start = Instant::now();
    assert!(import(&full_db).status().unwrap().success());
    let full_time = start.elapsed();
    let full = mail_counts(&full_db);
    assert_eq!(full.0, MESSAGES as i64);

    let mut killed = 0;
    // Spread over the whole run: on a busy machine the store's transaction
    // (its last part) moves around.
    for (k, share) in [0.3, 0.5, 0.65, 0.8, 0.9, 0.97].into_iter().enumerate() {
        let db = tmp.path().join(format!("kill{k}.db"));
        let mut child = import(&db).spawn().unwrap();
        std::thread::sleep(full_time.mul_f64(share));
        if child.try_wait().unwrap().is_none() {
            child.kill().unwrap(); // SIGKILL
            killed += 1;
        }
        child.wait().unwrap();
        let got = if db.exists() {
            mail_counts(&db)
        } else {
            (0, 0)
        };
        assert!(
            got == (0, 0) || got == full,
            "half a mailbox import survived: {got:?} of {full:?}"
        );
        // Importing again completes it.
        assert!(import(&db).status().unwrap().success());
        assert_eq!(mail_counts(&db), full);
    }
    assert!(
        killed >= 2,
        "only {killed} kills landed during the import; it ran {full_time:?}"
    );
}
