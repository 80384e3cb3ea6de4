//! Phone numbers on people, end to end: the bundle (CSV and JSON, round
//! trip, errors with their place), the store, the people API and the page.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use renmai::auth::{self, TokenScope};
use renmai::import::ImportError;
use renmai::store::Store;
use renmai_graph::{PersonId, PhoneKind};
use serde_json::Value;
use tower::ServiceExt;

use crate::helpers::{TestStore, canonical, write_small_bundle};

/// The small bundle with a `phones` column: Carla has a work number in
/// international form and a mobile, Dev a national number (no country).
fn bundle_with_phones(dir: &std::path::Path) {
    write_small_bundle(dir);
    let people = std::fs::read_to_string(dir.join("people.csv")).unwrap();
    let mut out = String::new();
    for (n, line) in people.lines().enumerate() {
        let phones = match (n, line.split(',').next()) {
            (0, _) => "phones",
            (_, Some("10")) => "work:+49 69 1234-5670;mobile:+49 170 1234567",
            (_, Some("11")) => "\"(069) 98 76 54\"",
            _ => "",
        };
        out.push_str(&format!("{line},{phones}\n"));
    }
    std::fs::write(dir.join("people.csv"), out).unwrap();
}

#[tokio::test]
async fn phones_round_trip_through_csv_json_and_the_store() {
    let t = TestStore::new();
    let dir = t.dir.path().join("in");
    bundle_with_phones(&dir);
    let (_, b, _) = renmai::import::read(&dir).unwrap();
    let carla = b.people.iter().find(|p| p.id.as_str() == "10").unwrap();
    let numbers: Vec<(&str, Option<PhoneKind>)> = carla
        .phones
        .iter()
        .map(|p| (p.number.as_str(), p.kind))
        .collect();
    assert_eq!(
        numbers,
        [
            ("+496912345670", Some(PhoneKind::Work)),
            ("+491701234567", Some(PhoneKind::Mobile))
        ]
    );
    let dev = b.people.iter().find(|p| p.id.as_str() == "11").unwrap();
    assert_eq!(dev.phones[0].number.as_str(), "069987654");
    assert!(!dev.phones[0].number.is_normalized());
    t.import(b).await;

    let stored = canonical(t.store.export().await.unwrap());
    let carla = stored
        .people
        .iter()
        .find(|p| p.id.as_str() == "10")
        .unwrap();
    assert_eq!(carla.phones.len(), 2);

    // CSV folder and JSON document read back to the same data.
    let out = t.dir.path().join("out");
    renmai::import::csv_bundle::write_dir(&stored, &out).unwrap();
    let (_, again, _) = renmai::import::read(&out).unwrap();
    assert_eq!(canonical(again), stored);
    let mut json = Vec::new();
    renmai::import::json_bundle::to_writer(&stored, &mut json).unwrap();
    let json = String::from_utf8(json).unwrap();
    let doc: Value = serde_json::from_str(&json).unwrap();
    let carla = doc["people"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == "10")
        .unwrap();
    assert!(
        carla["phones"]
            .as_array()
            .unwrap()
            .contains(&serde_json::json!({"number": "+496912345670", "kind": "work"})),
        "{carla}"
    );
    let file = t.dir.path().join("b.json");
    std::fs::write(&file, &json).unwrap();
    let (_, from_json, _) = renmai::import::read(&file).unwrap();
    assert_eq!(canonical(from_json), stored);

    // A re-import with one phone fewer replaces the stored list.
    let mut fewer = stored.clone();
    let carla = fewer
        .people
        .iter_mut()
        .find(|p| p.id.as_str() == "10")
        .unwrap();
    carla.phones.truncate(1);
    t.import(fewer).await;
    let rec = t
        .store
        .person(&PersonId::parse("10").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(rec.person.phones.len(), 1);
}

#[test]
fn a_bad_phone_is_reported_with_file_line_field_and_what_was_expected() {
    let dir = tempfile::tempdir().unwrap();
    bundle_with_phones(dir.path());
    let people = std::fs::read_to_string(dir.path().join("people.csv")).unwrap();
    let people = people.replace("work:+49 69 1234-5670", "work:call the front desk");
    std::fs::write(dir.path().join("people.csv"), people).unwrap();
    let err = renmai::import::read(dir.path()).unwrap_err();
    let ImportError::Invalid(errors) = &err else {
        panic!("{err}")
    };
    assert_eq!(errors.len(), 1, "{err}");
    let e = &errors[0];
    assert!(e.location.file.ends_with("people.csv"), "{e}");
    assert_eq!(e.location.line, 4, "Carla is on line 4");
    assert_eq!(e.field, "phones");
    assert_eq!(e.value, "work:call the front desk");
    assert!(e.expected.contains("a phone number like +49"), "{e}");

    let bad_kind = serde_json::json!({
        "people": [{"id": "p", "org": "1", "name": "P",
                    "phones": [{"number": "+4930123456", "kind": "pager"}]}]
    });
    let file = dir.path().join("b.json");
    std::fs::write(&file, bad_kind.to_string()).unwrap();
    let err = renmai::import::read(&file).unwrap_err().to_string();
    assert!(
        err.contains("/people/0/phones/0") && err.contains("pager"),
        "{err}"
    );
}

async fn body(resp: axum::response::Response) -> String {
    String::from_utf8(
        resp.into_body()
            .collect()
            .await
            .unwrap()
            .to_bytes()
            .to_vec(),
    )
    .unwrap()
}

#[tokio::test]
async fn the_people_api_and_the_person_page_show_phones() {
    let t = TestStore::new();
    let dir = t.dir.path().join("in");
    bundle_with_phones(&dir);
    let (_, b, _) = renmai::import::read(&dir).unwrap();
    t.import(b).await;

    let secret = auth::generate_token();
    t.store
        .save_token(
            "reader",
            TokenScope::Read,
            &auth::hash_token(&secret),
            false,
        )
        .await
        .unwrap();
    let resp = t
        .router()
        .oneshot(
            Request::get("/api/v1/people/10")
                .header("authorization", format!("Bearer {secret}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let v: Value = serde_json::from_str(&body(resp).await).unwrap();
    let phones = &v["person"]["phones"];
    assert_eq!(phones[1]["number"], "+496912345670");
    assert_eq!(phones[1]["display"], "+49 69 12345670");
    assert_eq!(phones[1]["kind"], "work");
    assert_eq!(phones[1]["normalized"], true);
    assert_eq!(phones[0]["kind"], "mobile");

    let page = |uri: &'static str| {
        let r = t.router();
        async move {
            let resp = r
                .oneshot(Request::get(uri).body(Body::empty()).unwrap())
                .await
                .unwrap();
            assert_eq!(resp.status(), StatusCode::OK);
            body(resp).await
        }
    };
    let html = page("/people/10").await;
    assert!(html.contains("+49 69 12345670 (work)"), "{html}");
    assert!(html.contains("+49 170 1234567 (mobile)"), "{html}");
    let html = page("/people/11").await;
    assert!(
        html.contains("069987654 (national form, country unknown)"),
        "{html}"
    );
}
