//! Soak load generator (issue 10): a fixed rate of mixed reads (pages and
//! API reads) and writes (API interaction writes) against a running
//! `renmai serve`, for a fixed time, sampling the server's RSS. Run by
//! `tests/bench/soak.sh`, which starts the server; see the README's
//! Benchmarks section.
//!
//! Open loop: request n is due at start + n/rate whatever happened to the
//! ones before, and its latency is counted from when it was due, so a
//! stalled server shows in the percentiles (no coordinated omission).
//! Plain HTTP/1.1 with keep-alive over a pool of connections (no client
//! crate).
//!
//!     soak --addr 127.0.0.1:8080 --token T --pid PID --seller P --customers A,B \
//!          --accounts X,Y [--rate 1000] [--seconds 600] [--warmup 60] \
//!          [--rss-growth-mb 64] [--connections 128] [--grace 10]
//!
//! The run ends at its deadline (`--seconds`) whatever the server does:
//! requests still queued then are not sent but counted ("not sent in
//! time"), and those in flight get `--grace` seconds (10) to be answered
//! before they are counted as not answered. So a server that cannot keep
//! up gives a clear result instead of a run that never ends.
//!
//! Exits non-zero when a request failed (an error status or a broken
//! connection), a request sent was not answered within the grace, the
//! achieved rate (requests answered with success per second) is below 95%
//! of `--rate`, or the server's heap (`RssAnon`: its resident memory less the
//! mapped database file) grew by more than `--rss-growth-mb`
//! between the end of the warm-up and the end of the run.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::sync::{Mutex, mpsc};

struct Args {
    addr: String,
    token: String,
    pid: u32,
    seller: String,
    customers: Vec<String>,
    accounts: Vec<String>,
    rate: u64,
    seconds: u64,
    warmup: u64,
    rss_growth_mb: u64,
    connections: usize,
    grace: u64,
}

fn args() -> anyhow::Result<Args> {
    let mut a = std::env::args().skip(1);
    let mut m = std::collections::HashMap::new();
    while let Some(k) = a.next() {
        let v = a.next().with_context(|| format!("{k} needs a value"))?;
        m.insert(k.trim_start_matches("--").to_owned(), v);
    }
    let req = |k: &str| {
        m.get(k)
            .cloned()
            .with_context(|| format!("--{k} is required"))
    };
    let num = |k: &str, d: u64| -> anyhow::Result<u64> {
        m.get(k)
            .map(|v| v.parse().with_context(|| format!("--{k}: a number")))
            .unwrap_or(Ok(d))
    };
    let list = |k: &str| -> anyhow::Result<Vec<String>> {
        Ok(req(k)?.split(',').map(str::to_owned).collect())
    };
    Ok(Args {
        addr: req("addr")?,
        token: req("token")?,
        pid: req("pid")?.parse().context("--pid: a process id")?,
        seller: req("seller")?,
        customers: list("customers")?,
        accounts: list("accounts")?,
        rate: num("rate", 1000)?,
        seconds: num("seconds", 600)?,
        warmup: num("warmup", 60)?,
        rss_growth_mb: num("rss-growth-mb", 64)?,
        connections: num("connections", 128)? as usize,
        grace: num("grace", 10)?,
    })
}

/// One request of the mix: reads of pages and of the API, and writes.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
enum Kind {
    Page,
    ApiRead,
    Write,
}

struct Request {
    kind: Kind,
    text: Vec<u8>,
    due: Instant,
}

/// The n-th request of the mix: 2 in 10 are writes (a call logged now), 3
/// page reads, 5 API reads, spread over the accounts and people given.
fn request(n: u64, a: &Args, due: Instant) -> Request {
    let acc = &a.accounts[(n as usize / 10) % a.accounts.len()];
    let customer = &a.customers[(n as usize / 10) % a.customers.len()];
    let (kind, method, path, body) = match n % 10 {
        0 | 5 => {
            // Logged as it happens, as a CRM syncing its activities does.
            let at = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ");
            let body = format!(
                r#"{{"id":"soak-{n}","kind":"call","at":"{at}","initiator":"{s}","participants":["{s}","{customer}"]}}"#,
                s = a.seller
            );
            (Kind::Write, "POST", "/api/v1/interactions".to_owned(), body)
        }
        1 => (Kind::Page, "GET", "/".to_owned(), String::new()),
        2 => (Kind::Page, "GET", format!("/accounts/{acc}"), String::new()),
        3 => (
            Kind::Page,
            "GET",
            format!("/people/{customer}"),
            String::new(),
        ),
        4 => (
            Kind::ApiRead,
            "GET",
            "/api/v1/accounts".to_owned(),
            String::new(),
        ),
        6 => (
            Kind::ApiRead,
            "GET",
            format!("/api/v1/accounts/{acc}"),
            String::new(),
        ),
        7 => (
            Kind::ApiRead,
            "GET",
            format!("/api/v1/accounts/{acc}/stakeholders"),
            String::new(),
        ),
        8 => (
            Kind::ApiRead,
            "GET",
            format!("/api/v1/people/{customer}"),
            String::new(),
        ),
        _ => (
            Kind::ApiRead,
            "GET",
            format!("/api/v1/accounts/{acc}/coverage"),
            String::new(),
        ),
    };
    let text = format!(
        "{method} {path} HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        a.addr,
        a.token,
        body.len()
    );
    Request {
        kind,
        text: text.into_bytes(),
        due,
    }
}

/// Sends one request on a kept-alive connection and reads the whole
/// response; the status code.
async fn exchange(conn: &mut BufReader<TcpStream>, req: &[u8]) -> anyhow::Result<u16> {
    conn.get_mut().write_all(req).await?;
    let mut line = String::new();
    if conn.read_line(&mut line).await? == 0 {
        bail!("connection closed");
    }
    let status: u16 = line
        .get(9..12)
        .and_then(|s| s.parse().ok())
        .with_context(|| format!("bad status line {line:?}"))?;
    let (mut length, mut chunked) = (None, false);
    loop {
        line.clear();
        conn.read_line(&mut line).await?;
        let l = line.trim_end();
        if l.is_empty() {
            break;
        }
        let lower = l.to_ascii_lowercase();
        if let Some(v) = lower.strip_prefix("content-length:") {
            length = v.trim().parse::<usize>().ok();
        } else if lower.starts_with("transfer-encoding:") && lower.contains("chunked") {
            chunked = true;
        }
    }
    if chunked {
        loop {
            line.clear();
            conn.read_line(&mut line).await?;
            let size = usize::from_str_radix(line.trim(), 16).context("chunk size")?;
            let mut skip = vec![0; size + 2];
            conn.read_exact(&mut skip).await?;
            if size == 0 {
                break;
            }
        }
    } else if let Some(n) = length {
        let mut skip = vec![0; n];
        conn.read_exact(&mut skip).await?;
    }
    Ok(status)
}

#[derive(Default)]
struct Results {
    /// Microseconds from due to answered, by kind.
    latencies: std::collections::HashMap<&'static str, Vec<u64>>,
    errors: Vec<String>,
    /// Due before the deadline but still queued at it: never sent.
    not_sent: u64,
    /// Sent but not answered by the end of the grace.
    not_answered: u64,
}

fn kind_name(k: Kind) -> &'static str {
    match k {
        Kind::Page => "page",
        Kind::ApiRead => "api read",
        Kind::Write => "write",
    }
}

/// The server's resident memory in kB: all of it, and its heap alone
/// (`RssAnon`). The rest is mostly the database file mapped by SQLite
/// (`mmap_size`): page cache that grows with the file and the kernel can
/// drop, so the bound is on the heap.
fn rss_kb(pid: u32) -> anyhow::Result<(u64, u64)> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .with_context(|| format!("the server (pid {pid}) is gone"))?;
    let field = |name: &str| {
        s.lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .with_context(|| format!("no {name} in /proc/{pid}/status"))
    };
    Ok((field("VmRSS:")?, field("RssAnon:")?))
}

/// The `p` quantile of sorted microseconds, in milliseconds.
fn pct(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i] as f64 / 1000.0
}

/// One line of latencies: count, p50, p99 and max.
fn latency_line(name: &str, v: &mut [u64]) -> String {
    v.sort_unstable();
    format!(
        "  {name:<9} {:>8} ok  p50 {:>8.1} ms  p99 {:>8.1} ms  max {:>8.1} ms",
        v.len(),
        pct(v, 0.5),
        pct(v, 0.99),
        pct(v, 1.0)
    )
}

/// Takes requests off the queue and sends them on one kept-alive
/// connection until the queue closes. After `deadline` nothing more is
/// sent (a queued request is counted as not sent); an exchange still
/// unanswered at `answer_by` is counted as not answered.
async fn worker(
    rx: Arc<Mutex<mpsc::Receiver<Request>>>,
    results: Arc<Mutex<Results>>,
    addr: String,
    answered: Arc<AtomicU64>,
    deadline: Instant,
    answer_by: Instant,
) {
    let mut conn: Option<BufReader<TcpStream>> = None;
    loop {
        let Some(req) = rx.lock().await.recv().await else {
            return;
        };
        if Instant::now() >= deadline {
            results.lock().await.not_sent += 1;
            continue;
        }
        if conn.is_none() {
            match tokio::time::timeout_at(answer_by.into(), TcpStream::connect(&addr)).await {
                Ok(Ok(s)) => {
                    let _ = s.set_nodelay(true);
                    conn = Some(BufReader::new(s));
                }
                Ok(Err(e)) => {
                    results.lock().await.errors.push(format!("connect: {e}"));
                    continue;
                }
                Err(_elapsed) => {
                    results.lock().await.not_sent += 1;
                    continue;
                }
            }
        }
        let c = conn.as_mut().expect("connected above");
        let r = tokio::time::timeout_at(answer_by.into(), exchange(c, &req.text)).await;
        let took = req.due.elapsed().as_micros() as u64;
        let mut res = results.lock().await;
        match r {
            Err(_elapsed) => {
                res.not_answered += 1;
                conn = None;
                continue;
            }
            Ok(Ok(s)) if (200..400).contains(&s) => {
                answered.fetch_add(1, Ordering::Relaxed);
                res.latencies
                    .entry(kind_name(req.kind))
                    .or_default()
                    .push(took)
            }
            Ok(Ok(s)) => {
                answered.fetch_add(1, Ordering::Relaxed);
                res.errors
                    .push(format!("{} answered {s}", kind_name(req.kind)))
            }
            Ok(Err(e)) => {
                res.errors.push(format!("{}: {e}", kind_name(req.kind)));
                conn = None;
            }
        }
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let a = Arc::new(args()?);
    let results = Arc::new(Mutex::new(Results::default()));
    let (tx, rx) = mpsc::channel::<Request>(100_000);
    let rx = Arc::new(Mutex::new(rx));
    let answered = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let deadline = start + Duration::from_secs(a.seconds);
    let answer_by = deadline + Duration::from_secs(a.grace);
    let workers: Vec<_> = (0..a.connections)
        .map(|_| {
            tokio::spawn(worker(
                rx.clone(),
                results.clone(),
                a.addr.clone(),
                answered.clone(),
                deadline,
                answer_by,
            ))
        })
        .collect();

    // RSS every 5 s, and the rate answered.
    // (seconds, heap kB); the whole RSS is only printed.
    let rss_samples = Arc::new(Mutex::new(Vec::<(u64, u64)>::new()));
    let sampler = {
        let (rss_samples, pid, answered) = (rss_samples.clone(), a.pid, answered.clone());
        let seconds = a.seconds;
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(5));
            let mut last = 0;
            loop {
                tick.tick().await;
                let t = start.elapsed().as_secs();
                let Ok((kb, heap)) = rss_kb(pid) else { return };
                let n = answered.load(Ordering::Relaxed);
                eprintln!(
                    "t={t:>4}s rss={:>6.1} MB heap={:>6.1} MB answered/s={:>6.0}",
                    kb as f64 / 1024.0,
                    heap as f64 / 1024.0,
                    (n - last) as f64 / 5.0
                );
                last = n;
                rss_samples.lock().await.push((t, heap));
                if t > seconds + 5 {
                    return;
                }
            }
        })
    };

    // Open loop until the deadline; a full queue does not hold it past it.
    let total = a.rate * a.seconds;
    let (mut queued, mut late) = (0u64, 0u64);
    for n in 0..total {
        let due = start + Duration::from_nanos(n * 1_000_000_000 / a.rate);
        let now = Instant::now();
        if due > now {
            tokio::time::sleep_until(due.into()).await;
        } else if now - due > Duration::from_millis(100) {
            late += 1;
        }
        match tokio::time::timeout_at(deadline.into(), tx.send(request(n, &a, due))).await {
            Ok(Ok(())) => queued += 1,
            Ok(Err(_)) => bail!("the workers stopped"),
            Err(_past_deadline) => break,
        }
    }
    // Never queued because the queue stayed full until the deadline.
    let never_queued = total - queued;
    drop(tx);
    for w in workers {
        w.await?;
    }
    let elapsed = start.elapsed().as_secs_f64();
    sampler.abort();

    let mut res = results.lock().await;
    res.not_sent += never_queued;
    let samples = rss_samples.lock().await.clone();
    let ok: usize = res.latencies.values().map(Vec::len).sum();
    // Successful answers per second of the run (the grace included when used).
    let achieved = ok as f64 / elapsed.max(a.seconds as f64);
    println!(
        "planned {total} requests at {} req/s for {} s; ran {elapsed:.1} s",
        a.rate, a.seconds
    );
    println!(
        "achieved {achieved:.0} req/s answered with success ({:.1}% of the target; 95% needed); {} errors",
        100.0 * achieved / a.rate as f64,
        res.errors.len()
    );
    println!(
        "{} requests not sent in time (still queued at the deadline), {} sent but not answered within the {} s grace; {late} requests sent over 100 ms late (generator starved)",
        res.not_sent, res.not_answered, a.grace
    );
    let mut all: Vec<u64> = res.latencies.values().flatten().copied().collect();
    println!("latency from due time:");
    println!("{}", latency_line("all", &mut all));
    let mut kinds: Vec<_> = res.latencies.iter_mut().collect();
    kinds.sort_by_key(|(k, _)| **k);
    for (k, v) in kinds {
        println!("{}", latency_line(k, v));
    }
    for e in res.errors.iter().take(10) {
        println!("  error: {e}");
    }
    let mut failures = Vec::new();
    if !res.errors.is_empty() {
        failures.push(format!("{} requests failed", res.errors.len()));
    }
    if res.not_sent + res.not_answered > 0 {
        failures.push(format!(
            "{} requests not sent and {} not answered in time",
            res.not_sent, res.not_answered
        ));
    }
    if achieved < 0.95 * a.rate as f64 {
        failures.push(format!(
            "achieved {achieved:.0} req/s, below 95% of the target {} req/s",
            a.rate
        ));
    }
    let after_warmup = samples.iter().find(|(t, _)| *t >= a.warmup).map(|s| s.1);
    let last = samples.last().map(|s| s.1);
    let peak = samples.iter().map(|s| s.1).max().unwrap_or(0);
    match (after_warmup, last) {
        (Some(base), Some(end)) => {
            let growth_mb = (end as f64 - base as f64) / 1024.0;
            println!(
                "server heap (RssAnon): {:.1} MB after the {} s warm-up, {:.1} MB at the end ({growth_mb:+.1} MB; bound {} MB), peak {:.1} MB",
                base as f64 / 1024.0,
                a.warmup,
                end as f64 / 1024.0,
                a.rss_growth_mb,
                peak as f64 / 1024.0
            );
            if growth_mb > a.rss_growth_mb as f64 {
                failures.push(format!(
                    "the server's heap grew by {growth_mb:.1} MB after the warm-up (bound {} MB)",
                    a.rss_growth_mb
                ));
            }
        }
        _ => failures.push("too few RSS samples (run longer than the warm-up)".into()),
    }
    if !failures.is_empty() {
        // A verdict, not a crash: no backtrace.
        println!("soak FAILED: {}", failures.join("; "));
        std::process::exit(1);
    }
    println!("soak passed");
    Ok(())
}
