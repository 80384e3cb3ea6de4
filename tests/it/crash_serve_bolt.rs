//! Crash safety of `renmai serve --store neo4j` (issue 10): the scenario of
//! `crash_serve.rs` (SIGKILL while clients write interactions singly and in
//! batches and save plan snapshots; restart; every acknowledged write is
//! there and no batch is half there) against the Bolt server named by
//! `BOLT_URI` & co. (tests/all.sh starts one; skipped with a notice
//! without it).
//!
//! The Bolt database is shared by every Bolt test of this binary, so this
//! one takes [`BOLT`] like the others, and its records have ids of their own
//! (a prefix unique to the run) so nothing it checks depends on what other
//! tests left. It empties the database again when done.

use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use renmai::bundle::Bundle;
use renmai::store::neo4j::Neo4jStore;
use renmai::store::{NoProgress, Store};
use renmai::validate::SourceMap;
use renmai_graph::OrgId;

use crate::conformance::{BOLT, bolt_settings, bolt_store};
use crate::crash_serve::{
    Enough, Load, Server, check_recovered, free_port, http, write_until_killed,
};

/// Customer stakeholders the writers spread interactions over.
const CUSTOMERS: usize = 6;

/// Our company, one account with [`CUSTOMERS`] stakeholders and a seller on
/// its account team, every id starting with `prefix`.
fn seed(prefix: &str) -> (Bundle, Load) {
    let ours = format!("{prefix}-ours");
    let account = format!("{prefix}-acct");
    let seller = format!("{prefix}-seller");
    let customers: Vec<String> = (0..CUSTOMERS).map(|c| format!("{prefix}-c{c}")).collect();
    let mut people = vec![serde_json::json!({"id": seller, "org": ours, "name": "Crash Seller"})];
    people.extend(customers.iter().enumerate().map(|(c, id)| {
        serde_json::json!({"id": id, "org": account, "name": format!("Crash Customer {c}")})
    }));
    let bundle = serde_json::from_value(serde_json::json!({
        "organizations": [
            {"id": ours, "name": "Crash Test Us", "is_ours": true},
            {"id": account, "name": "Crash Test Account"},
        ],
        "people": people,
        "account_team": [{"org": account, "person": seller, "role": "account_executive"}],
    }))
    .expect("seed bundle");
    let load = Load {
        seller,
        customers,
        account,
        id_prefix: prefix.to_owned(),
    };
    (bundle, load)
}

/// `renmai serve --store neo4j` against the test's Bolt server.
fn serve_on_bolt(token: &str) -> Server {
    let s = bolt_settings().expect("BOLT_URI");
    let port = free_port();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_renmai"));
    cmd.args(["serve", "--addr", &format!("127.0.0.1:{port}")])
        .env("RENMAI_STORE", "neo4j")
        .env("RENMAI_NEO4J_URI", &s.uri)
        .env("RENMAI_NEO4J_USER", &s.user)
        .env("RENMAI_NEO4J_PASSWORD", &s.password);
    if let Some(db) = &s.database {
        cmd.env("RENMAI_NEO4J_DB", db);
    }
    // `serve` without --demo: the token is ours, made through the store.
    Server::spawn(cmd, port, Some(token.to_owned()))
}

#[test]
fn sigkill_of_serve_on_bolt_under_concurrent_writes_loses_no_acknowledged_write() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let _bolt = rt.block_on(BOLT.lock());
    let Some(store) = rt.block_on(bolt_store("crash of serve on Bolt")) else {
        return;
    };
    let prefix = format!("crashbolt{}", std::process::id());
    let (bundle, load) = seed(&prefix);
    let token = renmai::auth::generate_token();
    rt.block_on(async {
        let src = SourceMap::synthetic("crash seed", &bundle);
        store
            .import(bundle, src, Arc::new(NoProgress))
            .await
            .expect("seeding the Bolt database");
        let saved = store
            .save_token(
                &format!("{prefix}-token"),
                renmai::auth::TokenScope::Write,
                &renmai::auth::hash_token(&token),
                false,
            )
            .await
            .expect("saving the API token");
        assert!(saved, "a token of this run's name already exists");
    });

    let server = serve_on_bolt(&token);
    // Writes over Bolt are slower than to the embedded file: wait for fewer.
    let enough = Enough {
        singles: 60,
        batches: 60,
        max_wait: Duration::from_secs(90),
    };
    let acks = write_until_killed(server, &load, &enough);

    // The restarted server serves the store; what it holds is read back
    // through a connection of our own.
    let server = serve_on_bolt(&token);
    let account = OrgId::parse(&load.account).unwrap();
    let (stored, snapshots) = rt.block_on(async {
        // A fresh connection: nothing cached from before the kill.
        let fresh = Neo4jStore::connect(&bolt_settings().unwrap())
            .await
            .expect("reconnecting to the Bolt server");
        let data = fresh
            .account_data(&account)
            .await
            .expect("reading the account back")
            .expect("the account is there");
        let snapshots = fresh
            .snapshots(&account)
            .await
            .expect("reading the snapshots back (each one whole JSON)");
        (data.interactions, snapshots)
    });
    let mut counts = std::collections::HashMap::<String, i64>::new();
    for i in &stored {
        *counts.entry(i.id.as_str().to_owned()).or_default() += 1;
    }
    let saved_at: std::collections::HashSet<i64> =
        snapshots.iter().map(|p| p.as_of.epoch_seconds()).collect();
    let summary = check_recovered(
        &acks,
        |id| counts.get(id).copied().unwrap_or(0),
        |at| saved_at.contains(&at),
    );
    // Acknowledged writes are readable through the API after the restart.
    let path = format!("/api/v1/people/{}", load.seller);
    assert_eq!(
        http(server.port, "GET", &path, &server.token, ""),
        Some(200)
    );
    eprintln!("Bolt: {summary}");
    server.kill();
    rt.block_on(store.clear())
        .expect("emptying the Bolt database");
}
