//! Mailbox header parsing speed (issue 7): splits an mbox and parses every
//! message's header block, as `renmai import` does, without a store.
//!
//!     python3 tests/bench/gen_mbox.py --messages 1000000 --out /tmp/bench.mbox
//!     cargo run --release --example mbox_parse -- /tmp/bench.mbox
//!
//! Prints two figures: the parse alone (split + header parse, MB/s and
//! messages/s) and the whole reader (also people and interactions into
//! `Observations`, as the import's first step).

use std::path::PathBuf;
use std::time::Instant;

use renmai::ingest::Observations;
use renmai::ingest::mail::{HeaderParser, header_end, read_mbox, split_mbox};

fn main() -> anyhow::Result<()> {
    let path: PathBuf = std::env::args_os()
        .nth(1)
        .map(PathBuf::from)
        .ok_or_else(|| anyhow::anyhow!("usage: mbox_parse FILE.mbox"))?;
    let bytes = std::fs::metadata(&path)?.len() as f64;
    let mb = bytes / 1e6;

    let parser = HeaderParser::new();
    let (mut messages, mut parsed, mut addresses) = (0u64, 0u64, 0u64);
    let t = Instant::now();
    split_mbox(
        std::fs::File::open(&path)?,
        &path.display().to_string(),
        |raw, _| {
            messages += 1;
            if let Some(h) = parser.parse(&raw[..header_end(raw)]) {
                parsed += 1;
                addresses += (h.from.len() + h.recipients.len()) as u64;
            }
        },
    )?;
    let s = t.elapsed().as_secs_f64();
    println!(
        "parse:  {mb:.0} MB, {messages} messages ({parsed} with headers, {addresses} addresses) in {s:.2} s: {:.0} MB/s, {:.0} messages/s",
        mb / s,
        messages as f64 / s
    );

    let mut out = Observations::new();
    let t = Instant::now();
    read_mbox(&path, &mut out)?;
    let s = t.elapsed().as_secs_f64();
    println!(
        "reader: {} interactions, {} people, {} skipped in {s:.2} s: {:.0} MB/s, {:.0} messages/s",
        out.interactions.len(),
        out.people.len(),
        out.skipped.len(),
        mb / s,
        messages as f64 / s
    );
    Ok(())
}
