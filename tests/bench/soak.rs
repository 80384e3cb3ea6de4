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
//!          [--rss-growth-mb 64] [--connections 128]
//!
//! Exits non-zero when a request failed (an error status or a broken
//! connection) or the server's RSS grew by more than `--rss-growth-mb`
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
}

fn kind_name(k: Kind) -> &'static str {
    match k {
        Kind::Page => "page",
        Kind::ApiRead => "api read",
        Kind::Write => "write",
    }
}

fn rss_kb(pid: u32) -> anyhow::Result<u64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .with_context(|| format!("the server (pid {pid}) is gone"))?;
    s.lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .context("no VmRSS")
}

fn pct(v: &mut [u64], p: f64) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    v.sort_unstable();
    let i = ((v.len() as f64 * p).ceil() as usize).clamp(1, v.len()) - 1;
    v[i] as f64 / 1000.0
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let a = Arc::new(args()?);
    let results = Arc::new(Mutex::new(Results::default()));
    let (tx, rx) = mpsc::channel::<Request>(100_000);
    let rx = Arc::new(Mutex::new(rx));
    let answered = Arc::new(AtomicU64::new(0));
    let mut workers = Vec::new();
    for _ in 0..a.connections {
        let (rx, results, addr, answered) = (
            rx.clone(),
            results.clone(),
            a.addr.clone(),
            answered.clone(),
        );
        workers.push(tokio::spawn(async move {
            let mut conn: Option<BufReader<TcpStream>> = None;
            loop {
                let Some(req) = rx.lock().await.recv().await else {
                    return;
                };
                if conn.is_none() {
                    match TcpStream::connect(&addr).await {
                        Ok(s) => {
                            let _ = s.set_nodelay(true);
                            conn = Some(BufReader::new(s));
                        }
                        Err(e) => {
                            results.lock().await.errors.push(format!("connect: {e}"));
                            continue;
                        }
                    }
                }
                let c = conn.as_mut().expect("connected above");
                let r = exchange(c, &req.text).await;
                let took = req.due.elapsed().as_micros() as u64;
                answered.fetch_add(1, Ordering::Relaxed);
                let mut res = results.lock().await;
                match r {
                    Ok(s) if (200..400).contains(&s) => res
                        .latencies
                        .entry(kind_name(req.kind))
                        .or_default()
                        .push(took),
                    Ok(s) => res
                        .errors
                        .push(format!("{} answered {s}", kind_name(req.kind))),
                    Err(e) => {
                        res.errors.push(format!("{}: {e}", kind_name(req.kind)));
                        conn = None;
                    }
                }
            }
        }));
    }

    // RSS every 5 s, and the achieved rate.
    let rss_samples = Arc::new(Mutex::new(Vec::<(u64, u64)>::new()));
    let sampler = {
        let (rss_samples, pid, answered) = (rss_samples.clone(), a.pid, answered.clone());
        let seconds = a.seconds;
        tokio::spawn(async move {
            let start = Instant::now();
            let mut tick = tokio::time::interval(Duration::from_secs(5));
            let mut last = 0;
            loop {
                tick.tick().await;
                let t = start.elapsed().as_secs();
                let Ok(kb) = rss_kb(pid) else { return };
                let n = answered.load(Ordering::Relaxed);
                eprintln!(
                    "t={t:>4}s rss={:>6.1} MB answered/s={:>6.0}",
                    kb as f64 / 1024.0,
                    (n - last) as f64 / 5.0
                );
                last = n;
                rss_samples.lock().await.push((t, kb));
                if t > seconds + 5 {
                    return;
                }
            }
        })
    };

    let start = Instant::now();
    let total = a.rate * a.seconds;
    let mut late = 0u64;
    for n in 0..total {
        let due = start + Duration::from_nanos(n * 1_000_000_000 / a.rate);
        let now = Instant::now();
        if due > now {
            tokio::time::sleep_until(due.into()).await;
        } else if now - due > Duration::from_millis(100) {
            late += 1;
        }
        if tx.send(request(n, &a, due)).await.is_err() {
            bail!("the workers stopped");
        }
    }
    drop(tx);
    for w in workers {
        w.await?;
    }
    let elapsed = start.elapsed().as_secs_f64();
    sampler.abort();

    let mut res = results.lock().await;
    let samples = rss_samples.lock().await.clone();
    let ok: usize = res.latencies.values().map(Vec::len).sum();
    println!(
        "sent {total} requests in {elapsed:.1} s: {:.0} req/s answered; {} errors; {late} requests sent over 100 ms late (generator starved)",
        (ok + res.errors.len()) as f64 / elapsed,
        res.errors.len()
    );
    let mut all: Vec<u64> = res.latencies.values().flatten().copied().collect();
    println!(
        "latency from due time, all: p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        pct(&mut all, 0.5),
        pct(&mut all, 0.99),
        pct(&mut all, 1.0)
    );
    for (k, v) in res.latencies.iter_mut() {
        println!(
            "  {k:<9} {:>8} ok  p50 {:>7.1} ms  p99 {:>7.1} ms",
            v.len(),
            pct(v, 0.5),
            pct(v, 0.99)
        );
    }
    for e in res.errors.iter().take(10) {
        println!("  error: {e}");
    }
    let after_warmup = samples.iter().find(|(t, _)| *t >= a.warmup).map(|s| s.1);
    let last = samples.last().map(|s| s.1);
    let peak = samples.iter().map(|s| s.1).max().unwrap_or(0);
    let (Some(base), Some(end)) = (after_warmup, last) else {
        bail!("too few RSS samples (run longer than the warm-up)");
    };
    let growth_mb = (end as f64 - base as f64) / 1024.0;
    println!(
        "server RSS: {:.1} MB after the {} s warm-up, {:.1} MB at the end ({growth_mb:+.1} MB; bound {} MB), peak {:.1} MB",
        base as f64 / 1024.0,
        a.warmup,
        end as f64 / 1024.0,
        a.rss_growth_mb,
        peak as f64 / 1024.0
    );
    if !res.errors.is_empty() {
        bail!("{} requests failed", res.errors.len());
    }
    if growth_mb > a.rss_growth_mb as f64 {
        bail!(
            "the server's RSS grew by {growth_mb:.1} MB after the warm-up (bound {} MB)",
            a.rss_growth_mb
        );
    }
    Ok(())
}
