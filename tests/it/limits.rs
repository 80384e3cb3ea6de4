//! The request time limit (issue 10) on a real server: a client that sends
//! its headers and part of a body, then stalls, is answered 408
//! problem+json naming the limit once `[access] request_timeout_seconds`
//! has passed (not before, not much after), while other clients are served
//! meanwhile.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::crash_serve::{Server, free_port, http};

#[test]
fn a_request_stalled_past_the_time_limit_gets_408_problem_json_and_others_are_served() {
    let tmp = tempfile::tempdir().unwrap();
    let config = tmp.path().join("renmai.toml");
    std::fs::write(&config, "[access]\nrequest_timeout_seconds = 1\n").unwrap();
    let port = free_port();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_renmai"));
    cmd.arg("--db")
        .arg(tmp.path().join("renmai.db"))
        .arg("--config")
        .arg(&config)
        .args(["serve", "--demo", "--addr", &format!("127.0.0.1:{port}")]);
    let server = Server::spawn(cmd, port, None);

    // Headers and a third of the announced body, then nothing.
    let mut stalled = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stalled
        .set_read_timeout(Some(Duration::from_secs(15)))
        .unwrap();
    let partial = r#"{"id":"stalled","kind":"call","#;
    write!(
        stalled,
        "POST /api/v1/interactions HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{partial}",
        server.token,
        partial.len() * 3
    )
    .unwrap();
    stalled.flush().unwrap();
    let sent = Instant::now();

    // Meanwhile the server answers others.
    assert_eq!(http(port, "GET", "/healthz", "", ""), Some(200));
    assert_eq!(
        http(port, "GET", "/api/v1/accounts", &server.token, ""),
        Some(200)
    );

    let mut answer = Vec::new();
    stalled
        .read_to_end(&mut answer)
        .expect("the stalled request got no answer within 15 s");
    let waited = sent.elapsed();
    let answer = String::from_utf8(answer).unwrap();
    let (head, body) = answer
        .split_once("\r\n\r\n")
        .unwrap_or_else(|| panic!("not an HTTP answer: {answer:?}"));
    assert!(
        head.starts_with("HTTP/1.1 408"),
        "expected 408 Request Timeout, got: {head}"
    );
    assert!(
        head.to_ascii_lowercase()
            .contains("content-type: application/problem+json"),
        "not problem+json: {head}"
    );
    let problem: serde_json::Value = serde_json::from_str(body)
        .unwrap_or_else(|e| panic!("the body is not one JSON document ({e}): {body:?}"));
    assert_eq!(problem["status"], 408);
    let detail = problem["detail"].as_str().unwrap();
    assert!(
        detail.contains("within 1 s") && detail.contains("request_timeout_seconds"),
        "the detail should name the limit and its setting: {detail}"
    );
    assert!(
        waited >= Duration::from_millis(900) && waited < Duration::from_secs(5),
        "answered after {waited:?}; the limit is 1 s"
    );

    // Nothing of the stalled request was stored, and the server still serves.
    let db = rusqlite::Connection::open_with_flags(
        tmp.path().join("renmai.db"),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .unwrap();
    let stored: i64 = db
        .query_row(
            "SELECT count(*) FROM interactions WHERE id = 'stalled'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(stored, 0);
    assert_eq!(http(port, "GET", "/healthz", "", ""), Some(200));
    server.kill();
}
