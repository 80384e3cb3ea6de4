//! Reading bundles from disk: a CSV folder or a JSON document, detected from
//! the path. Parsing is all-or-nothing: a bundle with any bad row is
//! rejected with every problem named, before a store is touched.

pub mod csv_bundle;
pub mod json_bundle;

use std::fmt;
use std::path::Path;

use crate::bundle::Bundle;
use crate::validate::{MAX_REPORTED_ERRORS, RecordError, SourceMap};

/// Why an import was refused. Nothing was written in any case.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("cannot read {path}: {reason}")]
    Unreadable { path: String, reason: String },
    #[error("{}", format_record_errors(.0))]
    Invalid(Vec<RecordError>),
}

fn format_record_errors(errs: &[RecordError]) -> String {
    let mut s = format!(
        "the import was rejected and nothing was written: {} problem{}",
        errs.len(),
        if errs.len() == 1 { "" } else { "s" }
    );
    for e in errs.iter().take(MAX_REPORTED_ERRORS) {
        s.push_str("\n  ");
        s.push_str(&e.to_string());
    }
    if errs.len() > MAX_REPORTED_ERRORS {
        s.push_str(&format!(
            "\n  … and {} more",
            errs.len() - MAX_REPORTED_ERRORS
        ));
    }
    s
}

/// The formats `renmai import` understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    CsvBundle,
    JsonBundle,
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Format::CsvBundle => "CSV bundle",
            Format::JsonBundle => "JSON bundle",
        })
    }
}

/// Decides what `path` holds: a folder of CSV files or a JSON document.
pub fn detect(path: &Path) -> Result<Format, ImportError> {
    let unreadable = |reason: &str| ImportError::Unreadable {
        path: path.display().to_string(),
        reason: reason.to_owned(),
    };
    if path.is_dir() {
        if csv_bundle::is_bundle_dir(path) {
            return Ok(Format::CsvBundle);
        }
        return Err(unreadable(
            "this folder is not a bundle: it needs organizations.csv and people.csv",
        ));
    }
    if path.is_file() {
        if json_bundle::looks_like_json(path).map_err(|e| unreadable(&e.to_string()))? {
            return Ok(Format::JsonBundle);
        }
        return Err(unreadable(
            "not a renmai bundle: expected a folder of CSV files or a JSON document starting with {",
        ));
    }
    Err(unreadable("no such file or folder"))
}

/// Reads a bundle in whatever format `path` holds.
pub fn read(path: &Path) -> Result<(Format, Bundle, SourceMap), ImportError> {
    let format = detect(path)?;
    let (bundle, src) = match format {
        Format::CsvBundle => csv_bundle::read_dir(path)?,
        Format::JsonBundle => json_bundle::read_file(path)?,
    };
    Ok((format, bundle, src))
}
