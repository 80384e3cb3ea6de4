//! Which reader a path needs, and running it: `renmai import PATH
//! [--format F] [--mapping FILE] [--strict]`.

use std::path::Path;

use renmai_graph::Timestamp;

use super::{
    IngestError, Observations, SourceFormat, contacts_csv, crm, decode, ics, mail, service_cases,
    vcard,
};

/// How many bytes of a file are looked at to tell its format.
const SNIFF_BYTES: usize = 64 * 1024;

/// Tells what `path` holds from its name, its first bytes or, for a
/// folder, the files in it.
pub fn detect(path: &Path) -> Result<SourceFormat, IngestError> {
    let shown = path.display();
    if path.is_dir() {
        let names: Vec<String> = std::fs::read_dir(path)
            .map_err(|e| IngestError::unreadable(&shown, e))?
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        let has = |name: &str| names.iter().any(|n| n.eq_ignore_ascii_case(name));
        if has("organizations.csv") && has("people.csv") {
            return Ok(SourceFormat::Bundle);
        }
        if has("cur") || has("new") {
            return Ok(SourceFormat::Maildir);
        }
        if has("Account.csv") || has("Contact.csv") || has("Event.csv") || has("Task.csv") {
            return Ok(SourceFormat::Salesforce);
        }
        let mut exts: Vec<String> = Vec::new();
        for e in walk(path).map_err(|e| IngestError::unreadable(&shown, e))? {
            if let Some(x) = e.extension().and_then(|x| x.to_str()) {
                let x = x.to_ascii_lowercase();
                if !exts.contains(&x) {
                    exts.push(x);
                }
            }
        }
        let only =
            |wanted: &[&str]| !exts.is_empty() && exts.iter().all(|x| wanted.contains(&x.as_str()));
        if only(&["ics", "ical", "ifb"]) {
            return Ok(SourceFormat::Ics);
        }
        if only(&["vcf", "vcard"]) {
            return Ok(SourceFormat::Vcard);
        }
        return Err(IngestError::unreadable(
            &shown,
            format!(
                "cannot tell what this folder holds (files ending in {}); name the format with --format",
                if exts.is_empty() {
                    "nothing".to_owned()
                } else {
                    exts.join(", ")
                }
            ),
        ));
    }
    if !path.is_file() {
        return Err(IngestError::unreadable(&shown, "no such file or folder"));
    }
    let ext = path
        .extension()
        .and_then(|x| x.to_str())
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    match ext.as_str() {
        "json" => return Ok(SourceFormat::Bundle),
        "ics" | "ical" | "ifb" => return Ok(SourceFormat::Ics),
        "vcf" | "vcard" => return Ok(SourceFormat::Vcard),
        "mbox" | "mbx" => return Ok(SourceFormat::Mbox),
        _ => {}
    }
    let head = read_head(path).map_err(|e| IngestError::unreadable(&shown, e))?;
    if head.starts_with(b"From ") {
        return Ok(SourceFormat::Mbox);
    }
    let text = match decode::text(&shown.to_string(), &head) {
        Ok(t) => t.into_owned(),
        // The head may end inside a multi-byte character: decode leniently
        // for sniffing only; the reader decodes the whole file strictly.
        Err(_) => String::from_utf8_lossy(&head).into_owned(),
    };
    let t = text.trim_start_matches('\u{feff}').trim_start();
    if t.starts_with('{') {
        return Ok(SourceFormat::Bundle);
    }
    let upper = t.get(..16).unwrap_or(t).to_ascii_uppercase();
    if upper.starts_with("BEGIN:VCALENDAR") {
        return Ok(SourceFormat::Ics);
    }
    if upper.starts_with("BEGIN:VCARD") {
        return Ok(SourceFormat::Vcard);
    }
    if ext == "csv" || ext == "txt" || t.lines().next().is_some_and(|l| l.contains(',')) {
        let header_zone: String = t.lines().take(6).collect::<Vec<_>>().join("\n");
        if t.starts_with("Notes:") || header_zone.contains("Connected On") {
            return Ok(SourceFormat::Linkedin);
        }
        if header_zone.contains("E-mail 1 - Value") || header_zone.contains("Given Name") {
            return Ok(SourceFormat::GoogleCsv);
        }
        if header_zone.contains("E-mail Address") && header_zone.contains("Job Title") {
            return Ok(SourceFormat::OutlookCsv);
        }
        let first = t.lines().next().unwrap_or("").to_ascii_lowercase();
        if first.contains("case_id") || first.contains("case number") {
            return Ok(SourceFormat::ServiceCases);
        }
        if first.contains("opportunity_id") && first.contains("person_id") && first.contains("from")
        {
            return Ok(SourceFormat::DealSupport);
        }
        if header_zone.contains("Record ID") {
            return Ok(SourceFormat::Hubspot);
        }
        return Err(IngestError::unreadable(
            &shown,
            "a CSV file renmai does not recognise; describe its columns in a mapping file and pass --format csv --mapping FILE",
        ));
    }
    Err(IngestError::unreadable(
        &shown,
        "cannot tell the format; name it with --format (ics, mbox, maildir, salesforce, hubspot, vcard, linkedin, google-csv, outlook-csv, csv, bundle)",
    ))
}

fn read_head(path: &Path) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let mut f = std::fs::File::open(path)?;
    let mut buf = vec![0; SNIFF_BYTES];
    let mut n = 0;
    while n < buf.len() {
        let k = f.read(&mut buf[n..])?;
        if k == 0 {
            break;
        }
        n += k;
    }
    buf.truncate(n);
    Ok(buf)
}

/// Files under `dir`, recursively, in name order.
fn walk(dir: &Path) -> std::io::Result<Vec<std::path::PathBuf>> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let mut entries: Vec<_> = std::fs::read_dir(&d)?.flatten().map(|e| e.path()).collect();
        entries.sort();
        for p in entries {
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out.sort();
    Ok(out)
}

/// Reads `path` as `format` (not `Auto` or `Bundle`: the caller resolves
/// those). With `strict`, a file with any malformed record fails the whole
/// import, naming the file; otherwise malformed records are skipped and
/// listed in the observations.
pub fn observe(
    path: &Path,
    format: SourceFormat,
    mapping: Option<&Path>,
    strict: bool,
    now: Timestamp,
) -> Result<Observations, IngestError> {
    observe_into(path, format, mapping, strict, now, Observations::new())
}

/// [`observe`] into `out`, e.g. [`Observations::with_stored`] so that
/// readers skip what the store holds already.
pub fn observe_into(
    path: &Path,
    format: SourceFormat,
    mapping: Option<&Path>,
    strict: bool,
    now: Timestamp,
    mut out: Observations,
) -> Result<Observations, IngestError> {
    match format {
        SourceFormat::Ics => ics::read_ics(path, now, &mut out)?,
        SourceFormat::Mbox => mail::read_mbox_as_of(path, now, &mut out)?,
        SourceFormat::Maildir => mail::read_maildir_as_of(path, now, &mut out)?,
        SourceFormat::Vcard => vcard::read_vcard(path, &mut out)?,
        SourceFormat::Linkedin => contacts_csv::read_linkedin(path, &mut out)?,
        SourceFormat::GoogleCsv => contacts_csv::read_google_csv(path, &mut out)?,
        SourceFormat::OutlookCsv => contacts_csv::read_outlook_csv(path, &mut out)?,
        SourceFormat::Salesforce => crm::read_salesforce(path, &mut out)?,
        SourceFormat::Hubspot => crm::read_hubspot(path, &mut out)?,
        SourceFormat::ServiceCases => service_cases::read_service_cases(path, now, &mut out)?,
        SourceFormat::Csv => {
            let Some(mapping) = mapping else {
                return Err(IngestError::unreadable(
                    path.display(),
                    "--format csv needs --mapping FILE describing the columns",
                ));
            };
            crm::read_mapped_csv(path, mapping, &mut out)?
        }
        SourceFormat::Auto | SourceFormat::Bundle | SourceFormat::DealSupport => {
            return Err(IngestError::unreadable(
                path.display(),
                "internal: bundles and deal support are read by their own importers",
            ));
        }
    }
    if strict && let Some(t) = out.files.iter().find(|t| t.skipped > 0) {
        let first = out
            .skipped
            .iter()
            .find(|s| *s.source.file == *t.file)
            .map(|s| format!("{}: {}", s.source, s.reason))
            .unwrap_or_default();
        return Err(IngestError::Strict {
            path: t.file.clone(),
            count: t.skipped,
            first,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, body: &[u8]) -> std::path::PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, body).unwrap();
        p
    }

    #[test]
    fn detects_formats_from_names_and_first_bytes() {
        let d = tempfile::tempdir().unwrap();
        let cases: &[(&str, &[u8], SourceFormat)] = &[
            ("a.ics", b"BEGIN:VCALENDAR", SourceFormat::Ics),
            ("cal", b"BEGIN:VCALENDAR\r\n", SourceFormat::Ics),
            ("cards", b"\xEF\xBB\xBFBEGIN:VCARD\r\n", SourceFormat::Vcard),
            ("inbox", b"From sam@x Mon Jan  1 00:00:00 2024\n", SourceFormat::Mbox),
            ("b.json", b"{}", SourceFormat::Bundle),
            (
                "Connections.csv",
                b"Notes:\n\"When exporting...\"\n\nFirst Name,Last Name,URL,Email Address,Company,Position,Connected On\n",
                SourceFormat::Linkedin,
            ),
            (
                "google.csv",
                b"First Name,Last Name,E-mail 1 - Label,E-mail 1 - Value\n",
                SourceFormat::GoogleCsv,
            ),
            (
                "outlook.csv",
                b"First Name,Middle Name,Last Name,Company,Job Title,E-mail Address\n",
                SourceFormat::OutlookCsv,
            ),
            ("hs.csv", b"Record ID,First Name,Last Name,Email\n", SourceFormat::Hubspot),
            (
                "cases.csv",
                b"case_id,account,contact,owner,opened\n",
                SourceFormat::ServiceCases,
            ),
        ];
        for (name, body, want) in cases {
            let p = write(d.path(), name, body);
            assert_eq!(detect(&p).unwrap(), *want, "{name}");
        }
        let p = write(d.path(), "other.csv", b"a,b,c\n1,2,3\n");
        assert!(detect(&p).unwrap_err().to_string().contains("--mapping"));
    }

    #[test]
    fn detects_folders() {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(d.path().join("md/cur")).unwrap();
        assert_eq!(detect(&d.path().join("md")).unwrap(), SourceFormat::Maildir);
        std::fs::create_dir_all(d.path().join("sf")).unwrap();
        write(&d.path().join("sf"), "Contact.csv", b"Id\n");
        assert_eq!(
            detect(&d.path().join("sf")).unwrap(),
            SourceFormat::Salesforce
        );
        std::fs::create_dir_all(d.path().join("cals/2024")).unwrap();
        write(&d.path().join("cals/2024"), "x.ics", b"BEGIN:VCALENDAR");
        assert_eq!(detect(&d.path().join("cals")).unwrap(), SourceFormat::Ics);
        assert!(detect(&d.path().join("missing")).is_err());
    }
}
