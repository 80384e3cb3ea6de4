//! What each fuzz target does with its input, shared by the cargo-fuzz
//! targets (`fuzz_targets/*.rs`, nightly) and by the stable test that replays
//! the committed corpus (`tests/it/fuzz_corpus.rs`, which includes this
//! file as a module). Every function takes any bytes and must not panic,
//! hang or allocate absurdly; errors (an unreadable file, skipped records)
//! are the expected outcome of most inputs and are ignored.

use std::io::Read;
use std::path::Path;

use renmai::ingest::{Observations, contacts_csv, crm, decode, ics, mail, table, vcard};
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
pub const TARGETS: [(&str, Target); 6] = [
    ("ics", ics),
    ("mbox", mbox),
    ("vcard", vcard),
    ("contacts_csv", contacts_csv),
    ("crm_csv", crm_csv),
    ("decode", decode),
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
