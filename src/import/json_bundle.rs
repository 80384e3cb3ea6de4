//! The JSON form of a bundle: one document
//! `{"format": "renmai-bundle", "version": 1, "organizations": [...], ...}`
//! whose records have the same fields as the domain types.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::bundle::{Bundle, JSON_FORMAT, JSON_VERSION};
use crate::import::ImportError;
use crate::validate::{Location, RecordError, SourceMap};

/// The document as it is on disk; unknown keys are refused so that a typo
/// ("interaction" for "interactions") is not silently ignored.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Document {
    format: String,
    version: u32,
    #[serde(default)]
    organizations: Vec<renmai_graph::Organization>,
    #[serde(default)]
    people: Vec<renmai_graph::Person>,
    #[serde(default)]
    account_team: Vec<renmai_graph::TeamMember>,
    #[serde(default)]
    interactions: Vec<renmai_graph::Interaction>,
    #[serde(default)]
    influences: Vec<renmai_graph::Influence>,
    #[serde(default)]
    assessments: Vec<renmai_graph::Assessment>,
    #[serde(default)]
    opportunities: Vec<renmai_graph::Opportunity>,
    #[serde(default)]
    opportunity_contacts: Vec<renmai_graph::OpportunityContact>,
    #[serde(default)]
    opportunity_stages: Vec<renmai_graph::StageChange>,
}

impl From<Document> for Bundle {
    fn from(d: Document) -> Bundle {
        Bundle {
            organizations: d.organizations,
            people: d.people,
            account_team: d.account_team,
            interactions: d.interactions,
            influences: d.influences,
            assessments: d.assessments,
            opportunities: d.opportunities,
            opportunity_contacts: d.opportunity_contacts,
            opportunity_stages: d.opportunity_stages,
        }
    }
}

/// True when the file's first non-blank byte opens a JSON object.
pub fn looks_like_json(path: &Path) -> std::io::Result<bool> {
    let mut buf = [0u8; 512];
    let n = File::open(path)?.read(&mut buf)?;
    let head = buf[..n].strip_prefix(b"\xef\xbb\xbf").unwrap_or(&buf[..n]);
    Ok(head.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{'))
}

fn invalid(
    file: &str,
    line: u64,
    path: Option<String>,
    field: &str,
    expected: String,
) -> ImportError {
    ImportError::Invalid(vec![RecordError {
        location: Location {
            file: file.to_owned(),
            line,
            path,
        },
        field: field.to_owned(),
        value: String::new(),
        expected,
    }])
}

/// Parses a JSON bundle; the error names the line and the JSON path of the
/// first bad value.
pub fn parse(text: &str, file: &str) -> Result<(Bundle, SourceMap), ImportError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let de = &mut serde_json::Deserializer::from_str(text);
    let doc: Document = serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let field = path
            .rsplit('.')
            .next()
            .unwrap_or("")
            .trim_end_matches(']')
            .to_owned();
        let pointer = Some(format!(
            "/{}",
            path.replace('.', "/")
                .replace(['[', ']'], "/")
                .replace("//", "/")
                .trim_matches('/')
        ));
        let msg = inner.to_string();
        // serde_json appends " at line L column C"; keep the line in the location.
        let msg = msg.split(" at line ").next().unwrap_or(&msg).to_owned();
        invalid(file, inner.line() as u64, pointer, &field, msg)
    })?;
    if doc.format != JSON_FORMAT {
        return Err(invalid(
            file,
            0,
            Some("/format".into()),
            "format",
            format!("\"{JSON_FORMAT}\""),
        ));
    }
    if doc.version != JSON_VERSION {
        return Err(invalid(
            file,
            0,
            Some("/version".into()),
            "version",
            format!("version {JSON_VERSION}"),
        ));
    }
    let bundle = Bundle::from(doc);
    let src = SourceMap::synthetic(file, &bundle);
    Ok((bundle, src))
}

pub fn read_file(path: &Path) -> Result<(Bundle, SourceMap), ImportError> {
    let mut text = String::new();
    BufReader::new(File::open(path).map_err(|e| ImportError::Unreadable {
        path: path.display().to_string(),
        reason: e.to_string(),
    })?)
    .read_to_string(&mut text)
    .map_err(|e| ImportError::Unreadable {
        path: path.display().to_string(),
        reason: format!("{e} (a JSON bundle must be UTF-8)"),
    })?;
    parse(&text, &path.display().to_string())
}

/// Serializes a bundle as a JSON document that [`parse`] reads back.
pub fn to_writer(bundle: &Bundle, w: impl std::io::Write) -> serde_json::Result<()> {
    #[derive(Serialize)]
    struct Out<'a> {
        format: &'static str,
        version: u32,
        #[serde(flatten)]
        bundle: &'a Bundle,
    }
    serde_json::to_writer_pretty(
        w,
        &Out {
            format: JSON_FORMAT,
            version: JSON_VERSION,
            bundle,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_kind_names_line_and_path() {
        let text = r#"{"format":"renmai-bundle","version":1,
"interactions":[
 {"id":"1","kind":"telegram","at":"2025-01-01T00:00:00Z","initiator":"a","participants":["a","b"]}
]}"#;
        let err = parse(text, "b.json").unwrap_err().to_string();
        assert!(err.contains("b.json:3"), "{err}");
        assert!(err.contains("/interactions/0/kind"), "{err}");
        assert!(err.contains("telegram"), "{err}");
    }

    #[test]
    fn wrong_format_tag() {
        let err = parse(r#"{"format":"x","version":1}"#, "b.json")
            .unwrap_err()
            .to_string();
        assert!(err.contains("renmai-bundle"), "{err}");
    }
}
