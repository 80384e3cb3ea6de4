//! vCard files (`.vcf`): 2.1, 3.0 and 4.0, several cards per file, or a
//! folder of them.
//!
//! What is taken from a card: the name (FN, else built from N: given,
//! additional, family), the organization (ORG: its first component is the
//! organization, the further ones the department, joined with `/`), the
//! title (TITLE, else ROLE), and every EMAIL. A card that describes an
//! organization rather than a person (`KIND:org`, Apple's
//! `X-ABShowAs:COMPANY`, or Outlook's company entries whose FN is the
//! organization and which have no N) gives an organization only.
//!
//! Telephone numbers (TEL) are taken with their kind from the TYPE
//! parameters (2.1's bare `TEL;WORK;VOICE:`, 3.0's `TYPE=CELL`, 4.0's
//! `TYPE="work,voice"` and `tel:` URIs): cell → mobile, work, home, and
//! fax/pager/main → other; a TEL value that is not a phone number is left
//! out and listed with the card's line.
//!
//! What is not taken: addresses, photos, notes, birthdays, UIDs. An e-mail
//! value that is not an address is left out; a card with neither a name nor
//! an address is skipped with the reason.
//!
//! Parsing is calcard's (Stalwart Labs). Quoted-printable values (vCard
//! 2.1) are decoded here first, because calcard 0.3 decodes a
//! quoted-printable value without a CHARSET parameter as ISO-8859-1
//! (garbling the UTF-8 that phones write without saying so) and does not
//! recognise 2.1's bare `QUOTED-PRINTABLE` parameter (`FN;QUOTED-PRINTABLE:`);
//! here the CHARSET parameter decides (any label encoding_rs knows), else
//! UTF-8 when the bytes are valid UTF-8, else Windows-1252.
//! Each card is cut out of the file by its BEGIN:VCARD / END:VCARD lines
//! so that a skipped card names the line it starts on.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use calcard::vcard::{
    VCard, VCardKind, VCardParameter, VCardParameterName, VCardParameterValue, VCardProperty,
    VCardType, VCardValue,
};
use calcard::{Entry, Parser};
use renmai_graph::{Email, PhoneKind};

use super::{IngestError, Observations, PersonHint, SourcePos, decode, display_path};

/// Reads a `.vcf` file, or every `.vcf`/`.vcard` file under a folder (in
/// name order), into `out`.
pub fn read_vcard(path: &Path, out: &mut Observations) -> Result<(), IngestError> {
    if path.is_dir() {
        let mut files = Vec::new();
        collect_cards(path, &mut files)
            .map_err(|e| IngestError::unreadable(display_path(path), e))?;
        if files.is_empty() {
            return Err(IngestError::unreadable(
                display_path(path),
                "the folder holds no .vcf file",
            ));
        }
        for f in files {
            read_file(&f, out)?;
        }
        Ok(())
    } else {
        read_file(path, out)
    }
}

fn collect_cards(dir: &Path, files: &mut Vec<PathBuf>) -> std::io::Result<()> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            collect_cards(&p, files)?;
        } else if p
            .extension()
            .is_some_and(|x| x.eq_ignore_ascii_case("vcf") || x.eq_ignore_ascii_case("vcard"))
        {
            files.push(p);
        }
    }
    Ok(())
}

fn read_file(path: &Path, out: &mut Observations) -> Result<(), IngestError> {
    let file = display_path(path);
    let bytes = std::fs::read(path).map_err(|e| IngestError::unreadable(&file, e))?;
    read_vcard_bytes(file, &bytes, out)
}

/// Reads the bytes of a vCard file (any encoding [`decode::text`] accepts);
/// `file` names it in positions and errors.
pub fn read_vcard_bytes(
    file: Arc<str>,
    bytes: &[u8],
    out: &mut Observations,
) -> Result<(), IngestError> {
    let text = decode::text(&file, bytes)?;
    read_text(file, &text, out)
}

/// Reads decoded vCard text; `file` names it in positions and errors.
pub fn read_text(file: Arc<str>, text: &str, out: &mut Observations) -> Result<(), IngestError> {
    let cards = split_cards(text);
    if cards.is_empty() {
        return Err(IngestError::unreadable(
            &file,
            "no BEGIN:VCARD line: this is not a vCard file",
        ));
    }
    out.begin_file(&file);
    out.count_read(cards.len());
    for card in cards {
        let pos = SourcePos {
            file: file.clone(),
            line: card.line,
        };
        if !card.terminated {
            out.skip(
                pos,
                "the card has no END:VCARD line (the file is cut short?)",
            );
            continue;
        }
        let normalized = decode_quoted_printable(card.text);
        match Parser::new(&normalized).entry() {
            Entry::VCard(vcard) => take_card(&vcard, &pos, out),
            other => out.skip(pos, format!("not a readable vCard: {}", describe(&other))),
        }
    }
    out.end_file();
    Ok(())
}

fn describe(e: &Entry) -> String {
    match e {
        Entry::InvalidLine(l) => {
            format!("invalid line {:?}", l.chars().take(60).collect::<String>())
        }
        Entry::UnterminatedComponent(c) => format!("unterminated {c}"),
        Entry::Eof => "empty card".into(),
        _ => "unexpected content".into(),
    }
}

/// One card cut out of a file.
struct RawCard<'a> {
    line: u32,
    text: &'a str,
    terminated: bool,
}

/// The cards of a file by their BEGIN:VCARD / END:VCARD lines (nested
/// cards, 2.1's AGENT, stay inside their card). Text outside cards is
/// ignored.
fn split_cards(text: &str) -> Vec<RawCard<'_>> {
    let mut cards = Vec::new();
    let mut depth = 0usize;
    let mut start = (0usize, 0u32);
    let mut offset = 0usize;
    for (i, raw) in text.split_inclusive('\n').enumerate() {
        let line_no = u32::try_from(i + 1).unwrap_or(u32::MAX);
        let l = raw.trim();
        if l.eq_ignore_ascii_case("BEGIN:VCARD") {
            if depth == 0 {
                start = (offset, line_no);
            }
            depth += 1;
        } else if l.eq_ignore_ascii_case("END:VCARD") && depth > 0 {
            depth -= 1;
            if depth == 0 {
                cards.push(RawCard {
                    line: start.1,
                    text: &text[start.0..offset + raw.len()],
                    terminated: true,
                });
            }
        }
        offset += raw.len();
    }
    if depth > 0 {
        cards.push(RawCard {
            line: start.1,
            text: &text[start.0..],
            terminated: false,
        });
    }
    cards
}

/// Rewrites every quoted-printable property of a card as plain text (see
/// the module doc for why this is not left to calcard).
fn decode_quoted_printable(card: &str) -> String {
    let mut out = String::with_capacity(card.len());
    let mut lines = card.lines().peekable();
    while let Some(line) = lines.next() {
        let Some((head, value)) = split_property(line) else {
            out.push_str(line);
            out.push('\n');
            continue;
        };
        let params: Vec<&str> = head.split(';').collect();
        let is_qp = params.iter().skip(1).any(|p| {
            let p = p.trim();
            p.eq_ignore_ascii_case("ENCODING=QUOTED-PRINTABLE")
                || p.eq_ignore_ascii_case("QUOTED-PRINTABLE")
        });
        if !is_qp {
            out.push_str(line);
            out.push('\n');
            continue;
        }
        // Soft line breaks: a value line ending in `=` continues on the next.
        let mut encoded = value.to_owned();
        while encoded.ends_with('=') {
            match lines.next() {
                Some(next) => {
                    encoded.pop();
                    encoded.push_str(next);
                }
                None => break,
            }
        }
        let charset = params.iter().skip(1).find_map(|p| {
            let (k, v) = p.split_once('=')?;
            k.trim()
                .eq_ignore_ascii_case("CHARSET")
                .then(|| v.trim().trim_matches('"'))
        });
        let decoded = decode_charset(&qp_bytes(&encoded), charset);
        let kept: Vec<&str> = params
            .iter()
            .enumerate()
            .filter(|(i, p)| {
                let p = p.trim();
                *i == 0
                    || !(p.eq_ignore_ascii_case("QUOTED-PRINTABLE")
                        || p.to_ascii_uppercase().starts_with("ENCODING=")
                        || p.to_ascii_uppercase().starts_with("CHARSET="))
            })
            .map(|(_, p)| *p)
            .collect();
        out.push_str(&kept.join(";"));
        out.push(':');
        for c in decoded.chars() {
            match c {
                '\r' => {}
                '\n' => out.push_str("\\n"),
                c if c.is_control() => {}
                c => out.push(c),
            }
        }
        out.push('\n');
    }
    out
}

/// `NAME;PARAMS` and the value of a property line (the first `:` outside
/// double quotes), or `None` for a continuation or a line without `:`.
fn split_property(line: &str) -> Option<(&str, &str)> {
    if line.starts_with([' ', '\t']) {
        return None;
    }
    let mut quoted = false;
    for (i, c) in line.char_indices() {
        match c {
            '"' => quoted = !quoted,
            ':' if !quoted => return Some((&line[..i], &line[i + 1..])),
            _ => {}
        }
    }
    None
}

fn qp_bytes(s: &str) -> Vec<u8> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'='
            && i + 2 < b.len()
            && let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2]))
        {
            out.push(h << 4 | l);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    out
}

fn hex(c: u8) -> Option<u8> {
    (c as char).to_digit(16).map(|d| d as u8)
}

fn decode_charset(bytes: &[u8], charset: Option<&str>) -> String {
    if let Some(enc) = charset.and_then(|c| encoding_rs::Encoding::for_label(c.as_bytes())) {
        return enc.decode_without_bom_handling(bytes).0.into_owned();
    }
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_owned(),
        Err(_) => encoding_rs::WINDOWS_1252
            .decode_without_bom_handling(bytes)
            .0
            .into_owned(),
    }
}

/// The texts of a property's values by position (N's and ORG's components);
/// a component holding a list (N's additional names) is joined with spaces.
fn components(values: &[VCardValue]) -> Vec<String> {
    values
        .iter()
        .map(|v| match v {
            VCardValue::Text(s) => s.trim().to_owned(),
            VCardValue::Component(parts) => parts
                .iter()
                .map(|p| p.trim())
                .filter(|p| !p.is_empty())
                .collect::<Vec<_>>()
                .join(" "),
            _ => String::new(),
        })
        .collect()
}

fn first_text(card: &VCard, prop: VCardProperty) -> Option<String> {
    card.properties(&prop)
        .map(|e| components(&e.values).join(" ").trim().to_owned())
        .find(|s| !s.is_empty())
}

fn take_card(card: &VCard, pos: &SourcePos, out: &mut Observations) {
    let full_name = first_text(card, VCardProperty::Fn);
    let n = card
        .property(&VCardProperty::N)
        .map(|e| components(&e.values))
        .unwrap_or_default();
    let part = |i: usize| n.get(i).map(String::as_str);
    let n_name = super::table::join_name(&[part(1), part(2), part(0)]);
    let org_parts: Vec<String> = card
        .property(&VCardProperty::Org)
        .map(|e| components(&e.values))
        .unwrap_or_default()
        .into_iter()
        .filter(|s| !s.is_empty())
        .collect();
    let title =
        first_text(card, VCardProperty::Title).or_else(|| first_text(card, VCardProperty::Role));
    let emails: Vec<Email> = card
        .properties(&VCardProperty::Email)
        .flat_map(|e| components(&e.values))
        .filter_map(|s| Email::parse(s.trim_start_matches("mailto:")).ok())
        .collect();

    let kind_org = card.property(&VCardProperty::Kind).is_some_and(|e| {
        e.values
            .iter()
            .any(|v| matches!(v, VCardValue::Kind(VCardKind::Org)))
    });
    let show_as_company = card.entries.iter().any(|e| {
        matches!(&e.name, VCardProperty::Other(x) if x.eq_ignore_ascii_case("X-ABSHOWAS"))
            && components(&e.values)
                .iter()
                .any(|v| v.eq_ignore_ascii_case("COMPANY"))
    });
    let outlook_company = n_name.is_none()
        && org_parts.first().is_some_and(|o| {
            full_name
                .as_deref()
                .is_some_and(|f| f.eq_ignore_ascii_case(o))
        });
    if kind_org || show_as_company || outlook_company {
        let name = org_parts.first().cloned().or(full_name);
        match name {
            Some(name) => {
                out.org(&name, None, pos);
            }
            None => out.skip(pos.clone(), "an organization card without a name"),
        }
        return;
    }

    let org = org_parts.first().and_then(|o| out.org(o, None, pos));
    let department = (org_parts.len() > 1).then(|| org_parts[1..].join(" / "));
    let name = full_name.or(n_name);
    if name.is_none() && emails.is_empty() {
        out.skip(
            pos.clone(),
            "the card has no name (FN or N) and no valid e-mail address",
        );
        return;
    }
    let mut emails = emails.into_iter();
    let Some(r) = out.person(
        PersonHint {
            name,
            email: emails.next(),
            external_id: None,
            org,
        },
        pos,
    ) else {
        return;
    };
    for e in emails {
        out.add_email(r, e);
    }
    for tel in card.properties(&VCardProperty::Tel) {
        let kind = tel_kind(&tel.params);
        for text in components(&tel.values) {
            out.add_phone(r, &text, kind, pos);
        }
    }
    let p = out.person_mut(r);
    p.described = true;
    if p.title.is_none() {
        p.title = title;
    }
    if p.department.is_none() {
        p.department = department;
    }
}

/// What a TEL is for, from its TYPE parameters in any vCard version.
fn tel_kind(params: &[VCardParameter]) -> Option<PhoneKind> {
    let mut words: Vec<String> = Vec::new();
    for p in params {
        if let VCardParameterName::Other(name) = &p.name {
            words.push(name.to_ascii_lowercase());
        }
        match &p.value {
            VCardParameterValue::Type(t) => words.push(
                match t {
                    VCardType::Work => "work",
                    VCardType::Home => "home",
                    VCardType::Cell => "cell",
                    VCardType::Fax | VCardType::Pager | VCardType::MainNumber => "other",
                    _ => "",
                }
                .to_owned(),
            ),
            VCardParameterValue::Text(s) => words.extend(
                s.split(',')
                    .map(|w| w.trim().trim_matches('"').to_ascii_lowercase()),
            ),
            _ => {}
        }
    }
    let has = |w: &[&str]| words.iter().any(|x| w.contains(&x.as_str()));
    if has(&["cell", "mobile", "iphone"]) {
        Some(PhoneKind::Mobile)
    } else if has(&["work"]) {
        Some(PhoneKind::Work)
    } else if has(&["home"]) {
        Some(PhoneKind::Home)
    } else if has(&["fax", "pager", "other", "main", "main-number"]) {
        Some(PhoneKind::Other)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Observations {
        let mut o = Observations::new();
        read_text(Arc::from("t.vcf"), text, &mut o).unwrap();
        o
    }

    fn emails(o: &Observations, i: usize) -> Vec<&str> {
        o.people[i].emails.iter().map(|e| e.as_str()).collect()
    }

    fn fixture(name: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/ingest/contacts")
            .join(name)
    }

    fn read_fixture(name: &str) -> Observations {
        let mut o = Observations::new();
        read_vcard(&fixture(name), &mut o).unwrap();
        o
    }

    /// (name, emails, org, title, department) of every person.
    type Row<'a> = (
        Option<&'a str>,
        Vec<&'a str>,
        Option<&'a str>,
        Option<&'a str>,
        Option<&'a str>,
    );

    fn people(o: &Observations) -> Vec<Row<'_>> {
        o.people
            .iter()
            .map(|p| {
                assert!(p.described);
                (
                    p.name.as_deref(),
                    p.emails.iter().map(|e| e.as_str()).collect(),
                    p.org.map(|r| o.orgs[r.0 as usize].name.as_str()),
                    p.title.as_deref(),
                    p.department.as_deref(),
                )
            })
            .collect()
    }

    /// (number, kind) of every phone of person `i`.
    fn phones(o: &Observations, i: usize) -> Vec<(&str, Option<PhoneKind>)> {
        o.people[i]
            .phones
            .iter()
            .map(|p| (p.number.as_str(), p.kind))
            .collect()
    }

    #[test]
    fn phones_with_their_kinds_in_2_1_3_0_and_4_0() {
        let mut o = Observations::new();
        o.phone_region = Some(renmai_graph::PhoneRegion::parse("DE").unwrap());
        read_vcard(&fixture("phones-windows-1252.vcf"), &mut o).unwrap();
        assert_eq!(o.people[0].name.as_deref(), Some("Jürgen Weiß"));
        assert_eq!(
            phones(&o, 0),
            [
                ("+49891234567", Some(PhoneKind::Work)),
                ("+491712345678", Some(PhoneKind::Mobile))
            ]
        );
        assert_eq!(o.people[1].name.as_deref(), Some("Chloé Dubois"));
        assert_eq!(
            phones(&o, 1),
            [
                ("+33123456789", Some(PhoneKind::Home)),
                ("+49891234999", Some(PhoneKind::Other))
            ]
        );
        assert_eq!(
            phones(&o, 2),
            [
                ("+34911234567", Some(PhoneKind::Work)),
                ("+34600123456", Some(PhoneKind::Mobile))
            ]
        );
        // The TEL that is no number is listed with its card's line; Chloé is kept.
        assert_eq!(o.skipped.len(), 1, "{:?}", o.skipped);
        assert_eq!(o.skipped[0].source.line, 10);
        assert!(
            o.skipped[0].reason.contains("\"call reception\"")
                && o.skipped[0].reason.contains("the person is kept"),
            "{}",
            o.skipped[0].reason
        );

        // Without a default region national numbers stay as written, unnormalized.
        let o = read_fixture("phones-windows-1252.vcf");
        assert_eq!(o.people[0].phones[1].number.as_str(), "01712345678");
        assert!(!o.people[0].phones[1].number.is_normalized());
    }

    #[test]
    fn outlook_2_1_card() {
        let o = read_fixture("folkerkinzel-outlook-2.1.vcf");
        assert_eq!(
            people(&o),
            [(
                Some("Rudi Wimmel"),
                vec!["wimmel@wurstdarm.de"],
                Some("Wurstdarm KG"),
                Some("Compliance Officer"),
                None
            )]
        );
        assert!(o.skipped.is_empty());
        assert_eq!(o.files[0].read, 1);
    }

    #[test]
    fn quoted_printable_org_with_department_and_several_emails() {
        let o = read_fixture("folkerkinzel-qp-2.1.vcf");
        assert_eq!(
            people(&o),
            [(
                Some("Maxl"),
                vec![
                    "privat@folker-kinzel.de",
                    "business@folker-kinzel.de",
                    "andere@folker-kinzel.de"
                ],
                Some("Firma"),
                Some("Position"),
                Some("Führungsetage")
            )]
        );
    }

    #[test]
    fn version_3_with_groups_and_version_4() {
        let o = read_fixture("folkerkinzel-google-3.0.vcf");
        assert_eq!(
            people(&o),
            [
                (
                    Some("Folker Kinzel"),
                    vec!["email1@wumms.de", "email2@folker-kinzel.de"],
                    None,
                    None,
                    None
                ),
                (
                    Some("KMS Außenstelle"),
                    vec!["blablö@blub.com"],
                    Some("KMS Außenstelle"),
                    None,
                    None
                ),
            ]
        );
        let o = read_fixture("folkerkinzel-cardbook-4.0.vcf");
        assert_eq!(
            people(&o),
            [
                (
                    Some("Möhrke Gerda"),
                    vec!["info@kinderland-blubblub.de"],
                    Some("KiTa Öhrdingen"),
                    None,
                    None
                ),
                (
                    Some("Dr. Max Horst Mustermann jr. Maxl SED"),
                    vec![
                        "privat@freenet.de",
                        "geschaeftlich@freenet.de",
                        "sonstige@freenet.de",
                        "nichts@wabbel.de"
                    ],
                    Some("SED"),
                    Some("Gröfaz"),
                    None
                ),
            ]
        );
    }

    #[test]
    fn a_windows_1252_file() {
        let o = read_fixture("folkerkinzel-windows-1252-2.1.vcf");
        assert_eq!(
            people(&o),
            [(Some("Sören Täve Nüßlebaum"), vec![], None, None, None)]
        );
    }

    #[test]
    fn malformed_cards_are_skipped_with_their_line() {
        let o = read_fixture("edge-cases.vcf");
        assert_eq!(
            people(&o),
            [
                (
                    Some("Li Wei"),
                    vec!["li.wei@acme-industrial.example", "liwei@mail.example"],
                    Some("Acme Industrial Group"),
                    Some("Head of Purchasing and Supplier Quality for the European Region"),
                    Some("Procurement / EMEA")
                ),
                (
                    Some("François Müller"),
                    vec!["f.muller@example.org"],
                    None,
                    None,
                    None
                ),
            ]
        );
        // The KIND:org card is the same organization as Li Wei's.
        assert_eq!(o.orgs.len(), 1);
        let skipped: Vec<(String, &str)> = o
            .skipped
            .iter()
            .map(|s| (s.source.to_string(), s.reason.as_str()))
            .collect();
        let file = fixture("edge-cases.vcf").display().to_string();
        assert_eq!(
            skipped,
            [
                (
                    format!("{file}:21"),
                    "the card has no name (FN or N) and no valid e-mail address"
                ),
                (
                    format!("{file}:32"),
                    "the card has no END:VCARD line (the file is cut short?)"
                ),
            ]
        );
        assert_eq!(o.files[0].read, 5);
        assert_eq!(o.files[0].skipped, 2);
    }

    #[test]
    fn a_folder_of_cards_and_files_that_are_not_cards() {
        let mut o = Observations::new();
        read_vcard(&fixture(""), &mut o).unwrap();
        assert_eq!(o.files.len(), 7);
        let err = read_text(Arc::from("x.vcf"), "hello\n", &mut o).unwrap_err();
        assert_eq!(
            err.to_string(),
            "cannot read x.vcf: no BEGIN:VCARD line: this is not a vCard file"
        );
        let err = read_vcard(Path::new("/nonexistent/x.vcf"), &mut o).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("cannot read /nonexistent/x.vcf: ")
        );
    }

    #[test]
    fn no_panic_on_odd_input() {
        for text in [
            "BEGIN:VCARD\nEND:VCARD\n",
            "BEGIN:VCARD\nFN;ENCODING=QUOTED-PRINTABLE:=\nEND:VCARD\n",
            "BEGIN:VCARD\nFN;ENCODING=QUOTED-PRINTABLE:=E2=\n",
            "BEGIN:VCARD\nN:;;;;\nORG:;;\nEMAIL:@\nEND:VCARD",
            "BEGIN:VCARD\nBEGIN:VCARD\nEND:VCARD\nEND:VCARD\nEND:VCARD\n",
            "BEGIN:VCARD\nFN;CHARSET=\"x:QUOTED-PRINTABLE:=ZZ\nEND:VCARD\n",
        ] {
            let mut o = Observations::new();
            let _ = read_text(Arc::from("t.vcf"), text, &mut o);
        }
    }

    #[test]
    fn quoted_printable_without_charset_utf8_and_bare_parameter() {
        let o = read(
            "BEGIN:VCARD\r\nVERSION:2.1\r\nN;ENCODING=QUOTED-PRINTABLE:M=C3=BCller;J=C3=\r\n=BCrgen\r\n\
             FN;QUOTED-PRINTABLE:J=C3=BCrgen M=C3=BCller\r\nORG;CHARSET=Windows-1252;ENCODING=QUOTED-PRINTABLE:B=E4cker AG;Gesch=E4ftsf=FChrung\r\n\
             EMAIL;INTERNET:jm@baecker.de\r\nTEL;CELL:+49 1\r\nEND:VCARD\r\n",
        );
        assert_eq!(o.people.len(), 1, "{:?}", o.skipped);
        assert_eq!(o.people[0].name.as_deref(), Some("Jürgen Müller"));
        assert_eq!(o.orgs[0].name, "Bäcker AG");
        assert_eq!(o.people[0].department.as_deref(), Some("Geschäftsführung"));
        assert_eq!(emails(&o, 0), ["jm@baecker.de"]);
    }
}
