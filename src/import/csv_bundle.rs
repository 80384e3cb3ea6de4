//! Reads and writes the CSV form of a bundle: a folder with one file per
//! record kind (see the README, "Bundle format").

use std::fs::File;
use std::io::{BufReader, BufWriter};
use std::path::Path;

use renmai_graph::*;

use crate::bundle::Bundle;
use crate::import::ImportError;
use crate::validate::{Location, Locations, RecordError, SourceMap};
use rustc_hash::FxHashMap;

/// One file of the folder: its required and optional columns.
struct Spec {
    file: &'static str,
    required: &'static [&'static str],
    optional: &'static [&'static str],
}

const ORGANIZATIONS: Spec = Spec {
    file: "organizations.csv",
    required: &["org_id", "name"],
    optional: &["industry", "region", "is_ours", "tier", "parent_id"],
};
const PEOPLE: Spec = Spec {
    file: "people.csv",
    required: &["person_id", "org_id", "name"],
    optional: &[
        "title",
        "level",
        "department",
        "role",
        "reports_to",
        "attitude",
        "emails",
        "external_ids",
        "phones",
    ],
};
const ACCOUNT_TEAM: Spec = Spec {
    file: "account_team.csv",
    required: &["org_id", "person_id", "team_role"],
    optional: &[],
};
const INTERACTIONS: Spec = Spec {
    file: "interactions.csv",
    required: &[
        "interaction_id",
        "from_person",
        "to_person",
        "kind",
        "timestamp",
    ],
    optional: &["direction", "other_participants", "in_reply_to"],
};
const INFLUENCES: Spec = Spec {
    file: "influences.csv",
    required: &["influencer_id", "influenced_id", "strength"],
    optional: &["kind"],
};
const ASSESSMENTS: Spec = Spec {
    file: "assessments.csv",
    required: &["from_person", "to_person", "level", "assessed_at"],
    optional: &["by_person"],
};
const OPPORTUNITIES: Spec = Spec {
    file: "opportunities.csv",
    required: &["opportunity_id", "account_id", "name", "status"],
    optional: &["amount", "stage", "close_date", "owner_id", "competitors"],
};
const OPPORTUNITY_STAGES: Spec = Spec {
    file: "opportunity_stages.csv",
    required: &["opportunity_id", "stage", "at"],
    optional: &[],
};
const OPPORTUNITY_CONTACTS: Spec = Spec {
    file: "opportunity_contacts.csv",
    required: &["opportunity_id", "person_id"],
    optional: &[
        "role",
        "attitude",
        "solution_acceptance",
        "price_acceptance",
        "assessed_at",
    ],
};

/// The files that make a folder a CSV bundle; the others are optional.
pub const REQUIRED_FILES: &[&str] = &["organizations.csv", "people.csv"];

/// True when `dir` looks like a CSV bundle.
pub fn is_bundle_dir(dir: &Path) -> bool {
    dir.is_dir() && REQUIRED_FILES.iter().all(|f| dir.join(f).is_file())
}

/// Column positions of one file, by column name.
type Cols = FxHashMap<&'static str, usize>;

/// Reads one row's fields by column name, recording errors with their place.
/// Values are borrowed from the record; only an error copies one.
struct Row<'a> {
    rec: &'a csv::StringRecord,
    cols: &'a Cols,
    file: &'a str,
    line: u64,
    errors: &'a mut Vec<RecordError>,
}

impl<'a> Row<'a> {
    fn raw(&self, col: &str) -> &'a str {
        let rec: &'a csv::StringRecord = self.rec;
        self.cols.get(col).and_then(|&i| rec.get(i)).unwrap_or("")
    }

    fn location(&self) -> Location {
        Location {
            file: self.file.to_owned(),
            line: self.line,
            path: None,
        }
    }

    fn opt_str(&self, col: &str) -> Option<String> {
        let v = self.raw(col).trim();
        (!v.is_empty()).then(|| v.to_owned())
    }

    fn req_str(&mut self, col: &str) -> String {
        let v = self.raw(col).trim().to_owned();
        if v.is_empty() {
            self.fail(col, "", "a value (the column is required)".into());
        }
        v
    }

    fn fail(&mut self, col: &str, value: &str, expected: String) {
        let location = self.location();
        self.errors.push(RecordError {
            location,
            field: col.to_owned(),
            value: value.to_owned(),
            expected,
        });
    }

    /// Parses a required value; `None` (with an error recorded) when bad.
    fn req<T>(
        &mut self,
        col: &str,
        parse: impl FnOnce(&str) -> Result<T, ModelError>,
    ) -> Option<T> {
        let v = self.raw(col);
        match parse(v) {
            Ok(x) => Some(x),
            Err(ModelError::Invalid { expected, .. }) => {
                self.fail(col, v, expected);
                None
            }
        }
    }

    /// Parses an optional value: empty means `None`.
    fn opt<T>(
        &mut self,
        col: &str,
        parse: impl FnOnce(&str) -> Result<T, ModelError>,
    ) -> Result<Option<T>, ()> {
        let v = self.raw(col);
        if v.trim().is_empty() {
            return Ok(None);
        }
        match parse(v) {
            Ok(x) => Ok(Some(x)),
            Err(ModelError::Invalid { expected, .. }) => {
                self.fail(col, v, expected);
                Err(())
            }
        }
    }

    /// A `;`-separated list of values.
    fn list<T>(&mut self, col: &str, parse: impl Fn(&str) -> Result<T, ModelError>) -> Vec<T> {
        let v = self.raw(col);
        let mut out = Vec::new();
        for part in v.split(';').map(str::trim).filter(|s| !s.is_empty()) {
            match parse(part) {
                Ok(x) => out.push(x),
                Err(ModelError::Invalid { expected, .. }) => self.fail(col, part, expected),
            }
        }
        out
    }
}

fn parse_bool(s: &str) -> Result<bool, ModelError> {
    match s.trim().to_ascii_lowercase().as_str() {
        "" | "0" | "false" | "no" => Ok(false),
        "1" | "true" | "yes" => Ok(true),
        _ => Err(ModelError::invalid("flag", "1 or 0 (true or false)", s)),
    }
}

fn parse_amount(s: &str) -> Result<f64, ModelError> {
    s.trim()
        .parse::<f64>()
        .ok()
        .filter(|a| a.is_finite() && *a >= 0.0)
        .ok_or_else(|| ModelError::invalid("amount", "a non-negative number like 125000.50", s))
}

fn parse_date(s: &str) -> Result<chrono::NaiveDate, ModelError> {
    chrono::NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
        .map_err(|_| ModelError::invalid("date", "a date like 2026-03-31", s))
}

/// Maps the header's column names to positions, refusing unknown, repeated
/// and missing required columns.
fn header_columns(
    spec: &Spec,
    headers: &csv::StringRecord,
    file_name: &str,
) -> Result<Cols, ImportError> {
    let mut cols = Cols::default();
    for (i, h) in headers.iter().enumerate() {
        let h = h.trim().trim_start_matches('\u{feff}');
        let known = spec.required.iter().chain(spec.optional).find(|c| **c == h);
        match known {
            Some(c) => {
                if cols.insert(c, i).is_some() {
                    return Err(header_error(
                        file_name,
                        format!("column `{h}` appears twice"),
                    ));
                }
            }
            None => {
                let all: Vec<&str> = spec.required.iter().chain(spec.optional).copied().collect();
                return Err(header_error(
                    file_name,
                    format!("unknown column `{h}`; expected columns: {}", all.join(", ")),
                ));
            }
        }
    }
    for c in spec.required {
        if !cols.contains_key(c) {
            return Err(header_error(
                file_name,
                format!("missing required column `{c}`"),
            ));
        }
    }
    Ok(cols)
}

/// The name a file of the folder is reported under.
fn file_name(dir: &Path, spec: &Spec) -> String {
    dir.join(spec.file).display().to_string()
}

/// Reads the data rows of one CSV stream whose header is already read,
/// calling `each` for every row that has the header's width and is not
/// blank. Line numbers are the reader's plus `line_base` (a chunk of a file
/// is read from its own line 1). Both the small files and the chunks of
/// `interactions.csv` are read here, so they check rows alike.
fn read_rows<R: std::io::Read>(
    rdr: &mut csv::Reader<R>,
    file: &str,
    line_base: u64,
    cols: &Cols,
    width: usize,
    errors: &mut Vec<RecordError>,
    mut each: impl FnMut(Row<'_>),
) -> Result<(), ImportError> {
    let mut rec = csv::StringRecord::new();
    loop {
        match rdr.read_record(&mut rec) {
            Ok(false) => return Ok(()),
            Ok(true) => {}
            Err(e) => return Err(csv_error(file, line_base, e)),
        }
        let line = line_base + rec.position().map(|p| p.line()).unwrap_or(0);
        if rec.len() != width {
            errors.push(RecordError {
                location: Location {
                    file: file.to_owned(),
                    line,
                    path: None,
                },
                field: "(row)".into(),
                value: format!("{} columns", rec.len()),
                expected: format!("{width} columns, as in the header"),
            });
            continue;
        }
        if rec.iter().all(|f| f.trim().is_empty()) {
            continue;
        }
        each(Row {
            rec: &rec,
            cols,
            file,
            line,
            errors,
        });
    }
}

/// Reads one file of the folder, calling `each` for every data row. A missing
/// optional file reads as empty.
fn read_file(
    dir: &Path,
    spec: &Spec,
    errors: &mut Vec<RecordError>,
    each: impl FnMut(Row<'_>),
) -> Result<(), ImportError> {
    let path = dir.join(spec.file);
    if !path.exists() {
        if REQUIRED_FILES.contains(&spec.file) {
            return Err(ImportError::Unreadable {
                path: path.display().to_string(),
                reason: "missing: a CSV bundle needs organizations.csv and people.csv".into(),
            });
        }
        return Ok(());
    }
    let file = File::open(&path).map_err(|e| ImportError::Unreadable {
        path: path.display().to_string(),
        reason: e.to_string(),
    })?;
    let mut rdr = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(BufReader::with_capacity(1 << 20, file));
    let file_name = file_name(dir, spec);
    let headers = rdr
        .headers()
        .map_err(|e| csv_error(&file_name, 0, e))?
        .clone();
    let cols = header_columns(spec, &headers, &file_name)?;
    read_rows(&mut rdr, &file_name, 0, &cols, headers.len(), errors, each)
}

fn header_error(file: &str, reason: String) -> ImportError {
    ImportError::Invalid(vec![RecordError {
        location: Location {
            file: file.to_owned(),
            line: 1,
            path: None,
        },
        field: "(header)".into(),
        value: String::new(),
        expected: reason,
    }])
}

/// A CSV syntax or encoding error, at the reader's line plus `line_base`.
fn csv_error(file: &str, line_base: u64, e: csv::Error) -> ImportError {
    let line = e.position().map(|p| line_base + p.line()).unwrap_or(0);
    let reason = match e.kind() {
        csv::ErrorKind::Utf8 { .. } => {
            "text in UTF-8 (this row has bytes that are not UTF-8)".to_owned()
        }
        _ => format!("well-formed CSV ({e})"),
    };
    ImportError::Invalid(vec![RecordError {
        location: Location {
            file: file.to_owned(),
            line,
            path: None,
        },
        field: "(row)".into(),
        value: String::new(),
        expected: reason,
    }])
}

/// Reads a CSV bundle folder. Row errors are collected (all of them, up to
/// the reporting limit) so a user can fix a file in one pass.
pub fn read_dir(dir: &Path) -> Result<(Bundle, SourceMap), ImportError> {
    let mut b = Bundle::default();
    let mut src = SourceMap::default();
    let mut errors: Vec<RecordError> = Vec::new();

    src.organizations = Locations::in_file(file_name(dir, &ORGANIZATIONS));
    read_file(dir, &ORGANIZATIONS, &mut errors, |mut r| {
        let id = r.req("org_id", OrgId::parse);
        let name = r.req_str("name");
        let is_ours = r.opt("is_ours", parse_bool).map(|x| x.unwrap_or(false));
        let parent = r.opt("parent_id", OrgId::parse);
        if let (Some(id), Ok(is_ours), Ok(parent)) = (id, is_ours, parent) {
            b.organizations.push(Organization {
                id,
                name,
                industry: r.opt_str("industry"),
                region: r.opt_str("region"),
                tier: r.opt_str("tier"),
                is_ours,
                parent,
            });
            src.organizations.push_line(r.line);
        }
    })?;

    src.people = Locations::in_file(file_name(dir, &PEOPLE));
    read_file(dir, &PEOPLE, &mut errors, |mut r| {
        let id = r.req("person_id", PersonId::parse);
        let org = r.req("org_id", OrgId::parse);
        let name = r.req_str("name");
        let level = r
            .opt("level", Level::parse)
            .map(|l| l.unwrap_or(Level::UNKNOWN));
        let role = r
            .opt("role", BuyingRole::parse_optional)
            .map(Option::flatten);
        let attitude = r
            .opt("attitude", Attitude::parse_optional)
            .map(Option::flatten);
        let reports_to = r.opt("reports_to", PersonId::parse);
        let emails = r.list("emails", Email::parse);
        let external_ids = r.list("external_ids", ExternalId::parse);
        let phones = r.list("phones", PersonPhone::parse_tagged);
        if let (Some(id), Some(org), Ok(level), Ok(role), Ok(attitude), Ok(reports_to)) =
            (id, org, level, role, attitude, reports_to)
        {
            b.people.push(Person {
                id,
                org,
                name,
                title: r.opt_str("title"),
                department: r.opt_str("department"),
                level,
                emails,
                external_ids,
                phones,
                reports_to,
                role,
                attitude,
            });
            src.people.push_line(r.line);
        }
    })?;

    src.account_team = Locations::in_file(file_name(dir, &ACCOUNT_TEAM));
    read_file(dir, &ACCOUNT_TEAM, &mut errors, |mut r| {
        let org = r.req("org_id", OrgId::parse);
        let person = r.req("person_id", PersonId::parse);
        let role = r.req("team_role", TeamRole::parse);
        if let (Some(org), Some(person), Some(role)) = (org, person, role) {
            b.account_team.push(TeamMember { org, person, role });
            src.account_team.push_line(r.line);
        }
    })?;

    read_interactions(dir, &mut b, &mut src, &mut errors)?;

    src.influences = Locations::in_file(file_name(dir, &INFLUENCES));
    read_file(dir, &INFLUENCES, &mut errors, |mut r| {
        let from = r.req("influencer_id", PersonId::parse);
        let to = r.req("influenced_id", PersonId::parse);
        let strength = r.req("strength", Strength::parse);
        let kind = r
            .opt("kind", InfluenceKind::parse)
            .map(|k| k.unwrap_or(InfluenceKind::Other));
        if let (Some(from), Some(to), Some(strength), Ok(kind)) = (from, to, strength, kind) {
            b.influences.push(Influence {
                from,
                to,
                kind,
                strength,
            });
            src.influences.push_line(r.line);
        }
    })?;

    src.assessments = Locations::in_file(file_name(dir, &ASSESSMENTS));
    read_file(dir, &ASSESSMENTS, &mut errors, |mut r| {
        let from = r.req("from_person", PersonId::parse);
        let to = r.req("to_person", PersonId::parse);
        let level = r.req("level", ClosenessLevel::parse);
        let at = r.req("assessed_at", Timestamp::parse);
        let by = r.opt("by_person", PersonId::parse);
        if let (Some(from), Some(to), Some(level), Some(at), Ok(by)) = (from, to, level, at, by) {
            b.assessments.push(Assessment {
                from,
                to,
                level,
                at,
                by,
            });
            src.assessments.push_line(r.line);
        }
    })?;

    src.opportunities = Locations::in_file(file_name(dir, &OPPORTUNITIES));
    read_file(dir, &OPPORTUNITIES, &mut errors, |mut r| {
        let id = r.req("opportunity_id", OpportunityId::parse);
        let account = r.req("account_id", OrgId::parse);
        let name = r.req_str("name");
        let status = r.req("status", OpportunityStatus::parse);
        let amount = r.opt("amount", parse_amount);
        let close_date = r.opt("close_date", parse_date);
        let owner = r.opt("owner_id", PersonId::parse);
        if let (Some(id), Some(account), Some(status), Ok(amount), Ok(close_date), Ok(owner)) =
            (id, account, status, amount, close_date, owner)
        {
            b.opportunities.push(Opportunity {
                id,
                account,
                name,
                amount,
                stage: r.opt_str("stage"),
                status,
                close_date,
                owner,
                // `;`-separated; validation refuses names that would not round-trip.
                competitors: r
                    .raw("competitors")
                    .split(';')
                    .map(str::trim)
                    .filter(|c| !c.is_empty())
                    .map(str::to_owned)
                    .collect(),
            });
            src.opportunities.push_line(r.line);
        }
    })?;

    src.opportunity_contacts = Locations::in_file(file_name(dir, &OPPORTUNITY_CONTACTS));
    read_file(dir, &OPPORTUNITY_CONTACTS, &mut errors, |mut r| {
        let opportunity = r.req("opportunity_id", OpportunityId::parse);
        let person = r.req("person_id", PersonId::parse);
        let role = r
            .opt("role", BuyingRole::parse_optional)
            .map(Option::flatten);
        let attitude = r
            .opt("attitude", Attitude::parse_optional)
            .map(Option::flatten);
        let solution_acceptance = r.opt("solution_acceptance", Acceptance::parse);
        let price_acceptance = r.opt("price_acceptance", Acceptance::parse);
        let at = r.opt("assessed_at", Timestamp::parse);
        if let (Some(opportunity), Some(person), Ok(role), Ok(attitude), Ok(sa), Ok(pa), Ok(at)) = (
            opportunity,
            person,
            role,
            attitude,
            solution_acceptance,
            price_acceptance,
            at,
        ) {
            b.opportunity_contacts.push(OpportunityContact {
                opportunity,
                person,
                role,
                attitude,
                solution_acceptance: sa,
                price_acceptance: pa,
                at,
            });
            src.opportunity_contacts.push_line(r.line);
        }
    })?;

    src.opportunity_stages = Locations::in_file(file_name(dir, &OPPORTUNITY_STAGES));
    read_file(dir, &OPPORTUNITY_STAGES, &mut errors, |mut r| {
        let opportunity = r.req("opportunity_id", OpportunityId::parse);
        let stage = r.req_str("stage");
        let at = r.req("at", Timestamp::parse);
        if let (Some(opportunity), Some(at)) = (opportunity, at)
            && !stage.is_empty()
        {
            b.opportunity_stages.push(StageChange {
                opportunity,
                stage,
                at,
            });
            src.opportunity_stages.push_line(r.line);
        }
    })?;

    if errors.is_empty() {
        Ok((b, src))
    } else {
        Err(ImportError::Invalid(errors))
    }
}

/// One interaction row; `None` (with errors recorded) when it is bad.
fn parse_interaction(r: &mut Row<'_>) -> Option<Interaction> {
    let id = r.req("interaction_id", InteractionId::parse);
    let from = r.req("from_person", PersonId::parse);
    let to = r.req("to_person", PersonId::parse);
    let kind = r.req("kind", InteractionKind::parse);
    let at = r.req("timestamp", Timestamp::parse);
    let others = r.list("other_participants", PersonId::parse);
    let in_reply_to = r.opt("in_reply_to", InteractionId::parse).ok()?;
    let (id, from, to, kind, at) = (id?, from?, to?, kind?, at?);
    let mut participants = Vec::with_capacity(2 + others.len());
    participants.push(from.clone());
    participants.push(to);
    participants.extend(others);
    Some(Interaction {
        id,
        kind,
        at,
        initiator: from,
        participants,
        in_reply_to,
    })
}

/// Parsed rows of one chunk of a file, with their lines and errors.
#[derive(Default)]
struct Chunk {
    rows: Vec<Interaction>,
    lines: Vec<u64>,
    errors: Vec<RecordError>,
}

/// Reads `interactions.csv`, the big file of a bundle, on all cores: the
/// body is cut at line ends into chunks parsed in parallel. A file with any
/// quote character is read in one piece, since a quoted field may hold a
/// line end.
fn read_interactions(
    dir: &Path,
    b: &mut Bundle,
    src: &mut SourceMap,
    errors: &mut Vec<RecordError>,
) -> Result<(), ImportError> {
    let path = dir.join(INTERACTIONS.file);
    if !path.exists() {
        return Ok(());
    }
    let file_name = file_name(dir, &INTERACTIONS);
    let bytes = std::fs::read(&path).map_err(|e| ImportError::Unreadable {
        path: file_name.clone(),
        reason: e.to_string(),
    })?;
    let header_end = memchr::memchr(b'\n', &bytes)
        .map(|i| i + 1)
        .unwrap_or(bytes.len());
    let mut hdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(&bytes[..header_end]);
    let mut headers = csv::StringRecord::new();
    hdr.read_record(&mut headers)
        .map_err(|e| csv_error(&file_name, 0, e))?;
    let cols = header_columns(&INTERACTIONS, &headers, &file_name)?;
    let width = headers.len();
    let body = &bytes[header_end..];

    // Chunk boundaries at line ends, and the line number each chunk starts at.
    let pieces = if memchr::memchr(b'"', body).is_some() || body.len() < (4 << 20) {
        1
    } else {
        rayon::current_num_threads() * 4
    };
    let mut bounds = vec![0usize];
    for k in 1..pieces {
        let guess = (body.len() * k / pieces).max(*bounds.last().expect("nonempty"));
        match memchr::memchr(b'\n', &body[guess..]) {
            Some(i) => bounds.push(guess + i + 1),
            None => break,
        }
    }
    bounds.push(body.len());
    bounds.dedup();
    let ranges: Vec<(usize, usize)> = bounds.windows(2).map(|w| (w[0], w[1])).collect();
    let mut first_line = Vec::with_capacity(ranges.len());
    let mut line = 2u64; // the header is line 1
    for (start, end) in &ranges {
        first_line.push(line);
        line += memchr::memchr_iter(b'\n', &body[*start..*end]).count() as u64;
    }

    use rayon::prelude::*;
    let chunks: Vec<Result<Chunk, ImportError>> = ranges
        .par_iter()
        .zip(first_line.par_iter())
        .map(|(&(start, end), &line0)| {
            let mut out = Chunk::default();
            let mut rdr = csv::ReaderBuilder::new()
                .has_headers(false)
                .flexible(true)
                .from_reader(&body[start..end]);
            let Chunk {
                rows,
                lines,
                errors,
            } = &mut out;
            read_rows(
                &mut rdr,
                &file_name,
                line0 - 1,
                &cols,
                width,
                errors,
                |mut row| {
                    if let Some(i) = parse_interaction(&mut row) {
                        lines.push(row.line);
                        rows.push(i);
                    }
                },
            )?;
            Ok(out)
        })
        .collect();
    let total: usize = chunks
        .iter()
        .map(|c| c.as_ref().map(|c| c.rows.len()).unwrap_or(0))
        .sum();
    b.interactions.reserve(total);
    src.interactions = Locations::in_file(file_name.clone());
    for c in chunks {
        let c = c?;
        b.interactions.extend(c.rows);
        src.interactions.extend_lines(c.lines);
        errors.extend(c.errors);
    }
    Ok(())
}

fn opt<T: ToString>(v: &Option<T>) -> String {
    v.as_ref().map(ToString::to_string).unwrap_or_default()
}

fn joined<T: ToString>(v: &[T]) -> String {
    v.iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(";")
}

/// Writes a bundle as a CSV folder that [`read_dir`] reads back to the same data.
pub fn write_dir(bundle: &Bundle, dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let open = |spec: &Spec| -> std::io::Result<csv::Writer<BufWriter<File>>> {
        let f = File::create(dir.join(spec.file))?;
        let mut w = csv::Writer::from_writer(BufWriter::with_capacity(1 << 20, f));
        let cols: Vec<&str> = spec.required.iter().chain(spec.optional).copied().collect();
        w.write_record(&cols)?;
        Ok(w)
    };
    let mut w = open(&ORGANIZATIONS)?;
    for o in &bundle.organizations {
        w.write_record([
            o.id.as_str(),
            &o.name,
            o.industry.as_deref().unwrap_or(""),
            o.region.as_deref().unwrap_or(""),
            if o.is_ours { "1" } else { "0" },
            o.tier.as_deref().unwrap_or(""),
            &opt(&o.parent),
        ])?;
    }
    w.flush()?;
    let mut w = open(&PEOPLE)?;
    for p in &bundle.people {
        w.write_record([
            p.id.as_str(),
            p.org.as_str(),
            &p.name,
            p.title.as_deref().unwrap_or(""),
            &p.level.get().to_string(),
            p.department.as_deref().unwrap_or(""),
            p.role.map(|r| r.as_str()).unwrap_or("none"),
            &opt(&p.reports_to),
            p.attitude.map(|a| a.as_str()).unwrap_or(""),
            &joined(&p.emails),
            &joined(&p.external_ids),
            &p.phones
                .iter()
                .map(PersonPhone::tagged)
                .collect::<Vec<_>>()
                .join(";"),
        ])?;
    }
    w.flush()?;
    let mut w = open(&ACCOUNT_TEAM)?;
    for t in &bundle.account_team {
        w.write_record([t.org.as_str(), t.person.as_str(), t.role.as_str()])?;
    }
    w.flush()?;
    let mut w = open(&INTERACTIONS)?;
    for i in &bundle.interactions {
        // from_person is the initiator; to_person the first other participant.
        let others: Vec<&PersonId> = i
            .participants
            .iter()
            .filter(|p| **p != i.initiator)
            .collect();
        let to = others.first().map(|p| p.as_str()).unwrap_or("");
        let rest = others
            .iter()
            .skip(1)
            .map(|p| p.as_str())
            .collect::<Vec<_>>()
            .join(";");
        w.write_record([
            i.id.as_str(),
            i.initiator.as_str(),
            to,
            i.kind.as_str(),
            &i.at.to_rfc3339(),
            "",
            &rest,
            &opt(&i.in_reply_to),
        ])?;
    }
    w.flush()?;
    let mut w = open(&INFLUENCES)?;
    for x in &bundle.influences {
        w.write_record([
            x.from.as_str(),
            x.to.as_str(),
            &x.strength.get().to_string(),
            x.kind.as_str(),
        ])?;
    }
    w.flush()?;
    let mut w = open(&ASSESSMENTS)?;
    for a in &bundle.assessments {
        w.write_record([
            a.from.as_str(),
            a.to.as_str(),
            &a.level.get().to_string(),
            &a.at.to_rfc3339(),
            &opt(&a.by),
        ])?;
    }
    w.flush()?;
    let mut w = open(&OPPORTUNITIES)?;
    for o in &bundle.opportunities {
        w.write_record([
            o.id.as_str(),
            o.account.as_str(),
            &o.name,
            o.status.as_str(),
            &opt(&o.amount),
            o.stage.as_deref().unwrap_or(""),
            &opt(&o.close_date),
            &opt(&o.owner),
            &o.competitors.join(";"),
        ])?;
    }
    w.flush()?;
    let mut w = open(&OPPORTUNITY_CONTACTS)?;
    for c in &bundle.opportunity_contacts {
        w.write_record([
            c.opportunity.as_str(),
            c.person.as_str(),
            c.role.map(|r| r.as_str()).unwrap_or(""),
            c.attitude.map(|a| a.as_str()).unwrap_or(""),
            &opt(&c.solution_acceptance.map(|a| a.get())),
            &opt(&c.price_acceptance.map(|a| a.get())),
            &opt(&c.at),
        ])?;
    }
    w.flush()?;
    let mut w = open(&OPPORTUNITY_STAGES)?;
    for s in &bundle.opportunity_stages {
        w.write_record([s.opportunity.as_str(), &s.stage, &s.at.to_rfc3339()])?;
    }
    w.flush()?;
    Ok(())
}
