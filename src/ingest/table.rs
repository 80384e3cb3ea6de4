//! CSV exports as spreadsheets and CRMs really write them, shared by the
//! contact and CRM readers: decoded through [`super::decode::text`], any
//! of `,` `;` or tab as the delimiter, CRLF or LF, preamble lines before the
//! header, duplicated column names, cells mangled by spreadsheets.
//!
//! - A column is found by name, ignoring case and surrounding spaces; a name
//!   that appears several times (an export that repeats `Email`) is one
//!   column whose value is the first non-empty cell among the repeats.
//! - Every row keeps the line its record starts on (a quoted cell may span
//!   lines), so a skipped record names its file and line.
//! - A row with more cells than the header is malformed (an unquoted
//!   delimiter shifted its cells: taking them would put values in the wrong
//!   fields); fewer cells than the header are missing values. Rows whose cells are all
//!   empty are ignored.

use std::path::Path;
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, NaiveDateTime};
use renmai_graph::{Email, Timestamp};

use super::{IngestError, SourcePos, decode, display_path};

/// A file's name as the user gave it, and its bytes.
pub fn read_file(path: &Path) -> Result<(Arc<str>, Vec<u8>), IngestError> {
    let file = display_path(path);
    let bytes = std::fs::read(path).map_err(|e| IngestError::unreadable(&file, e))?;
    Ok((file, bytes))
}

/// One CSV file: its header and its rows.
#[derive(Debug)]
pub struct Table {
    pub file: Arc<str>,
    pub headers: Vec<String>,
    pub rows: Vec<Row>,
}

/// One record of a [`Table`].
#[derive(Debug)]
pub struct Row {
    /// The 1-based line the record starts on.
    pub line: u32,
    cells: Vec<String>,
    /// Set when the record has more cells than the header: how many more.
    pub extra_cells: Option<usize>,
}

/// A column found in a [`Table`]: every position its name appears at.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Col(Vec<usize>);

impl Col {
    pub fn is_found(&self) -> bool {
        !self.0.is_empty()
    }
}

impl Table {
    /// Reads, decodes and parses a CSV file whose first non-empty line is the header.
    pub fn read(path: &Path) -> Result<Table, IngestError> {
        Self::read_with(path, None, "", |_| true)
    }

    /// Reads a CSV file whose header is the first record `is_header` accepts
    /// (records before it are a preamble, e.g. LinkedIn's "Notes:").
    /// `delimiter` overrides the sniffed one; `expect` describes the header
    /// in the error when none is found (e.g. `with "First Name"`).
    pub fn read_with(
        path: &Path,
        delimiter: Option<u8>,
        expect: &str,
        is_header: impl Fn(&[String]) -> bool,
    ) -> Result<Table, IngestError> {
        let (file, bytes) = read_file(path)?;
        Self::from_bytes_with(file, &bytes, delimiter, expect, is_header)
    }

    /// [`Table::read`] of a file's bytes; `file` names it in positions and errors.
    pub fn from_bytes(file: Arc<str>, bytes: &[u8]) -> Result<Table, IngestError> {
        Self::from_bytes_with(file, bytes, None, "", |_| true)
    }

    /// [`Table::read_with`] of a file's bytes.
    pub fn from_bytes_with(
        file: Arc<str>,
        bytes: &[u8],
        delimiter: Option<u8>,
        expect: &str,
        is_header: impl Fn(&[String]) -> bool,
    ) -> Result<Table, IngestError> {
        let text = decode::text(&file, bytes)?;
        Self::parse(file, &text, delimiter, expect, is_header)
    }

    /// Parses decoded text; see [`Table::read_with`].
    pub fn parse(
        file: Arc<str>,
        text: &str,
        delimiter: Option<u8>,
        expect: &str,
        is_header: impl Fn(&[String]) -> bool,
    ) -> Result<Table, IngestError> {
        let delimiter = delimiter.unwrap_or_else(|| sniff_delimiter(text));
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .delimiter(delimiter)
            .from_reader(text.as_bytes());
        let mut headers: Option<Vec<String>> = None;
        let mut rows = Vec::new();
        let mut record = csv::StringRecord::new();
        let (mut counted, mut lines_before) = (0usize, 0usize);
        loop {
            match reader.read_record(&mut record) {
                Ok(false) => break,
                Ok(true) => {}
                Err(e) => {
                    return Err(IngestError::unreadable(
                        &file,
                        format!("not a readable CSV file: {e}"),
                    ));
                }
            }
            // The line the record starts on, counted from its byte offset
            // (csv's own line count is off after CRLF records).
            let start = record
                .position()
                .map_or(0, |p| usize::try_from(p.byte()).unwrap_or(usize::MAX))
                .saturating_add(1)
                .min(text.len());
            // `start` may point at the `\n` of the previous record's CRLF.
            if start > counted {
                lines_before +=
                    memchr::memchr_iter(b'\n', &text.as_bytes()[counted..start]).count();
                counted = start;
            }
            let line = u32::try_from(lines_before + 1).unwrap_or(u32::MAX);
            let cells: Vec<String> = record.iter().map(str::to_owned).collect();
            if cells.iter().all(|c| c.trim().is_empty()) {
                continue;
            }
            match &headers {
                None => {
                    let names: Vec<String> = cells.iter().map(|c| c.trim().to_owned()).collect();
                    if is_header(&names) {
                        headers = Some(names);
                    }
                }
                Some(h) => {
                    let extra = cells.len().saturating_sub(h.len());
                    rows.push(Row {
                        line,
                        cells,
                        extra_cells: (extra > 0).then_some(extra),
                    });
                }
            }
        }
        let Some(headers) = headers else {
            return Err(IngestError::unreadable(
                &file,
                if expect.is_empty() {
                    "it is empty: no header line".to_owned()
                } else {
                    format!("no header line {expect}: not the expected export")
                },
            ));
        };
        Ok(Table {
            file,
            headers,
            rows,
        })
    }

    /// The column with the first of `names` that the header has.
    pub fn col(&self, names: &[&str]) -> Col {
        for name in names {
            let at: Vec<usize> = self
                .headers
                .iter()
                .enumerate()
                .filter(|(_, h)| h.eq_ignore_ascii_case(name))
                .map(|(i, _)| i)
                .collect();
            if !at.is_empty() {
                return Col(at);
            }
        }
        Col::default()
    }

    /// Like [`Table::col`], but a file without any of `names` is unreadable.
    pub fn require(&self, names: &[&str]) -> Result<Col, IngestError> {
        let c = self.col(names);
        if c.is_found() {
            return Ok(c);
        }
        let wanted = names
            .iter()
            .map(|n| format!("\"{n}\""))
            .collect::<Vec<_>>()
            .join(" or ");
        Err(IngestError::unreadable(
            &self.file,
            format!(
                "it has no column {wanted}; the columns found are: {}",
                self.headers_list()
            ),
        ))
    }

    /// The header as shown in messages.
    pub fn headers_list(&self) -> String {
        if self.headers.is_empty() {
            return "(none)".into();
        }
        self.headers
            .iter()
            .map(|h| format!("\"{h}\""))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Whether the header has a column of that name.
    pub fn has(&self, name: &str) -> bool {
        self.col(&[name]).is_found()
    }

    pub fn pos(&self, row: &Row) -> SourcePos {
        SourcePos {
            file: self.file.clone(),
            line: row.line,
        }
    }

    pub fn begin(&self, out: &mut super::Observations) {
        out.begin_file(&self.file);
        out.count_read(self.rows.len());
    }
}

impl Row {
    /// The first non-empty cell of the column, trimmed, with a spreadsheet's
    /// text wrapper `="..."` removed.
    pub fn get(&self, col: &Col) -> Option<&str> {
        col.0
            .iter()
            .filter_map(|&i| self.cells.get(i))
            .map(|c| unwrap_formula(c.trim()))
            .find(|c| !c.is_empty())
    }

    /// The reason to skip a record whose cells overflow the header.
    pub fn overflow_reason(&self, headers: usize) -> Option<String> {
        self.extra_cells.map(|n| {
            format!(
                "{} cells where the header has {headers}: an unquoted delimiter \
                 inside a value? ({n} too many)",
                self.cells.len()
            )
        })
    }
}

/// `="00123"` is how spreadsheets keep leading zeros; the value is `00123`.
fn unwrap_formula(s: &str) -> &str {
    s.strip_prefix("=\"")
        .and_then(|t| t.strip_suffix('"'))
        .unwrap_or(s)
}

/// The delimiter of the first line that has one: comma unless that line
/// has more semicolons or tabs (European spreadsheets, Outlook on some
/// locales, tab-separated exports).
fn sniff_delimiter(text: &str) -> u8 {
    for line in text.lines().take(50) {
        let count = |d: char| line.chars().filter(|&c| c == d).count();
        let (comma, semi, tab) = (count(','), count(';'), count('\t'));
        if comma + semi + tab == 0 {
            continue;
        }
        return if tab > comma && tab >= semi {
            b'\t'
        } else if semi > comma {
            b';'
        } else {
            b','
        };
    }
    b','
}

/// Values that mean "no date" in exports.
const EMPTY_DATES: &[&str] = &[
    "0000-00-00",
    "0000-00-00 00:00:00",
    "0000-00-00T00:00:00",
    "1/1/1900",
    "01/01/1900",
    "1900-01-01",
    "n/a",
    "na",
    "null",
    "none",
    "-",
];

/// Whether a cell is one of the markers exports use for "no date".
pub fn is_empty_date(s: &str) -> bool {
    let t = s.trim();
    t.is_empty() || EMPTY_DATES.iter().any(|m| m.eq_ignore_ascii_case(t))
}

/// A date or a date and time as exports write them, in UTC when the value
/// has no offset: `YYYY-MM-DD`, `YYYY-MM-DD HH:MM[:SS]`, RFC 3339,
/// Salesforce's `YYYY-MM-DDTHH:MM:SS.000+0000`, US `M/D/YYYY` with an
/// optional `H:MM[:SS] [AM|PM]`. `Ok(None)` for empty-date markers
/// (`""`, `0000-00-00`, `1/1/1900`, `N/A`, ...); `Err` names what was
/// expected. `format` (a chrono format) is tried first when given.
pub fn parse_time(s: &str, format: Option<&str>) -> Result<Option<Timestamp>, String> {
    let t = s.trim();
    if is_empty_date(t) {
        return Ok(None);
    }
    let utc = |dt: NaiveDateTime| Some(Timestamp::from_epoch_seconds(dt.and_utc().timestamp()));
    let midnight = |d: NaiveDate| utc(d.and_hms_opt(0, 0, 0).unwrap_or_default());
    if let Some(f) = format {
        if let Ok(dt) = DateTime::parse_from_str(t, f) {
            return Ok(Some(Timestamp::from_epoch_seconds(dt.timestamp())));
        }
        if let Ok(dt) = NaiveDateTime::parse_from_str(t, f) {
            return Ok(utc(dt));
        }
        if let Ok(d) = NaiveDate::parse_from_str(t, f) {
            return Ok(midnight(d));
        }
        return Err(format!("date {t:?} does not match the format {f:?}"));
    }
    if let Ok(dt) = DateTime::parse_from_rfc3339(t) {
        return Ok(Some(Timestamp::from_epoch_seconds(dt.timestamp())));
    }
    for f in ["%Y-%m-%dT%H:%M:%S%.f%z", "%Y-%m-%d %H:%M:%S%.f%z"] {
        if let Ok(dt) = DateTime::parse_from_str(t, f) {
            return Ok(Some(Timestamp::from_epoch_seconds(dt.timestamp())));
        }
    }
    for f in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%d %H:%M",
        "%m/%d/%Y %H:%M:%S",
        "%m/%d/%Y %H:%M",
        "%m/%d/%Y %I:%M:%S %p",
        "%m/%d/%Y %I:%M %p",
    ] {
        if let Ok(dt) = NaiveDateTime::parse_from_str(t, f) {
            return Ok(utc(dt));
        }
    }
    for f in ["%Y-%m-%d", "%m/%d/%Y"] {
        if let Ok(d) = NaiveDate::parse_from_str(t, f) {
            return Ok(midnight(d));
        }
    }
    Err(format!(
        "date {t:?} is not YYYY-MM-DD, YYYY-MM-DDTHH:MM:SS (with an offset or UTC) or M/D/YYYY"
    ))
}

/// A calendar date; see [`parse_time`] (the time of day, if any, is dropped).
pub fn parse_date(s: &str, format: Option<&str>) -> Result<Option<NaiveDate>, String> {
    Ok(parse_time(s, format)?.map(|t| t.to_datetime().date_naive()))
}

/// An amount as exports write it: `1200000`, `1,200,000.50`, `$1,200`,
/// `1.2E+06` (a spreadsheet's notation; the value is still usable, only
/// its last digits may be rounded). `Ok(None)` for an empty cell.
pub fn parse_amount(s: &str) -> Result<Option<f64>, String> {
    let t: String = s
        .trim()
        .chars()
        .filter(|c| !matches!(c, ',' | ' ' | '\u{a0}' | '$' | '€' | '£' | '¥'))
        .collect();
    if t.is_empty() {
        return Ok(None);
    }
    match t.parse::<f64>() {
        Ok(x) if x.is_finite() => Ok(Some(x)),
        _ => Err(format!("amount {:?} is not a number", s.trim())),
    }
}

/// A spreadsheet's scientific notation (`3.5E+14`): the digits of an id
/// shown that way are lost.
pub fn is_scientific(s: &str) -> bool {
    let t = s.trim();
    let Some(e) = t.find(['e', 'E']) else {
        return false;
    };
    let (mantissa, exp) = (&t[..e], &t[e + 1..]);
    let exp = exp.strip_prefix(['+', '-']).unwrap_or(exp);
    !mantissa.is_empty()
        && mantissa
            .chars()
            .all(|c| c.is_ascii_digit() || c == '.' || c == ',')
        && mantissa.chars().any(|c| c.is_ascii_digit())
        && !exp.is_empty()
        && exp.chars().all(|c| c.is_ascii_digit())
}

/// Checks an id cell: refuses one a spreadsheet turned into scientific
/// notation, with the reason. `what` names the column in the reason.
pub fn check_id<'a>(s: &'a str, what: &str) -> Result<&'a str, String> {
    if is_scientific(s) {
        return Err(format!(
            "{what} {s:?} was mangled by a spreadsheet (scientific notation): its digits are \
             lost; export again and do not open the file in a spreadsheet, or format the \
             column as text"
        ));
    }
    Ok(s)
}

/// A boolean cell: `true`/`false`, `1`/`0`, `yes`/`no`; `None` when empty or other.
pub fn parse_bool(s: &str) -> Option<bool> {
    match s.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "y" => Some(true),
        "false" | "0" | "no" | "n" => Some(false),
        _ => None,
    }
}

/// The e-mail addresses in a cell: one or several, separated by `,` `;`
/// or Google's ` ::: `, each either bare or `Name <address>`. Values that
/// are not addresses (an Exchange `/o=...` path, a typo) are left out.
pub fn emails_in(s: &str) -> Vec<Email> {
    let mut out = Vec::new();
    for part in s.split(":::").flat_map(|p| p.split([',', ';'])) {
        let p = part.trim();
        let addr = match (p.rfind('<'), p.rfind('>')) {
            (Some(a), Some(b)) if a < b => &p[a + 1..b],
            _ => p,
        };
        let addr = addr.trim().trim_start_matches("mailto:");
        if let Ok(e) = Email::parse(addr)
            && !out.contains(&e)
        {
            out.push(e);
        }
    }
    out
}

/// The e-mail domain of a website as CRMs store it: `https://www.acme.com/`,
/// `www.acme.com`, `acme.com:443/path` all give `acme.com`.
pub fn domain_of_website(s: &str) -> Option<String> {
    let t = s.trim().to_ascii_lowercase();
    let t = t.split_once("://").map(|(_, r)| r).unwrap_or(&t);
    let host = t.split(['/', '?', '#']).next().unwrap_or("");
    let host = host.rsplit_once('@').map(|(_, h)| h).unwrap_or(host);
    let host = host.split(':').next().unwrap_or("");
    let host = host.strip_prefix("www.").unwrap_or(host);
    let host = host.trim_end_matches('.');
    let ok = host.contains('.')
        && !host.starts_with('.')
        && host
            .chars()
            .all(|c| c.is_alphanumeric() || c == '.' || c == '-');
    ok.then(|| host.to_owned())
}

/// A person's name from its parts, skipping empty ones.
pub fn join_name(parts: &[Option<&str>]) -> Option<String> {
    let s = parts
        .iter()
        .flatten()
        .map(|p| p.trim())
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    (!s.is_empty()).then_some(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(text: &str) -> Table {
        Table::parse(Arc::from("t.csv"), text, None, "", |_| true).unwrap()
    }

    #[test]
    fn duplicated_columns_take_the_first_non_empty_value() {
        let t = table("Name,Email,Email\r\nA,,a@x.com\r\nB,b@x.com,c@x.com\r\n");
        let e = t.col(&["email"]);
        assert_eq!(t.rows[0].get(&e), Some("a@x.com"));
        assert_eq!(t.rows[1].get(&e), Some("b@x.com"));
        assert_eq!(t.rows[1].line, 3);
    }

    #[test]
    fn semicolons_quoted_newlines_and_lines() {
        let t = table("a;b\n\"x\ny\";2\n;\n3;4\n");
        assert_eq!(t.rows.len(), 2);
        assert_eq!(t.rows[0].line, 2);
        assert_eq!(t.rows[1].line, 5);
        assert_eq!(t.rows[1].get(&t.col(&["B"])), Some("4"));
    }

    #[test]
    fn a_missing_column_names_the_columns_found() {
        let t = table("First,Last\n");
        let err = t.require(&["Email", "E-mail"]).unwrap_err().to_string();
        assert_eq!(
            err,
            "cannot read t.csv: it has no column \"Email\" or \"E-mail\"; \
             the columns found are: \"First\", \"Last\""
        );
    }

    #[test]
    fn dates_and_empty_markers() {
        let ts = |s| parse_time(s, None).unwrap().map(|t| t.to_rfc3339());
        assert_eq!(ts("2024-03-05"), Some("2024-03-05T00:00:00Z".into()));
        assert_eq!(
            ts("2024-03-05T14:30:00.000+0000"),
            Some("2024-03-05T14:30:00Z".into())
        );
        assert_eq!(
            ts("2024-03-05T14:30:00Z"),
            Some("2024-03-05T14:30:00Z".into())
        );
        assert_eq!(ts("3/5/2024"), Some("2024-03-05T00:00:00Z".into()));
        assert_eq!(ts("3/5/2024 2:30 PM"), Some("2024-03-05T14:30:00Z".into()));
        for empty in ["", "0000-00-00", "1/1/1900", "N/A", " "] {
            assert_eq!(ts(empty), None, "{empty:?}");
        }
        assert!(parse_time("2024-13-45", None).is_err());
        assert!(parse_time("yesterday", None).is_err());
        assert_eq!(
            parse_time("05.03.2024", Some("%d.%m.%Y"))
                .unwrap()
                .map(|t| t.to_rfc3339()),
            Some("2024-03-05T00:00:00Z".into())
        );
    }

    #[test]
    fn amounts_ids_and_domains() {
        assert_eq!(parse_amount("1.2E+06"), Ok(Some(1_200_000.0)));
        assert_eq!(parse_amount("$1,200,000.50"), Ok(Some(1_200_000.5)));
        assert_eq!(parse_amount(""), Ok(None));
        assert!(parse_amount("lots").is_err());
        assert!(is_scientific("3.5E+14"));
        assert!(is_scientific("1e9"));
        assert!(!is_scientific("0015g00000AbCdE"));
        assert!(!is_scientific("E+14"));
        assert!(check_id("3.5E+14", "Record ID").is_err());
        assert_eq!(
            domain_of_website("https://www.Acme.com/about"),
            Some("acme.com".into())
        );
        assert_eq!(domain_of_website("acme"), None);
        assert_eq!(
            emails_in("Jane <jane@x.com>; bob@y.org ::: /o=Exchange/cn=bob")
                .iter()
                .map(|e| e.as_str())
                .collect::<Vec<_>>(),
            ["jane@x.com", "bob@y.org"]
        );
    }
}
