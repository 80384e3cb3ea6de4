//! Each kind of bad input gives its own clear error and writes nothing.

use std::path::Path;
use std::sync::Arc;

use renmai::import;
use renmai::store::{NoProgress, Store};

use crate::helpers::*;

/// A store holding the valid small bundle, and a copy of the bundle to spoil.
async fn baseline() -> (TestStore, std::path::PathBuf) {
    let t = TestStore::new();
    let good = t.dir.path().join("good");
    write_small_bundle(&good);
    let (_, b, _) = import::read(&good).unwrap();
    t.import(b).await;
    let bad = t.dir.path().join("bad");
    write_small_bundle(&bad);
    (t, bad)
}

fn append(dir: &Path, file: &str, line: &str) {
    let p = dir.join(file);
    let mut s = std::fs::read_to_string(&p).unwrap();
    s.push_str(line);
    s.push('\n');
    std::fs::write(p, s).unwrap();
}

/// Imports `dir` and returns the error text; asserts the store did not change.
async fn rejected(t: &TestStore, dir: &Path) -> String {
    let before = canonical(t.store.export().await.unwrap());
    let result = match import::read(dir) {
        Err(e) => Err(e.to_string()),
        Ok((_, b, src)) => t
            .store
            .import(b, src, Arc::new(NoProgress))
            .await
            .map_err(|e| e.to_string()),
    };
    let err = result.expect_err("the import should have been rejected");
    assert!(err.contains("nothing was written"), "{err}");
    assert_eq!(
        canonical(t.store.export().await.unwrap()),
        before,
        "the store changed"
    );
    err
}

/// A valid new interaction that must not be written when another row is bad.
const GOOD_ROW: &str = "100,1,12,call,2025-11-20T10:00:00Z,outbound";

#[tokio::test]
async fn wrong_column_count() {
    let (t, bad) = baseline().await;
    append(&bad, "interactions.csv", GOOD_ROW);
    append(&bad, "interactions.csv", "6,1,10,meeting");
    let err = rejected(&t, &bad).await;
    assert!(err.contains("interactions.csv:8"), "{err}");
    assert!(err.contains("6 columns, as in the header"), "{err}");
}

#[tokio::test]
async fn unparsable_timestamp() {
    let (t, bad) = baseline().await;
    append(&bad, "interactions.csv", GOOD_ROW);
    append(
        &bad,
        "interactions.csv",
        "6,1,10,meeting,2025-13-45T00:00:00Z,outbound",
    );
    let err = rejected(&t, &bad).await;
    assert!(
        err.contains("interactions.csv:8: field `timestamp`"),
        "{err}"
    );
    assert!(
        err.contains("2025-13-45T00:00:00Z") && err.contains("RFC 3339"),
        "{err}"
    );
}

#[tokio::test]
async fn unknown_kind() {
    let (t, bad) = baseline().await;
    append(&bad, "interactions.csv", GOOD_ROW);
    append(
        &bad,
        "interactions.csv",
        "6,1,10,telegram,2025-11-01T10:00:00Z,outbound",
    );
    let err = rejected(&t, &bad).await;
    assert!(
        err.contains("interactions.csv:8: field `kind`: got \"telegram\""),
        "{err}"
    );
    assert!(err.contains("one of meeting, visit, call, email"), "{err}");
}

#[tokio::test]
async fn unknown_role() {
    let (t, bad) = baseline().await;
    append(&bad, "people.csv", "14,1,Hal New,Head of Data,3,IT,ceo,11");
    let err = rejected(&t, &bad).await;
    assert!(
        err.contains("people.csv:9: field `role`: got \"ceo\""),
        "{err}"
    );
    assert!(err.contains("economic_buyer"), "{err}");
}

#[tokio::test]
async fn level_out_of_range() {
    let (t, bad) = baseline().await;
    append(&bad, "people.csv", "14,1,Hal New,Head of Data,9,IT,none,11");
    let err = rejected(&t, &bad).await;
    assert!(
        err.contains("people.csv:9: field `level`: got \"9\""),
        "{err}"
    );
    assert!(err.contains("1 (C-level) to 6 (unknown)"), "{err}");
}

#[tokio::test]
async fn person_that_does_not_exist() {
    let (t, bad) = baseline().await;
    append(&bad, "interactions.csv", GOOD_ROW);
    append(
        &bad,
        "interactions.csv",
        "6,1,99,meeting,2025-11-01T10:00:00Z,outbound",
    );
    let err = rejected(&t, &bad).await;
    assert!(
        err.contains("interactions.csv:8: field `participants`: got \"99\""),
        "{err}"
    );
    assert!(err.contains("no person 99"), "{err}");
}

#[tokio::test]
async fn duplicate_id() {
    let (t, bad) = baseline().await;
    append(&bad, "interactions.csv", GOOD_ROW);
    append(
        &bad,
        "interactions.csv",
        "1,1,10,call,2025-11-03T10:00:00Z,outbound",
    );
    let err = rejected(&t, &bad).await;
    assert!(
        err.contains("interactions.csv:8: field `interaction_id`: got \"1\""),
        "{err}"
    );
    assert!(err.contains("not already used in this import"), "{err}");
}

#[tokio::test]
async fn org_tree_with_a_cycle() {
    let (t, bad) = baseline().await;
    std::fs::write(
        bad.join("organizations.csv"),
        "org_id,name,industry,region,is_ours,parent_id\n0,Our Company,Software,EMEA,1,\n1,Acme Bank,Financial Services,EMEA,0,2\n2,Acme Leasing,Financial Services,EMEA,0,1\n",
    )
    .unwrap();
    let err = rejected(&t, &bad).await;
    assert!(err.contains("organizations.csv:3: field `parent`"), "{err}");
    assert!(
        err.contains("without cycles; 1 is its own ancestor"),
        "{err}"
    );
}

#[tokio::test]
async fn unknown_column_and_missing_file() {
    let (t, bad) = baseline().await;
    std::fs::write(
        bad.join("influences.csv"),
        "influencer_id,influenced_id,kind,strenght\n13,10,peer,0.5\n",
    )
    .unwrap();
    let err = rejected(&t, &bad).await;
    assert!(
        err.contains("influences.csv:1") && err.contains("unknown column `strenght`"),
        "{err}"
    );

    std::fs::remove_file(bad.join("people.csv")).unwrap();
    let err = import::read(&bad).unwrap_err().to_string();
    assert!(
        err.contains("not a bundle") && err.contains("people.csv"),
        "{err}"
    );
}

#[tokio::test]
async fn bad_json_bundle_names_line_and_path() {
    let t = TestStore::new();
    let p = t.dir.path().join("b.json");
    std::fs::write(
        &p,
        "{\"format\": \"renmai-bundle\", \"version\": 1,\n \"people\": [\n  {\"id\": \"1\", \"org\": \"0\", \"name\": \"A\", \"level\": 8}\n ]\n}\n",
    )
    .unwrap();
    let err = import::read(&p).unwrap_err().to_string();
    assert!(
        err.contains("b.json:3") && err.contains("/people/0/level"),
        "{err}"
    );
    assert!(err.contains("1 (C-level) to 6"), "{err}");
}

#[tokio::test]
async fn big_files_are_read_in_parallel_with_the_right_line_numbers() {
    let (t, bad) = baseline().await;
    // ~6 MB: read in chunks on all cores; the bad rows sit in different chunks.
    let mut body = std::fs::read_to_string(bad.join("interactions.csv")).unwrap();
    let first_new = body.lines().count() + 1;
    let n = 120_000;
    for k in 0..n {
        let kind = match k {
            1_000 => "telegram",
            100_000 => "fax",
            _ => "email",
        };
        body.push_str(&format!(
            "{},1,12,{kind},2025-10-01T10:00:00Z,outbound\n",
            1_000 + k
        ));
    }
    std::fs::write(bad.join("interactions.csv"), body).unwrap();
    let err = rejected(&t, &bad).await;
    assert!(
        err.contains(&format!(
            "interactions.csv:{}: field `kind`: got \"telegram\"",
            first_new + 1_000
        )),
        "{err}"
    );
    assert!(
        err.contains(&format!(
            "interactions.csv:{}: field `kind`: got \"fax\"",
            first_new + 100_000
        )),
        "{err}"
    );
    assert!(err.contains("2 problems"), "{err}");
}

#[tokio::test]
async fn contact_on_an_unknown_opportunity() {
    let (t, bad) = baseline().await;
    append(
        &bad,
        "opportunity_contacts.csv",
        "op-missing,10,economic_buyer,supporter,3,2,2025-11-02T00:00:00Z",
    );
    let err = tokio::time::timeout(std::time::Duration::from_secs(30), rejected(&t, &bad))
        .await
        .expect("validation must not loop");
    assert!(
        err.contains("opportunity_contacts.csv:3: field `opportunity_id`: got \"op-missing\""),
        "{err}"
    );
    assert!(err.contains("no opportunity op-missing"), "{err}");
}
