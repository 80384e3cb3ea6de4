//! Contact exports as CSV: LinkedIn's `Connections.csv`, Google Contacts
//! and Outlook. Each row is one described person: name, e-mail addresses,
//! organization, title, department. Files go through
//! [`super::table::Table`] (any encoding [`super::decode`] accepts, CRLF,
//! `,`/`;`/tab, duplicated columns: the first non-empty value is taken).
//!
//! Phone numbers are taken with their kind: Google's `Phone N - Type` /
//! `Phone N - Value` pairs (several values joined with ` ::: `), Outlook's
//! `Business Phone`, `Mobile Phone`, `Home Phone`, `Other Phone`, ... columns;
//! a value that is not a phone number is left out and listed.
//!
//! Not taken: addresses, notes, birthdays,
//! LinkedIn's "Connected On" (a connection is not an interaction: it has no
//! second party we could name). A row with neither a name nor a valid
//! e-mail address is skipped with the reason; an e-mail value that is not
//! an address (Outlook's Exchange `/o=...` paths) is left out.

use std::path::Path;
use std::sync::Arc;

use renmai_graph::{Email, ExternalId, PhoneKind};

use super::table::{Row, Table, emails_in, join_name, read_file};
use super::{IngestError, Observations, PersonHint, SourcePos};

/// One contact row, as the readers below extract it.
#[derive(Debug, Default)]
struct Contact {
    name: Option<String>,
    emails: Vec<Email>,
    external_id: Option<ExternalId>,
    org: Option<String>,
    title: Option<String>,
    department: Option<String>,
    /// Phone numbers as written, with what they are for when the source says.
    phones: Vec<(String, Option<PhoneKind>)>,
}

fn add_contact(c: Contact, pos: SourcePos, out: &mut Observations) {
    if c.name.is_none() && c.emails.is_empty() && c.external_id.is_none() {
        out.skip(pos, "no name and no valid e-mail address");
        return;
    }
    let org = c.org.as_deref().and_then(|o| out.org(o, None, &pos));
    let mut emails = c.emails.into_iter();
    let Some(r) = out.person(
        PersonHint {
            name: c.name,
            email: emails.next(),
            external_id: c.external_id,
            org,
        },
        &pos,
    ) else {
        return;
    };
    for e in emails {
        out.add_email(r, e);
    }
    for (text, kind) in &c.phones {
        out.add_phone(r, text, *kind, &pos);
    }
    let p = out.person_mut(r);
    p.described = true;
    if p.title.is_none() {
        p.title = c.title;
    }
    if p.department.is_none() {
        p.department = c.department;
    }
}

/// Runs `row` over every record of a table, with the file's tally; rows
/// whose cells overflow the header are skipped.
fn each_row(
    t: &Table,
    out: &mut Observations,
    mut row: impl FnMut(&Row, SourcePos, &mut Observations),
) {
    t.begin(out);
    for r in &t.rows {
        let pos = t.pos(r);
        if let Some(reason) = r.overflow_reason(t.headers.len()) {
            out.skip(pos, reason);
            continue;
        }
        row(r, pos, out);
    }
    out.end_file();
}

/// LinkedIn's `Connections.csv` (Settings → Data privacy → Get a copy of
/// your data): `First Name, Last Name, URL, Email Address, Company,
/// Position, Connected On`, with or without the "Notes:" lines LinkedIn
/// puts before the header. The profile URL becomes the external id
/// `linkedin:in/<slug>` (lower-cased, without scheme, host, query or
/// trailing slash), so the same connection imported twice is one person.
pub fn read_linkedin(path: &Path, out: &mut Observations) -> Result<(), IngestError> {
    let (file, bytes) = read_file(path)?;
    read_linkedin_bytes(file, &bytes, out)
}

/// [`read_linkedin`] of a file's bytes; `file` names it in positions and errors.
pub fn read_linkedin_bytes(
    file: Arc<str>,
    bytes: &[u8],
    out: &mut Observations,
) -> Result<(), IngestError> {
    let t = Table::from_bytes_with(
        file,
        bytes,
        None,
        "with \"First Name\" and \"Last Name\"",
        |cells| {
            cells.iter().any(|c| c.eq_ignore_ascii_case("First Name"))
                && cells.iter().any(|c| c.eq_ignore_ascii_case("Last Name"))
        },
    )?;
    let first = t.require(&["First Name"])?;
    let last = t.require(&["Last Name"])?;
    let url = t.col(&["URL", "Profile URL"]);
    let email = t.col(&["Email Address", "E-mail Address", "Email"]);
    let company = t.col(&["Company"]);
    let position = t.col(&["Position"]);
    each_row(&t, out, |r, pos, out| {
        let external_id = match r.get(&url).map(linkedin_id) {
            Some(Ok(x)) => Some(x),
            Some(Err(reason)) => {
                out.skip(pos, reason);
                return;
            }
            None => None,
        };
        add_contact(
            Contact {
                name: join_name(&[r.get(&first), r.get(&last)]),
                emails: r.get(&email).map(emails_in).unwrap_or_default(),
                external_id,
                org: r.get(&company).map(str::to_owned),
                title: r.get(&position).map(str::to_owned),
                department: None,
                phones: Vec::new(),
            },
            pos,
            out,
        );
    });
    Ok(())
}

/// `linkedin:in/jane-doe-123` from `https://www.linkedin.com/in/Jane-Doe-123/?x=y`.
fn linkedin_id(url: &str) -> Result<ExternalId, String> {
    let t = url.trim();
    let rest = t.split_once("://").map(|(_, r)| r).unwrap_or(t);
    let path = rest
        .split_once('/')
        .map(|(host, p)| {
            if host.to_ascii_lowercase().contains("linkedin.") {
                p
            } else {
                ""
            }
        })
        .unwrap_or("");
    let path = path.split(['?', '#']).next().unwrap_or("");
    let path = path.trim_matches('/').to_lowercase();
    if path.is_empty() {
        return Err(format!("URL {t:?} is not a LinkedIn profile URL"));
    }
    ExternalId::parse(&format!("linkedin:{path}")).map_err(|e| e.to_string())
}

/// Google Contacts' CSV export, both layouts: the current one (`First Name`,
/// `Middle Name`, `Last Name`, `Organization Name`, `Organization Title`,
/// `Organization Department`, `E-mail 1 - Value`, ...) and the older one
/// (`Name`, `Given Name`, `Additional Name`, `Family Name`,
/// `Organization 1 - Name`, `Organization 1 - Title`,
/// `Organization 1 - Department`, `E-mail 1 - Value`, ...). A cell holding
/// several values joins them with ` ::: `: every e-mail is taken, the first
/// organization, title and department.
pub fn read_google_csv(path: &Path, out: &mut Observations) -> Result<(), IngestError> {
    let (file, bytes) = read_file(path)?;
    read_google_csv_bytes(file, &bytes, out)
}

/// [`read_google_csv`] of a file's bytes; `file` names it in positions and errors.
pub fn read_google_csv_bytes(
    file: Arc<str>,
    bytes: &[u8],
    out: &mut Observations,
) -> Result<(), IngestError> {
    let t = Table::from_bytes(file, bytes)?;
    let full = t.col(&["Name"]);
    let first = t.col(&["First Name", "Given Name"]);
    let middle = t.col(&["Middle Name", "Additional Name"]);
    let last = t.col(&["Last Name", "Family Name"]);
    if !full.is_found() && !first.is_found() && !last.is_found() {
        t.require(&["First Name", "Name", "Given Name"])?;
    }
    let emails: Vec<_> = t
        .headers
        .iter()
        .filter(|h| {
            let h = h.to_ascii_lowercase();
            h.starts_with("e-mail ") && h.ends_with(" - value")
        })
        .map(|h| t.col(&[h.as_str()]))
        .collect();
    if emails.is_empty() {
        t.require(&["E-mail 1 - Value"])?;
    }
    let org = t.col(&["Organization 1 - Name", "Organization Name"]);
    let title = t.col(&["Organization 1 - Title", "Organization Title"]);
    let dept = t.col(&["Organization 1 - Department", "Organization Department"]);
    // `Phone 1 - Value` with its `Phone 1 - Type` (Mobile, Work, Home, ...).
    let phone_cols: Vec<_> = t
        .headers
        .iter()
        .filter_map(|h| {
            let l = h.to_ascii_lowercase();
            let n = l.strip_prefix("phone ")?.strip_suffix(" - value")?;
            Some((
                t.col(&[h.as_str()]),
                t.col(&[format!("Phone {n} - Type").as_str()]),
            ))
        })
        .collect();
    let first_value = |s: &str| {
        s.split(":::")
            .map(str::trim)
            .find(|v| !v.is_empty())
            .map(str::to_owned)
    };
    each_row(&t, out, |r, pos, out| {
        let name = r
            .get(&full)
            .and_then(first_value)
            .or_else(|| join_name(&[r.get(&first), r.get(&middle), r.get(&last)]));
        let mut all = Vec::new();
        for c in &emails {
            for e in r.get(c).map(emails_in).unwrap_or_default() {
                if !all.contains(&e) {
                    all.push(e);
                }
            }
        }
        add_contact(
            Contact {
                name,
                emails: all,
                external_id: None,
                org: r.get(&org).and_then(first_value),
                title: r.get(&title).and_then(first_value),
                department: r.get(&dept).and_then(first_value),
                phones: phone_cols
                    .iter()
                    .flat_map(|(value, kind)| {
                        let kind = r.get(kind).and_then(phone_kind);
                        r.get(value)
                            .unwrap_or("")
                            .split(":::")
                            .map(|v| (v.trim().to_owned(), kind))
                            .filter(|(v, _)| !v.is_empty())
                            .collect::<Vec<_>>()
                    })
                    .collect(),
            },
            pos,
            out,
        );
    });
    Ok(())
}

/// Outlook's contacts export ("Comma Separated Values", in whatever
/// encoding the Windows locale gave it, UTF-16 included): `First Name`,
/// `Middle Name`, `Last Name`, `Company`, `Department`, `Job Title`,
/// `E-mail Address`, `E-mail 2 Address`, `E-mail 3 Address`.
pub fn read_outlook_csv(path: &Path, out: &mut Observations) -> Result<(), IngestError> {
    let (file, bytes) = read_file(path)?;
    read_outlook_csv_bytes(file, &bytes, out)
}

/// [`read_outlook_csv`] of a file's bytes; `file` names it in positions and errors.
pub fn read_outlook_csv_bytes(
    file: Arc<str>,
    bytes: &[u8],
    out: &mut Observations,
) -> Result<(), IngestError> {
    let t = Table::from_bytes(file, bytes)?;
    let first = t.require(&["First Name"])?;
    let middle = t.col(&["Middle Name"]);
    let last = t.require(&["Last Name"])?;
    let email1 = t.require(&["E-mail Address"])?;
    let email2 = t.col(&["E-mail 2 Address"]);
    let email3 = t.col(&["E-mail 3 Address"]);
    let company = t.col(&["Company"]);
    let dept = t.col(&["Department"]);
    let title = t.col(&["Job Title"]);
    let phone_cols: Vec<_> = OUTLOOK_PHONES
        .iter()
        .map(|(name, kind)| (t.col(&[name]), *kind))
        .collect();
    each_row(&t, out, |r, pos, out| {
        let mut all: Vec<Email> = Vec::new();
        for c in [&email1, &email2, &email3] {
            for e in r.get(c).map(emails_in).unwrap_or_default() {
                if !all.contains(&e) {
                    all.push(e);
                }
            }
        }
        add_contact(
            Contact {
                name: join_name(&[r.get(&first), r.get(&middle), r.get(&last)]),
                emails: all,
                external_id: None,
                org: r.get(&company).map(str::to_owned),
                title: r.get(&title).map(str::to_owned),
                department: r.get(&dept).map(str::to_owned),
                phones: phone_cols
                    .iter()
                    .filter_map(|(c, kind)| Some((r.get(c)?.to_owned(), *kind)))
                    .collect(),
            },
            pos,
            out,
        );
    });
    Ok(())
}

/// Outlook's phone columns and what each is for.
const OUTLOOK_PHONES: &[(&str, Option<PhoneKind>)] = &[
    ("Business Phone", Some(PhoneKind::Work)),
    ("Business Phone 2", Some(PhoneKind::Work)),
    ("Mobile Phone", Some(PhoneKind::Mobile)),
    ("Home Phone", Some(PhoneKind::Home)),
    ("Home Phone 2", Some(PhoneKind::Home)),
    ("Company Main Phone", Some(PhoneKind::Other)),
    ("Other Phone", Some(PhoneKind::Other)),
    ("Business Fax", Some(PhoneKind::Other)),
    ("Primary Phone", None),
];

/// A phone type label of a contact export (Google's `Phone 1 - Type`).
pub(super) fn phone_kind(label: &str) -> Option<PhoneKind> {
    let l = label
        .trim()
        .trim_start_matches('*')
        .trim()
        .to_ascii_lowercase();
    if l.contains("mobile") || l.contains("cell") {
        Some(PhoneKind::Mobile)
    } else if l.contains("fax") || l.contains("pager") || l == "main" || l == "other" {
        Some(PhoneKind::Other)
    } else if l.contains("work") || l.contains("business") {
        Some(PhoneKind::Work)
    } else if l.contains("home") {
        Some(PhoneKind::Home)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    fn phones_of(o: &Observations, i: usize) -> Vec<(&str, Option<PhoneKind>)> {
        o.people[i]
            .phones
            .iter()
            .map(|p| (p.number.as_str(), p.kind))
            .collect()
    }

    #[test]
    fn google_phone_columns_with_types_and_several_values() {
        let mut o = Observations::new();
        o.phone_region = Some(renmai_graph::PhoneRegion::parse("DE").unwrap());
        read_google_csv(&fixture("google-contacts-phones.csv"), &mut o).unwrap();
        assert_eq!(o.people[0].name.as_deref(), Some("Jürgen Weiß"));
        assert_eq!(
            phones_of(&o, 0),
            [
                ("+491712345678", Some(PhoneKind::Mobile)),
                ("+491712345679", Some(PhoneKind::Mobile)),
                ("+49891234567", Some(PhoneKind::Work))
            ]
        );
        assert!(o.people[1].phones.is_empty());
        assert_eq!(o.skipped.len(), 1, "{:?}", o.skipped);
        assert_eq!(o.skipped[0].source.line, 3);
        assert!(o.skipped[0].reason.contains("\"n/a\""), "{:?}", o.skipped);
    }

    #[test]
    fn outlook_phone_columns_in_utf16() {
        let mut o = Observations::new();
        read_outlook_csv(&fixture("outlook-contacts-phones-utf16.csv"), &mut o).unwrap();
        assert_eq!(o.people[0].name.as_deref(), Some("Jürgen Weiß"));
        assert_eq!(
            phones_of(&o, 0),
            [
                ("+49891234567", Some(PhoneKind::Work)),
                ("+491712345678", Some(PhoneKind::Mobile)),
                ("+49891234599", Some(PhoneKind::Other))
            ]
        );
        // No default region: the national number is kept cleaned, without its extension.
        assert_eq!(phones_of(&o, 1), [("911234567", Some(PhoneKind::Work))]);
        assert_eq!(o.skipped.len(), 1, "{:?}", o.skipped);
        assert!(o.skipped[0].reason.contains("\"x\""), "{:?}", o.skipped);
    }

    fn fixture(name: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/ingest/contacts")
            .join(name)
    }

    /// (name, emails, external ids, org, title, department) of every person.
    type Person = (
        String,
        Vec<String>,
        Vec<String>,
        Option<String>,
        Option<String>,
        Option<String>,
    );

    fn people(o: &Observations) -> Vec<Person> {
        o.people
            .iter()
            .map(|p| {
                assert!(p.described);
                (
                    p.name.clone().unwrap_or_default(),
                    p.emails.iter().map(|e| e.to_string()).collect(),
                    p.external_ids.iter().map(|x| x.to_string()).collect(),
                    p.org.map(|r| o.orgs[r.0 as usize].name.clone()),
                    p.title.clone(),
                    p.department.clone(),
                )
            })
            .collect()
    }

    fn person(
        name: &str,
        emails: &[&str],
        ids: &[&str],
        org: Option<&str>,
        title: Option<&str>,
        dept: Option<&str>,
    ) -> Person {
        (
            name.into(),
            emails.iter().map(|s| s.to_string()).collect(),
            ids.iter().map(|s| s.to_string()).collect(),
            org.map(Into::into),
            title.map(Into::into),
            dept.map(Into::into),
        )
    }

    fn skipped(o: &Observations, file: &Path) -> Vec<(u32, String)> {
        let f = file.display().to_string();
        o.skipped
            .iter()
            .map(|s| {
                assert_eq!(&*s.source.file, f);
                (s.source.line, s.reason.clone())
            })
            .collect()
    }

    #[test]
    fn linkedin_windows_1252_with_notes_preamble() {
        let path = fixture("linkedin-connections-windows-1252.csv");
        let mut o = Observations::new();
        read_linkedin(&path, &mut o).unwrap();
        assert_eq!(
            people(&o),
            [
                person(
                    "François Müller",
                    &[],
                    &["linkedin:in/francois-muller-4b1a2"],
                    Some("Société Générale Assurances"),
                    Some("Directeur des Achats – EMEA"),
                    None
                ),
                person(
                    "Zoë Ng",
                    &["zoe.ng@example.com"],
                    &["linkedin:in/zoe-ng"],
                    Some("Acme, Inc."),
                    Some("VP Engineering"),
                    None
                ),
                person("Jane Doe", &["jane@example.org"], &[], None, None, None),
            ]
        );
        assert_eq!(
            skipped(&o, &path),
            [
                (
                    7,
                    "8 cells where the header has 7: an unquoted delimiter inside a value? \
                     (1 too many)"
                        .to_owned()
                ),
                (
                    9,
                    "URL \"https://example.com/profile/x\" is not a LinkedIn profile URL"
                        .to_owned()
                ),
            ]
        );
        assert_eq!(o.files[0].read, 5);
        assert_eq!(o.files[0].skipped, 2);
    }

    #[test]
    fn linkedin_without_preamble_and_the_same_profile_twice() {
        let path = fixture("linkedin-connections-no-notes.csv");
        let mut o = Observations::new();
        read_linkedin(&path, &mut o).unwrap();
        read_linkedin(&path, &mut o).unwrap();
        assert_eq!(
            people(&o),
            [person(
                "伟 李",
                &[],
                &["linkedin:in/li-wei-888"],
                Some("华为技术有限公司"),
                Some("采购总监"),
                None
            )]
        );
        let err = read_linkedin(&fixture("google-contacts-legacy.csv"), &mut o).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "cannot read {}: no header line with \"First Name\" and \"Last Name\": \
                 not the expected export",
                fixture("google-contacts-legacy.csv").display()
            )
        );
    }

    #[test]
    fn google_current_layout_with_multiple_values() {
        let path = fixture("google-contacts.csv");
        let mut o = Observations::new();
        read_google_csv(&path, &mut o).unwrap();
        assert_eq!(
            people(&o),
            [
                person(
                    "Ana María García",
                    &["ana.garcia@telefonica.example", "ana@mail.example"],
                    &[],
                    Some("Telefónica S.A."),
                    Some("Jefa de Compras"),
                    Some("Compras")
                ),
                person("Kenji Sato", &[], &[], None, None, None),
            ]
        );
        assert_eq!(
            skipped(&o, &path),
            [(5, "no name and no valid e-mail address".to_owned())]
        );
    }

    #[test]
    fn google_legacy_layout() {
        let path = fixture("google-contacts-legacy.csv");
        let mut o = Observations::new();
        read_google_csv(&path, &mut o).unwrap();
        assert_eq!(
            people(&o),
            [person(
                "Priya Raman",
                &["priya.raman@tata.example", "priya@mail.example"],
                &[],
                Some("Tata Steel"),
                Some("CIO"),
                Some("IT")
            )]
        );
        assert!(o.skipped.is_empty());
    }

    #[test]
    fn outlook_utf16() {
        let path = fixture("outlook-contacts-utf16.csv");
        let mut o = Observations::new();
        read_outlook_csv(&path, &mut o).unwrap();
        assert_eq!(
            people(&o),
            [
                person(
                    "Jürgen K. Weiß",
                    &["jurgen.weiss@mueller-soehne.example", "jw@mail.example"],
                    &[],
                    Some("Müller & Söhne GmbH"),
                    Some("Leiter Einkauf"),
                    Some("Einkauf")
                ),
                person(
                    "Ольга Петрова",
                    &["olga.petrova@gazprom.example"],
                    &[],
                    Some("Газпром нефть"),
                    Some("Директор по закупкам"),
                    None
                ),
            ]
        );
        assert!(o.skipped.is_empty());
    }

    #[test]
    fn outlook_duplicated_column_overflow_and_nobody() {
        let path = fixture("outlook-contacts-malformed.csv");
        let mut o = Observations::new();
        read_outlook_csv(&path, &mut o).unwrap();
        assert_eq!(
            people(&o),
            [person(
                "Carol Jones",
                &["carol.jones@globex.example"],
                &[],
                Some("Globex"),
                Some("CTO"),
                None
            )]
        );
        assert_eq!(
            skipped(&o, &path),
            [
                (
                    3,
                    "11 cells where the header has 10: an unquoted delimiter inside a value? \
                     (1 too many)"
                        .to_owned()
                ),
                (4, "no name and no valid e-mail address".to_owned()),
            ]
        );
        // A Google export is not an Outlook one: the missing column is named.
        let err = read_outlook_csv(&fixture("google-contacts-legacy.csv"), &mut o)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("it has no column \"First Name\"; the columns found are: \"Name\", "),
            "{err}"
        );
    }
}
