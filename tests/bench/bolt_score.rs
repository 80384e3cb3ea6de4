//! Times scoring one account loaded from a Neo4j (Bolt) server: the first
//! call (slice read over Bolt + scoring), later cold calls (a fresh engine
//! each time, so nothing is cached) and warm calls (the engine's caches).
//!
//! ```sh
//! cargo run --release --example bolt_score -- ACCOUNT_ID [AS_OF]
//! ```
//! with `BOLT_URI`, `BOLT_USER`, `BOLT_PASSWORD`, `BOLT_DATABASE` set
//! (tests/bolt-server prints them).

use std::sync::Arc;
use std::time::Instant;

use renmai::engine::Engine;
use renmai::store::Store;
use renmai::store::neo4j::{Neo4jSettings, Neo4jStore};
use renmai_graph::{OrgId, Timestamp};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let account = OrgId::parse(&args.next().expect("usage: bolt_score ACCOUNT_ID [AS_OF]"))?;
    let as_of = match args.next() {
        Some(t) => Timestamp::parse(&t)?,
        None => Timestamp::parse("2026-01-01T00:00:00Z")?,
    };
    let var = |k: &str| std::env::var(k).ok();
    let settings = Neo4jSettings {
        uri: var("BOLT_URI").expect("BOLT_URI"),
        user: var("BOLT_USER").unwrap_or_else(|| "neo4j".into()),
        password: var("BOLT_PASSWORD").unwrap_or_default(),
        database: var("BOLT_DATABASE"),
        ..Neo4jSettings::default()
    };
    let store: Arc<dyn Store> = Arc::new(Neo4jStore::connect(&settings).await?);

    let ms = |t: Instant| t.elapsed().as_secs_f64() * 1e3;
    let mut cold = Vec::new();
    let mut load = Vec::new();
    for _ in 0..6 {
        let t = Instant::now();
        let data = store
            .account_data(&account)
            .await?
            .expect("no such account");
        load.push(ms(t));
        let engine = Engine::new(store.clone(), Default::default());
        let t = Instant::now();
        let s = engine.scores(&account, Some(as_of)).await?.expect("scores");
        cold.push(ms(t));
        if cold.len() == 1 {
            println!(
                "account {account}: {} people, {} interactions, {} stakeholders scored",
                data.people.len(),
                data.interactions.len(),
                s.stakeholders.len()
            );
        }
    }
    let engine = Engine::new(store.clone(), Default::default());
    engine.scores(&account, Some(as_of)).await?;
    let mut warm = Vec::new();
    for _ in 0..20 {
        let t = Instant::now();
        engine.scores(&account, Some(as_of)).await?;
        warm.push(ms(t));
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    println!(
        "slice read over Bolt: median {:.1} ms; cold score (read + score): first {:.1} ms, median {:.1} ms; warm (cached): median {:.3} ms",
        median(&mut load),
        cold[0],
        median(&mut cold.clone()),
        median(&mut warm)
    );
    Ok(())
}
