//! `renmai import` of what sellers have, end to end on the embedded store:
//! read, resolve identities against the stored people, import, re-import.

use std::path::Path;

use renmai::bundle::Bundle;
use renmai::cli::ingest::import;
use renmai::ingest::SourceFormat;
use renmai::ingest::resolve::ResolveOptions;
use renmai::store::Store;

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

const MBOX: &str = "\
From ana.seller@ourco.example Mon Dec  1 09:00:00 2025
From: Ana Seller <Ana.Seller@ourco.example>
To: Carla Chief <carla.chief@acme-bank.example>
Cc: Bob New <bob.new@acme-bank.example>
Date: Mon, 1 Dec 2025 09:00:00 +0000
Message-ID: <m1@ourco.example>
Subject: never stored

Body never stored.

From ana.seller@ourco.example Mon Dec  1 09:00:00 2025
From: Ana Seller <ana.seller@ourco.example>
To: carla.chief@acme-bank.example
Cc: bob.new@acme-bank.example
Date: Mon, 1 Dec 2025 09:00:00 +0000
Message-ID: <m1@ourco.example>

The same message again (another folder).

From stranger@gmail.com Tue Dec  2 10:00:00 2025
From: A Stranger <stranger@gmail.com>
To: ana.seller@ourco.example
Date: Tue, 2 Dec 2025 10:00:00 +0000
Message-ID: <m2@gmail.com>

Spam.

From carla.chief@acme-bank.example Wed Dec  3 10:00:00 2025
From: carla.chief@acme-bank.example
To: ana.seller@ourco.example
Message-ID: <m3@acme-bank.example>

No date: skipped.
";

async fn stats(t: &TestStore) -> (u64, u64, u64) {
    let s = t.store.stats().await.unwrap();
    (
        s.people_customers + s.people_ours,
        s.interactions,
        s.organizations,
    )
}

async fn run(t: &TestStore, path: &Path, format: SourceFormat, strict: bool) -> anyhow::Result<()> {
    let store: std::sync::Arc<dyn renmai::store::Store> = t.store.clone();
    import(
        &store,
        path,
        format,
        None,
        strict,
        &ResolveOptions::default(),
        true,
    )
    .await
}

#[tokio::test]
async fn a_mailbox_adds_its_messages_once_and_places_new_colleagues() {
    let t = store().await;
    let mbox = t.dir.path().join("inbox.mbox");
    std::fs::write(&mbox, MBOX).unwrap();
    let (people0, ix0, orgs0) = stats(&t).await;

    run(&t, &mbox, SourceFormat::Mbox, false).await.unwrap();
    let (people1, ix1, orgs1) = stats(&t).await;
    assert_eq!(
        ix1,
        ix0 + 1,
        "m1 once; m2 has only one known person; m3 has no date"
    );
    assert_eq!(people1, people0 + 1, "Bob is new, the stranger is left out");
    assert_eq!(orgs1, orgs0);
    let b: Bundle = t.store.export().await.unwrap();
    let bob = b.people.iter().find(|p| p.name == "Bob New").unwrap();
    assert_eq!(
        bob.org.as_str(),
        "1",
        "acme-bank.example is Carla's company"
    );
    let m1 = b
        .interactions
        .iter()
        .find(|i| i.participants.contains(&bob.id))
        .unwrap();
    assert_eq!(m1.initiator.as_str(), "1");
    assert_eq!(m1.participants.len(), 3);

    // Again: nothing changes.
    run(&t, &mbox, SourceFormat::Mbox, false).await.unwrap();
    assert_eq!(stats(&t).await, (people1, ix1, orgs1));

    // Strict: the malformed message refuses the whole file, nothing written.
    let grown = t.dir.path().join("grown.mbox");
    std::fs::write(
        &grown,
        format!(
            "{MBOX}\nFrom ana.seller@ourco.example Thu Dec  4 09:00:00 2025\nFrom: ana.seller@ourco.example\nTo: carla.chief@acme-bank.example\nDate: Thu, 4 Dec 2025 09:00:00 +0000\nMessage-ID: <m4@ourco.example>\n\nNew.\n"
        ),
    )
    .unwrap();
    let err = run(&t, &grown, SourceFormat::Mbox, true).await.unwrap_err();
    assert!(err.to_string().contains("rejected (--strict)"), "{err}");
    assert_eq!(stats(&t).await, (people1, ix1, orgs1));

    // Without --strict the grown mailbox adds only its new message.
    run(&t, &grown, SourceFormat::Mbox, false).await.unwrap();
    assert_eq!(stats(&t).await, (people1, ix1 + 1, orgs1));
}

#[tokio::test]
async fn a_near_name_goes_to_review_and_can_be_merged() {
    let t = store().await;
    let vcf = t.dir.path().join("cards.vcf");
    std::fs::write(
        &vcf,
        "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:C. Chief\r\nN:Chief;C.;;;\r\nORG:Acme Bank\r\nTITLE:Chief Executive Officer\r\nEMAIL;TYPE=WORK:c.chief@acme-bank.example\r\nEND:VCARD\r\n\
BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Dev Tech\r\nORG:Acme Bank Inc.\r\nEMAIL:dev.tech@acme-bank.example\r\nEND:VCARD\r\n",
    )
    .unwrap();
    let (people0, _, _) = stats(&t).await;
    run(&t, &vcf, SourceFormat::Vcard, false).await.unwrap();
    let (people1, _, _) = stats(&t).await;
    assert_eq!(
        people1,
        people0 + 1,
        "Dev Tech matched by name at Acme Bank"
    );
    let b = t.store.export().await.unwrap();
    let dev = b.people.iter().find(|p| p.id.as_str() == "11").unwrap();
    assert_eq!(dev.emails[0].as_str(), "dev.tech@acme-bank.example");

    let review = t.store.review().await.unwrap();
    assert_eq!(review.len(), 1, "{review:?}");
    assert_eq!(review[0].existing.as_str(), "10");
    let new = review[0].new.clone();
    t.store
        .merge_people(&review[0].existing, &new)
        .await
        .unwrap();
    let b = t.store.export().await.unwrap();
    let carla = b.people.iter().find(|p| p.id.as_str() == "10").unwrap();
    assert_eq!(carla.emails.len(), 2);
    assert!(t.store.review().await.unwrap().is_empty());
}
