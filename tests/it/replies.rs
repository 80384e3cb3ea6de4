//! In-Reply-To from a mailbox: stored as a link between interactions,
//! kept by the bundle and the store, and shown as a tie's reciprocity on
//! the person page and in the people API. Also: phones from a vCard with
//! the configured default region, and a shared number put on the review
//! list, end to end through `renmai import`.

use std::path::Path;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use renmai::auth::{self, TokenScope};
use renmai::cli::ingest::import;
use renmai::ingest::SourceFormat;
use renmai::ingest::resolve::ResolveOptions;
use renmai::store::Store;
use renmai_graph::{PersonId, PhoneRegion};
use serde_json::Value;
use tower::ServiceExt;

use crate::helpers::{TestStore, write_small_bundle};

/// The small bundle, with e-mail addresses for Ana (ours) and Carla (Acme Bank).
async fn store() -> TestStore {
    let t = TestStore::new();
    let dir = t.dir.path().join("bundle");
    write_small_bundle(&dir);
    let (_, mut b, _) = renmai::import::read(&dir).unwrap();
    for p in &mut b.people {
        let email = match p.id.as_str() {
            "1" => "ana.seller@ourco.example",
            "10" => "carla.chief@acme-bank.example",
            _ => continue,
        };
        p.emails.push(renmai_graph::Email::parse(email).unwrap());
    }
    t.import(b).await;
    t
}

fn message(id: u32, from: &str, to: &str, reply_to: Option<u32>) -> String {
    let reply = reply_to
        .map(|r| format!("In-Reply-To: <t{r}@mail.example>\n"))
        .unwrap_or_default();
    format!(
        "From {from} Mon Dec  1 09:00:00 2025\nFrom: {from}\nTo: {to}\nDate: Mon, {id} Dec 2025 09:00:00 +0000\nMessage-ID: <t{id}@mail.example>\n{reply}Subject: never stored\n\nBody never stored.\n\n"
    )
}

const ANA: &str = "ana.seller@ourco.example";
const CARLA: &str = "carla.chief@acme-bank.example";

async fn run(t: &TestStore, path: &Path, format: SourceFormat, opts: &ResolveOptions) {
    let store: std::sync::Arc<dyn Store> = t.store.clone();
    import(&store, path, format, None, false, opts, true)
        .await
        .unwrap();
}

#[tokio::test]
async fn a_reply_thread_becomes_reciprocity_evidence() {
    let t = store().await;
    let bundle_before = t.store.export().await.unwrap();
    // Ana writes 4 times; Carla answers 1 and 3; Ana answers Carla's 5;
    // Carla opens 5 herself; 7 answers a message not in the mailbox.
    let mbox: String = [
        message(1, ANA, CARLA, None),
        message(2, CARLA, ANA, Some(1)),
        message(3, ANA, CARLA, None),
        message(4, CARLA, ANA, Some(3)),
        message(5, CARLA, ANA, None),
        message(6, ANA, CARLA, Some(5)),
        message(7, ANA, CARLA, Some(99)),
        message(8, ANA, CARLA, None),
    ]
    .concat();
    let path = t.dir.path().join("thread.mbox");
    std::fs::write(&path, &mbox).unwrap();
    run(&t, &path, SourceFormat::Mbox, &ResolveOptions::default()).await;

    let b = t.store.export().await.unwrap();
    let mails: Vec<_> = b
        .interactions
        .iter()
        .filter(|i| !bundle_before.interactions.iter().any(|x| x.id == i.id))
        .collect();
    assert_eq!(mails.len(), 8);
    let linked = mails.iter().filter(|i| i.in_reply_to.is_some()).count();
    assert_eq!(linked, 4, "every In-Reply-To is kept, stored target or not");
    // The link names the answered message's own id.
    let ids: Vec<_> = mails.iter().map(|i| &i.id).collect();
    let resolved = mails
        .iter()
        .filter_map(|i| i.in_reply_to.as_ref())
        .filter(|to| ids.contains(to))
        .count();
    assert_eq!(resolved, 3);

    // The bundle keeps the links (CSV form), and a re-import changes nothing.
    let out = t.dir.path().join("out");
    renmai::import::csv_bundle::write_dir(&b, &out).unwrap();
    let (_, again, _) = renmai::import::read(&out).unwrap();
    assert_eq!(
        crate::helpers::canonical(again),
        crate::helpers::canonical(b.clone())
    );
    run(&t, &path, SourceFormat::Mbox, &ResolveOptions::default()).await;
    assert_eq!(
        crate::helpers::canonical(t.store.export().await.unwrap()),
        crate::helpers::canonical(b)
    );

    // Shown on Carla's page and in the API's evidence, beside what the
    // bundle held of the two before (none of it replies).
    let (ana, carla) = (
        PersonId::parse("1").unwrap(),
        PersonId::parse("10").unwrap(),
    );
    let earlier: Vec<_> = bundle_before
        .interactions
        .iter()
        .filter(|i| i.participants.contains(&ana) && i.participants.contains(&carla))
        .collect();
    let emails_by = |who: &PersonId| {
        earlier
            .iter()
            .filter(|i| i.kind == renmai_graph::InteractionKind::Email && i.initiator == *who)
            .count()
    };
    let (ana_mails, carla_mails) = (5 + emails_by(&ana), 3 + emails_by(&carla));
    let expected = format!(
        "Carla Chief replied to 2 of Ana Seller's {ana_mails} e-mails; \
         Ana Seller replied to 1 of Carla Chief's {carla_mails} e-mails"
    );
    let resp = t
        .router()
        .oneshot(Request::get("/people/10").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let html = String::from_utf8(
        resp.into_body()
            .collect()
            .await
            .unwrap()
            .to_bytes()
            .to_vec(),
    )
    .unwrap();
    assert!(html.contains(&expected.replace('\'', "&#39;")), "{html}");

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
    let v: Value =
        serde_json::from_slice(&resp.into_body().collect().await.unwrap().to_bytes()).unwrap();
    let tie = v["ties"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["ours"] == "1")
        .unwrap();
    let r = &tie["reciprocity"];
    assert_eq!(r["ours_emails"], ana_mails);
    assert_eq!(r["ours_emails_answered"], 2);
    assert_eq!(r["their_emails"], carla_mails);
    assert_eq!(r["their_emails_answered"], 1);
    // 1, 3, 5, 7 (its target is unknown) and 8 open exchanges, Carla opened 5.
    let carla_started = earlier.iter().filter(|i| i.initiator == carla).count();
    assert_eq!(r["exchanges"], 5 + earlier.len());
    assert_eq!(r["started_by_theirs"], 1 + carla_started);
    assert!(r["text"].as_str().unwrap().starts_with(&expected), "{r}");
}

#[tokio::test]
async fn card_phones_use_the_default_region_and_a_shared_number_goes_to_review() {
    let t = store().await;
    let opts = ResolveOptions {
        phone_region: Some(PhoneRegion::parse("DE").unwrap()),
        ..Default::default()
    };
    let cards = t.dir.path().join("cards.vcf");
    std::fs::write(
        &cards,
        "BEGIN:VCARD\nVERSION:3.0\nFN:Carla Chief\nEMAIL:carla.chief@acme-bank.example\nTEL;TYPE=WORK:069 1234567\nEND:VCARD\n",
    )
    .unwrap();
    run(&t, &cards, SourceFormat::Vcard, &opts).await;
    let carla = t
        .store
        .person(&PersonId::parse("10").unwrap())
        .await
        .unwrap()
        .unwrap()
        .person;
    assert_eq!(carla.phones[0].number.as_str(), "+49691234567");

    // A new handle with Carla's number, written internationally: a review
    // candidate (not merged); two people on one switchboard: nothing.
    std::fs::write(
        &cards,
        "BEGIN:VCARD\nVERSION:3.0\nFN:C. Chief-Meyer\nORG:Acme Bank\nEMAIL:cc@private.example\nTEL:+49 69 123 4567\nEND:VCARD\n\
         BEGIN:VCARD\nVERSION:3.0\nFN:Desk One\nORG:Acme Bank\nTEL:+49 69 9999-0\nEND:VCARD\n\
         BEGIN:VCARD\nVERSION:3.0\nFN:Desk Two\nORG:Acme Bank\nTEL:+49 69 99990\nEND:VCARD\n",
    )
    .unwrap();
    let before = t.store.stats().await.unwrap().people_customers;
    run(&t, &cards, SourceFormat::Vcard, &opts).await;
    assert_eq!(t.store.stats().await.unwrap().people_customers, before + 3);
    let review = t.store.review().await.unwrap();
    assert_eq!(review.len(), 1, "{review:?}");
    assert_eq!(review[0].existing.as_str(), "10");
    assert!(
        review[0]
            .reason
            .contains("the same phone number +49 69 1234567")
    );
}
