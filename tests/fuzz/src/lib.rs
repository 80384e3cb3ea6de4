//! What each fuzz target does with its input, shared by the cargo-fuzz
//! targets (`fuzz_targets/*.rs`, nightly) and by the stable test that replays
//! the committed corpus (`tests/it/fuzz_corpus.rs`, which includes this
//! file as a module). Every function takes any bytes and must not panic,
//! hang or allocate absurdly; errors (an unreadable file, skipped records)
//! are the expected outcome of most inputs and are ignored.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use renmai::import::{csv_bundle, json_bundle};
use renmai::ingest::{Observations, contacts_csv, crm, decode, ics, mail, table, vcard};
use renmai::store::sqlite::SqliteStore;
use renmai::store::{NoProgress, Store};
use renmai::validate::{self, SourceMap};
use renmai::web::{AppState, app};
use renmai::{auth, demo};
use renmai_graph::Timestamp;

/// The "current time" of every target (2025-06-01T00:00:00Z): recurring
/// series and invitations are expanded up to it, so runs are reproducible.
pub const NOW: Timestamp = Timestamp::from_epoch_seconds(1_748_736_000);

/// The mapping files of the mapped-CSV modes of [`crm_csv`].
const PEOPLE_MAPPING: &[u8] = include_bytes!("../../fixtures/ingest/crm/mapped/kontakte.toml");
const INTERACTIONS_MAPPING: &[u8] = include_bytes!("../../fixtures/ingest/crm/mapped/anrufe.toml");
/// The CSV file whose mapping the last mode of [`crm_csv`] fuzzes.
const MAPPED_CSV: &[u8] = include_bytes!("../../fixtures/ingest/crm/mapped/anrufe.csv");

/// Separates the files of a Salesforce export in a [`crm_csv`] input.
pub const SALESFORCE_FILE_SEPARATOR: &[u8] = b"\n--next-file--\n";

/// The files of a Salesforce export in the order a [`crm_csv`] input gives
/// them (separated by [`SALESFORCE_FILE_SEPARATOR`]).
pub const SALESFORCE_FILES: [&str; 8] = [
    "User.csv",
    "Account.csv",
    "Contact.csv",
    "Opportunity.csv",
    "OpportunityContactRole.csv",
    "EventRelation.csv",
    "Event.csv",
    "Task.csv",
];

/// A fuzz target: any bytes in, no panic.
pub type Target = fn(&[u8]);

/// The targets by name, as their corpus folders are named.
pub const TARGETS: [(&str, Target); 8] = [
    ("ics", ics),
    ("mbox", mbox),
    ("vcard", vcard),
    ("contacts_csv", contacts_csv),
    ("crm_csv", crm_csv),
    ("decode", decode),
    ("bundle", bundle),
    ("api_json", api_json),
];

/// An iCalendar file ([`ics::read_ics_bytes`]): parsing, recurrence
/// expansion up to [`NOW`], time zones.
pub fn ics(data: &[u8]) {
    let mut out = Observations::new();
    let _ = ics::read_ics_bytes("fuzz.ics".into(), data, NOW, &mut out);
}

/// An mbox file when the input starts with `From `
/// ([`mail::read_mbox_from`]); otherwise one message as a Maildir holds it,
/// read as an mbox of that one message. Invitations inside messages go to
/// the iCalendar reader.
pub fn mbox(data: &[u8]) {
    let mut out = Observations::new();
    if data.starts_with(b"From ") {
        let _ = mail::read_mbox_from("fuzz.mbox".into(), data, NOW, &mut out);
    } else {
        let from: &[u8] = b"From fuzz@example.com Sat Jan  3 01:05:34 1996\n";
        let _ = mail::read_mbox_from("fuzz.eml".into(), from.chain(data), NOW, &mut out);
    }
}

/// A vCard file ([`vcard::read_vcard_bytes`]).
pub fn vcard(data: &[u8]) {
    let mut out = Observations::new();
    let _ = vcard::read_vcard_bytes("fuzz.vcf".into(), data, &mut out);
}

/// A contacts CSV; the first byte chooses the layout (modulo 3): LinkedIn,
/// Google, Outlook. The rest is the file.
pub fn contacts_csv(data: &[u8]) {
    let Some((&mode, file)) = data.split_first() else {
        return;
    };
    let mut out = Observations::new();
    let _ = match mode % 3 {
        0 => contacts_csv::read_linkedin_bytes("Connections.csv".into(), file, &mut out),
        1 => contacts_csv::read_google_csv_bytes("contacts.csv".into(), file, &mut out),
        _ => contacts_csv::read_outlook_csv_bytes("contacts.csv".into(), file, &mut out),
    };
}

/// A CRM export; the first byte chooses (modulo 5):
///
/// 0. a HubSpot contacts or companies export;
/// 1. a CSV with the people mapping of the fixtures (`kontakte.toml`);
/// 2. a CSV with the interactions mapping of the fixtures (`anrufe.toml`);
/// 3. a Salesforce export: the rest is its files in the order of
///    [`SALESFORCE_FILES`], separated by [`SALESFORCE_FILE_SEPARATOR`]
///    (an empty part or fewer parts: that file, the later files are
///    missing);
/// 4. a mapping file, applied to the fixtures' `anrufe.csv`.
pub fn crm_csv(data: &[u8]) {
    let Some((&mode, file)) = data.split_first() else {
        return;
    };
    let mut out = Observations::new();
    let _ = match mode % 5 {
        0 => crm::read_hubspot_bytes("hubspot.csv".into(), file, &mut out),
        1 => crm::read_mapped_csv_bytes(
            "people.csv".into(),
            file,
            "kontakte.toml".into(),
            PEOPLE_MAPPING,
            &mut out,
        ),
        2 => crm::read_mapped_csv_bytes(
            "calls.csv".into(),
            file,
            "anrufe.toml".into(),
            INTERACTIONS_MAPPING,
            &mut out,
        ),
        3 => {
            let files: Vec<(&str, &[u8])> = SALESFORCE_FILES
                .iter()
                .copied()
                .zip(split(file, SALESFORCE_FILE_SEPARATOR))
                .filter(|(_, bytes)| !bytes.is_empty())
                .collect();
            crm::read_salesforce_bytes(Path::new("export"), &files, &mut out)
        }
        _ => crm::read_mapped_csv_bytes(
            "anrufe.csv".into(),
            MAPPED_CSV,
            "mapping.toml".into(),
            file,
            &mut out,
        ),
    };
}

/// [`decode::text`], then every line of the text through the value
/// parsers the CSV readers use; the first line is also a date format for
/// the others (a mapping file's `date_format`).
pub fn decode(data: &[u8]) {
    let Ok(text) = decode::text("fuzz.txt", data) else {
        return;
    };
    let mut lines = text.lines();
    let format = lines.next().unwrap_or_default();
    for l in std::iter::once(format).chain(lines) {
        let _ = table::parse_time(l, None);
        let _ = table::parse_time(l, Some(format));
        let _ = table::parse_date(l, None);
        let _ = table::parse_date(l, Some(format));
        let _ = table::parse_amount(l);
        let _ = table::is_scientific(l);
        let _ = table::is_empty_date(l);
        let _ = table::check_id(l, "id");
        let _ = table::parse_bool(l);
        let _ = table::emails_in(l);
        let _ = table::domain_of_website(l);
        let _ = table::join_name(&[Some(l), Some(format)]);
        let _ = crm::salesforce_id(l);
        let _ = crm::salesforce_role(l);
    }
}

/// `data` cut at every `sep`.
fn split<'a>(data: &'a [u8], sep: &'a [u8]) -> impl Iterator<Item = &'a [u8]> + 'a {
    let mut rest = Some(data);
    std::iter::from_fn(move || {
        let r = rest?;
        match r.windows(sep.len()).position(|w| w == sep) {
            Some(i) => {
                rest = Some(&r[i + sep.len()..]);
                Some(&r[..i])
            }
            None => {
                rest = None;
                Some(r)
            }
        }
    })
}

/// The files of a CSV bundle in the order a [`bundle`] input gives them
/// (separated by [`SALESFORCE_FILE_SEPARATOR`], as for a Salesforce export).
pub const BUNDLE_FILES: [&str; 8] = [
    "organizations.csv",
    "people.csv",
    "account_team.csv",
    "interactions.csv",
    "influences.csv",
    "assessments.csv",
    "opportunities.csv",
    "opportunity_contacts.csv",
];

/// renmai's own bundle, read and validated as `renmai import` does (against
/// an empty store); the first byte chooses (modulo 2): 0 a JSON bundle
/// ([`json_bundle::parse`]), 1 a CSV bundle folder whose files are the rest
/// in the order of [`BUNDLE_FILES`] ([`csv_bundle::read_dir`]; an empty part
/// is a missing file).
pub fn bundle(data: &[u8]) {
    let Some((&mode, file)) = data.split_first() else {
        return;
    };
    let read = if mode % 2 == 0 {
        let Ok(text) = std::str::from_utf8(file) else {
            return;
        };
        json_bundle::parse(text, "fuzz.json")
    } else {
        let dir = scratch_dir("bundle");
        for name in BUNDLE_FILES {
            let _ = std::fs::remove_file(dir.join(name));
        }
        for (name, bytes) in BUNDLE_FILES
            .iter()
            .zip(split(file, SALESFORCE_FILE_SEPARATOR))
        {
            if !bytes.is_empty() {
                std::fs::write(dir.join(name), bytes).expect("scratch file");
            }
        }
        csv_bundle::read_dir(&dir)
    };
    if let Ok((b, src)) = read {
        let _ = validate::validate(&b, &src, &validate::ExistingRefs::default());
    }
}

/// A folder of this process for one target's scratch files.
fn scratch_dir(target: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "renmai-fuzz-{target}-{}-{:?}",
        std::process::id(),
        std::thread::current().id()
    ));
    std::fs::create_dir_all(&dir).expect("scratch folder");
    dir
}

/// The JSON API's write and enrichment routes as [`api_json`] picks them.
pub const API_ROUTES: [(&str, &str); 6] = [
    ("POST", "/api/v1/enrich"),
    ("POST", "/api/v1/interactions"),
    ("POST", "/api/v1/interactions/batch"),
    ("POST", "/api/v1/assessments"),
    ("PUT", "/api/v1/accounts/acc-hartmann/plan/objectives/fuzz"),
    (
        "PUT",
        "/api/v1/accounts/acc-hartmann/plan/actions/re_engage:lh-004",
    ),
];

/// A server over the demo data in a scratch SQLite store, with a
/// read/write token; built once per process.
struct Api {
    runtime: tokio::runtime::Runtime,
    router: axum::Router,
    token: String,
}

fn api() -> &'static Api {
    static API: OnceLock<Api> = OnceLock::new();
    API.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let db = scratch_dir("api").join("renmai.db");
        let _ = std::fs::remove_file(&db);
        let store = Arc::new(SqliteStore::open(&db).expect("scratch store"));
        let token = auth::generate_token();
        // Inside the runtime: the app may start background tasks.
        let router = runtime.block_on(async {
            let demo = demo::demo_bundle(chrono::NaiveDate::from_ymd_opt(2025, 6, 1).unwrap());
            let src = SourceMap::synthetic("demo", &demo);
            store
                .import(demo, src, Arc::new(NoProgress))
                .await
                .expect("demo import");
            store
                .save_token(
                    "fuzz",
                    auth::TokenScope::Write,
                    &auth::hash_token(&token),
                    true,
                )
                .await
                .expect("token");
            app(AppState::new(store, Default::default()))
        });
        Api {
            runtime,
            router,
            token,
        }
    })
}

/// A JSON body sent to one of the API's write or enrichment routes, through
/// the whole server (extractors, validation, the store); the first byte
/// picks the route (modulo [`API_ROUTES`]). Any body must get an answer
/// below 500: a malformed or invalid body is the client's error (400, 413,
/// 422), never a panic or a server error.
pub fn api_json(data: &[u8]) {
    use tower::ServiceExt;
    let Some((&route, body)) = data.split_first() else {
        return;
    };
    let (method, path) = API_ROUTES[route as usize % API_ROUTES.len()];
    let api = api();
    let req = axum::http::Request::builder()
        .method(method)
        .uri(path)
        .header("authorization", format!("Bearer {}", api.token))
        .header("content-type", "application/json")
        .body(axum::body::Body::from(body.to_vec()))
        .expect("request");
    let res = api
        .runtime
        .block_on(api.router.clone().oneshot(req))
        .expect("infallible");
    assert!(
        res.status().as_u16() < 500,
        "{method} {path} answered {} to {:?}",
        res.status(),
        String::from_utf8_lossy(body)
    );
}
