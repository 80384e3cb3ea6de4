//! Times each stage of scoring one account (`renmai_graph::score_account`)
//! on data read from an embedded store, to see where a cold score's time
//! goes. The stages are the ones `score_account` runs, in its order.
//!
//! ```sh
//! cargo run --release --example score_stages -- DB ACCOUNT_ID [AS_OF] [RUNS]
//! ```

use std::time::Instant;

use renmai::store::Store;
use renmai::store::sqlite::SqliteStore;
use renmai_graph::closeness::{account_ties, our_closeness, stakeholder_links};
use renmai_graph::coverage::coverage;
use renmai_graph::influence::account_influence;
use renmai_graph::next::next_approaches;
use renmai_graph::paths::PathGraph;
use renmai_graph::{OrgId, ScoringConfig, Timestamp};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let usage = "usage: score_stages DB ACCOUNT_ID [AS_OF] [RUNS]";
    let db = args.next().expect(usage);
    let account = OrgId::parse(&args.next().expect(usage))?;
    let as_of = Timestamp::parse(&args.next().unwrap_or("2026-01-01T00:00:00Z".into()))?;
    let runs: usize = args.next().map(|r| r.parse()).transpose()?.unwrap_or(10);
    let store = SqliteStore::open(std::path::Path::new(&db))?;
    let data = renmai::access::unrestricted(store.account_data(&account))
        .await?
        .expect("no such account");
    println!(
        "account {account}: {} people, {} interactions",
        data.people.len(),
        data.interactions.len()
    );
    let cfg = ScoringConfig::default();
    let names = [
        "ties",
        "ours",
        "influence",
        "links",
        "path graph",
        "best paths",
        "coverage",
        "next",
        "whole score_account",
    ];
    let mut times = vec![Vec::new(); names.len()];
    let ms = |t: Instant| t.elapsed().as_secs_f64() * 1e3;
    for _ in 0..runs {
        let t = Instant::now();
        let ties = account_ties(&data, &cfg, as_of);
        times[0].push(ms(t));
        let t = Instant::now();
        let ours = our_closeness(&data, &ties, &cfg);
        times[1].push(ms(t));
        let t = Instant::now();
        let influence = account_influence(&data, &cfg);
        times[2].push(ms(t));
        let t = Instant::now();
        let links = stakeholder_links(&data, &cfg, as_of);
        times[3].push(ms(t));
        let t = Instant::now();
        let graph = PathGraph::build(&data, &ties, &links, &cfg);
        times[4].push(ms(t));
        let t = Instant::now();
        let best = graph.best_paths(&data);
        times[5].push(ms(t));
        let t = Instant::now();
        let cov = coverage(
            &data,
            &ties,
            &ours,
            &influence,
            &graph,
            &cfg,
            cfg.coverage_threshold,
            as_of,
        );
        times[6].push(ms(t));
        let t = Instant::now();
        let next = next_approaches(&data, &ours, &influence, &best, &cfg);
        times[7].push(ms(t));
        std::hint::black_box((cov, next));
        let t = Instant::now();
        std::hint::black_box(renmai_graph::score_account(&data, &cfg, as_of));
        times[8].push(ms(t));
    }
    for (name, mut v) in names.iter().zip(times) {
        v.sort_by(f64::total_cmp);
        println!(
            "{name:<20} median {:>8.2} ms  min {:>8.2} ms",
            v[v.len() / 2],
            v[0]
        );
    }
    Ok(())
}
