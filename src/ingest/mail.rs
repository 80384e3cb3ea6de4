//! Mailboxes: mbox files and Maildir folders, headers only.
//!
//! Each message is an e-mail between its author and its recipients: From
//! (the initiator), To and Cc, at its Date, keyed `mail:{Message-ID}` so a
//! message seen twice (a re-import, a copy in two folders) counts once.
//! Bodies are never parsed, with one exception: a message carrying a
//! calendar invitation (a `text/calendar` or `application/ics` part) has
//! that part handed to the iCalendar reader, so the invited meeting counts
//! too; of it, as of every message, only metadata is kept.
//!
//! Mail sent by an assistant on behalf of someone (`Sender: assistant`,
//! `From: boss`) is the boss's: the initiator is From, and `Sender` is not
//! read at all, so the assistant is not a participant. Bcc is not read
//! either (only the sender's copy has it, and its recipients were hidden
//! on purpose).
//!
//! mbox splitting works on the raw bytes, in large reads: `From ` lines that
//! start a message are found with memchr, a message's header block ends at
//! its first empty line, and only that block is given to `mail-parser`
//! (RFC 2047 encoded words, address lists and groups, dates).

use std::borrow::Cow;
use std::collections::HashSet;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use mail_parser::{HeaderName, MessageParser, MimeHeaders, PartType};
use memchr::memmem;
use renmai_graph::{Email, InteractionKind, Timestamp};
use sha2::{Digest, Sha256};

use super::ics::Calendars;
use super::{IngestError, Observations, ObservedInteraction, PersonHint, SourcePos, decode};

/// Bytes read from an mbox at a time.
const CHUNK: usize = 16 << 20;

/// Reads an mbox file (mboxo or mboxrd, LF or CRLF). Skipped messages are
/// named by the line of their `From ` separator. Invitations inside it are
/// expanded up to the current time.
pub fn read_mbox(path: &Path, out: &mut Observations) -> Result<(), IngestError> {
    read_mbox_as_of(path, Timestamp::from(chrono::Utc::now()), out)
}

/// [`read_mbox`], with invitations expanded up to `now`.
pub fn read_mbox_as_of(
    path: &Path,
    now: Timestamp,
    out: &mut Observations,
) -> Result<(), IngestError> {
    let name = super::display_path(path);
    let file = std::fs::File::open(path).map_err(|e| IngestError::unreadable(&name, e))?;
    read_mbox_from(name, file, now, out)
}

/// [`read_mbox_as_of`] of an mbox read from `file`; `name` names it.
pub fn read_mbox_from(
    name: Arc<str>,
    file: impl Read,
    now: Timestamp,
    out: &mut Observations,
) -> Result<(), IngestError> {
    out.begin_file(&name);
    let mut reader = MailReader::new();
    let r = split_mbox_batches(file, &name, |batch| {
        let msgs: Vec<(&[u8], SourcePos)> = batch
            .iter()
            .map(|&(raw, line)| {
                let pos = SourcePos {
                    file: name.clone(),
                    line,
                };
                (raw, pos)
            })
            .collect();
        reader.process(&msgs, out);
    });
    reader.finish(now, out);
    out.end_file();
    r
}

/// Reads a Maildir folder: the messages in `cur/` and `new/`, and in those of
/// nested folders (Maildir++ `.Sent/`, `.Archive.2024/`...), in name order.
/// Skipped messages are named by their file. Invitations inside it are
/// expanded up to the current time.
pub fn read_maildir(path: &Path, out: &mut Observations) -> Result<(), IngestError> {
    read_maildir_as_of(path, Timestamp::from(chrono::Utc::now()), out)
}

/// [`read_maildir`], with invitations expanded up to `now`.
pub fn read_maildir_as_of(
    path: &Path,
    now: Timestamp,
    out: &mut Observations,
) -> Result<(), IngestError> {
    let name = super::display_path(path);
    let mut files = Vec::new();
    let mut boxes = 0;
    maildir_files(path, &mut files, &mut boxes).map_err(|e| IngestError::unreadable(&name, e))?;
    if boxes == 0 {
        return Err(IngestError::unreadable(
            &name,
            "not a Maildir: no cur/ or new/ folder in it",
        ));
    }
    files.sort();
    out.begin_file(&name);
    let mut reader = MailReader::new();
    for chunk in files.chunks(BATCH) {
        let mut read = Vec::with_capacity(chunk.len());
        for file in chunk {
            let pos = SourcePos {
                file: super::display_path(file),
                line: 0,
            };
            match std::fs::read(file) {
                Ok(raw) => read.push((raw, pos)),
                Err(e) => out.skip(pos, format!("cannot read the message: {e}")),
            }
        }
        let msgs: Vec<(&[u8], SourcePos)> = read
            .iter()
            .map(|(raw, pos)| (&raw[..], pos.clone()))
            .collect();
        reader.process(&msgs, out);
    }
    reader.finish(now, out);
    out.end_file();
    Ok(())
}

fn maildir_files(dir: &Path, files: &mut Vec<PathBuf>, boxes: &mut usize) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let path = entry.path();
        if !entry.file_type()?.is_dir() {
            continue;
        }
        match entry.file_name().to_str() {
            Some("cur" | "new") => {
                *boxes += 1;
                for m in std::fs::read_dir(&path)? {
                    let m = m?;
                    // Dot files are the mail client's, not messages.
                    if m.file_type()?.is_file() && !m.file_name().to_string_lossy().starts_with('.')
                    {
                        files.push(m.path());
                    }
                }
            }
            Some("tmp") => {}
            _ => maildir_files(&path, files, boxes)?,
        }
    }
    Ok(())
}

/// Calls `f(message, line)` for each message of an mbox, `line` being the
/// 1-based line of its `From ` separator; the separator line is not part of
/// `message`. A `From ` line only separates messages when a header line
/// follows it (an unquoted "From " in a body of an mboxo file does not).
pub fn split_mbox(
    file: impl Read,
    name: &str,
    mut f: impl FnMut(&[u8], u32),
) -> Result<(), IngestError> {
    split_mbox_batches(file, name, |batch| {
        for &(m, line) in batch {
            f(m, line)
        }
    })
}

/// [`split_mbox`], handing over every message found in one read at once
/// (a few thousand), so that they can be parsed in parallel.
pub fn split_mbox_batches(
    mut file: impl Read,
    name: &str,
    mut f: impl FnMut(&[(&[u8], u32)]),
) -> Result<(), IngestError> {
    // Messages found in the buffer and not yet handed over: start, end, line.
    let mut found: Vec<(usize, usize, u64)> = Vec::new();
    let sep = memmem::Finder::new(b"\nFrom ");
    // Grown by the reads: a small mailbox does not cost a 16 MB allocation.
    let mut buf: Vec<u8> = Vec::new();
    let mut eof = false;
    let mut line: u64 = 1;
    // Where the current message (its `From ` line) starts, and where the
    // search for the next separator resumes.
    let mut scan = 0;
    let mut started = false;
    loop {
        if !eof {
            // read_to_end on a Take stops at the limit or at the end of the
            // file, so a short read is the end.
            let n = (&mut file)
                .take(CHUNK as u64)
                .read_to_end(&mut buf)
                .map_err(|e| IngestError::unreadable(name, e))?;
            eof = n < CHUNK;
        }
        if !started {
            // Blank lines may precede the first message; nothing else may.
            let lead = buf
                .iter()
                .take_while(|b| matches!(b, b'\n' | b'\r'))
                .count();
            if lead == buf.len() {
                if eof {
                    // An empty mailbox.
                    return Ok(());
                }
                continue;
            }
            if !buf[lead..].starts_with(b"From ") {
                return Err(IngestError::unreadable(
                    name,
                    "not an mbox file: it does not start with a \"From \" line",
                ));
            }
            line += count_lines(&buf[..lead]);
            buf.drain(..lead);
            started = true;
        }
        let mut start = 0;
        let mut need_more = false;
        while let Some(i) = sep.find(&buf[scan.max(start + 1)..]) {
            let at = scan.max(start + 1) + i + 1;
            match starts_message(&buf[at..]) {
                Some(true) => {
                    found.push((start, at, line));
                    line += count_lines(&buf[start..at]);
                    start = at;
                    scan = at;
                }
                Some(false) => scan = at,
                None if eof => scan = at,
                None => {
                    need_more = true;
                    break;
                }
            }
        }
        if eof {
            if start < buf.len() {
                found.push((start, buf.len(), line));
            }
            emit(&buf, &mut found, &mut f);
            return Ok(());
        }
        if !need_more {
            // Resume just before the end: a separator may straddle reads.
            scan = buf.len().saturating_sub(6).max(start + 1);
        }
        emit(&buf, &mut found, &mut f);
        buf.drain(..start);
        scan -= start;
    }
}

/// Whether a `From ` line at the start of `rest` begins a message: the line
/// after it must be a header (`Name:`). `None` when `rest` ends too early.
fn starts_message(rest: &[u8]) -> Option<bool> {
    let nl = memchr::memchr(b'\n', rest)?;
    let next = &rest[nl + 1..];
    for (i, &b) in next.iter().enumerate() {
        match b {
            b':' => return Some(i > 0),
            b'!'..=b'~' => {}
            _ => return Some(false),
        }
        if i > 200 {
            return Some(false);
        }
    }
    None
}

/// Hands over the messages found in `buf`, each without its `From ` line.
fn emit(buf: &[u8], found: &mut Vec<(usize, usize, u64)>, f: &mut impl FnMut(&[(&[u8], u32)])) {
    if found.is_empty() {
        return;
    }
    let batch: Vec<(&[u8], u32)> = found
        .drain(..)
        .map(|(start, end, line)| {
            let raw = &buf[start..end];
            let body = match memchr::memchr(b'\n', raw) {
                Some(nl) => &raw[nl + 1..],
                None => &[],
            };
            (body, u32::try_from(line).unwrap_or(u32::MAX))
        })
        .collect();
    f(&batch);
}

fn count_lines(b: &[u8]) -> u64 {
    // Vectorized by the compiler; memchr's iterator is slower on short lines.
    b.iter().filter(|&&c| c == b'\n').count() as u64
}

/// The end of a message's header block: the offset of its body (after the
/// first empty line), or the whole message when it has no body.
pub fn header_end(raw: &[u8]) -> usize {
    if raw.starts_with(b"\n") {
        return 1;
    }
    if raw.starts_with(b"\r\n") {
        return 2;
    }
    for nl in memchr::memchr_iter(b'\n', raw) {
        match raw.get(nl + 1) {
            Some(b'\n') => return nl + 2,
            Some(b'\r') if raw.get(nl + 2) == Some(&b'\n') => return nl + 3,
            _ => {}
        }
    }
    raw.len()
}

/// The header fields of one message that renmai keeps.
#[derive(Debug, Default, PartialEq)]
pub struct Headers {
    pub from: Vec<(Email, Option<String>)>,
    pub recipients: Vec<(Email, Option<String>)>,
    pub date: Option<Timestamp>,
    pub message_id: Option<String>,
    /// The Message-ID this message answers, if it is a reply.
    pub in_reply_to: Option<String>,
}

/// Parses only the headers renmai reads; every other header is skipped
/// unparsed.
pub struct HeaderParser {
    parser: MessageParser,
}

impl Default for HeaderParser {
    fn default() -> Self {
        Self::new()
    }
}

impl HeaderParser {
    pub fn new() -> Self {
        HeaderParser {
            parser: MessageParser::new()
                .header_address(HeaderName::From)
                .header_address(HeaderName::To)
                .header_address(HeaderName::Cc)
                .header_date(HeaderName::Date)
                .header_id(HeaderName::MessageId)
                .header_id(HeaderName::InReplyTo)
                .default_header_ignore(),
        }
    }

    /// The fields of a header block (see [`header_end`]); `None` when it
    /// holds no header at all.
    pub fn parse(&self, header_block: &[u8]) -> Option<Headers> {
        // Raw 8-bit header text (against RFC 5322, common from old clients)
        // is read as Windows-1252 rather than garbled; encoded words are
        // ASCII and unaffected.
        let transcoded;
        let header_block = if header_block.is_ascii() || std::str::from_utf8(header_block).is_ok() {
            header_block
        } else {
            transcoded = encoding_rs::WINDOWS_1252
                .decode_without_bom_handling(header_block)
                .0;
            transcoded.as_bytes()
        };
        let msg = self.parser.parse_headers(header_block)?;
        let list = |a: Option<&mail_parser::Address<'_>>| -> Vec<(Email, Option<String>)> {
            a.map(|a| {
                a.iter()
                    .filter_map(|addr| {
                        let email = Email::parse(addr.address()?).ok()?;
                        // A name that did not decode cleanly is no name.
                        let name = addr
                            .name()
                            .map(|n| n.trim().trim_matches(|c| c == '"' || c == '\'').trim())
                            .filter(|n| {
                                !n.is_empty()
                                    && !n.contains('\u{fffd}')
                                    && !n.eq_ignore_ascii_case(email.as_str())
                            })
                            .map(str::to_owned);
                        Some((email, name))
                    })
                    .collect()
            })
            .unwrap_or_default()
        };
        let mut recipients = list(msg.to());
        recipients.extend(list(msg.cc()));
        Some(Headers {
            from: list(msg.from()),
            recipients,
            date: msg
                .date()
                .filter(|d| d.is_valid())
                .map(|d| Timestamp::from_epoch_seconds(d.to_timestamp())),
            message_id: msg
                .message_id()
                .map(str::trim)
                .filter(|id| !id.is_empty())
                .map(str::to_owned),
            // Several ids are allowed; the first is the message answered.
            in_reply_to: msg
                .in_reply_to()
                .as_text_list()
                .and_then(|ids| ids.iter().map(|id| id.trim()).find(|id| !id.is_empty()))
                .map(str::to_owned),
        })
    }
}

/// Maildir messages read and parsed together.
const BATCH: usize = 4096;

/// What a message's header block gave: its key, date and fields, or why it
/// is skipped.
type Parsed = Result<(String, Timestamp, Headers), &'static str>;

/// Turns messages into e-mail interactions, one mailbox at a time. Header
/// blocks are parsed in batches on every core (the parse is most of an
/// import's work); everything that touches the observations stays in
/// message order, so the result does not depend on the number of cores.
struct MailReader {
    headers: HeaderParser,
    seen: rustc_hash::FxHashSet<String>,
    calendars: Calendars,
    meetings_seen: HashSet<String>,
    calendar_hint: [memmem::Finder<'static>; 3],
}

impl MailReader {
    fn new() -> Self {
        MailReader {
            headers: HeaderParser::new(),
            seen: Default::default(),
            calendars: Calendars::default(),
            meetings_seen: HashSet::new(),
            calendar_hint: [
                memmem::Finder::new(b"text/calendar"),
                memmem::Finder::new(b"Text/Calendar"),
                memmem::Finder::new(b"application/ics"),
            ],
        }
    }

    /// Reads a batch of messages in parallel, asks which of their
    /// interactions are stored already (a re-read mailbox), and observes the
    /// others in order. A message whose Message-ID is written plainly and
    /// stored already is not parsed at all: re-reading a mailbox costs a
    /// scan of its bytes and a lookup per message.
    fn process(&mut self, msgs: &[(&[u8], SourcePos)], out: &mut Observations) {
        use rayon::prelude::*;
        let (headers, hints) = (&self.headers, &self.calendar_hint);
        // Where each header block ends, whether the body may hold an
        // invitation, and the key of a plainly written Message-ID.
        let scanned: Vec<(usize, bool, Option<String>)> = msgs
            .par_iter()
            .map(|(raw, _)| {
                let end = header_end(raw);
                let invitation = hints.iter().any(|f| f.find(&raw[end..]).is_some());
                let plain = plain_message_id(&raw[..end]).map(|id| format!("mail:{id}"));
                (end, invitation, plain)
            })
            .collect();
        let plain: Vec<&str> = scanned.iter().filter_map(|s| s.2.as_deref()).collect();
        let mut plain_stored = out.stored_keys(&plain).into_iter();
        let known: Vec<bool> = scanned
            .iter()
            .map(|s| s.2.is_some() && plain_stored.next().unwrap_or(false))
            .collect();
        let parsed: Vec<Option<Parsed>> = msgs
            .par_iter()
            .zip(&scanned)
            .zip(&known)
            .map(|(((raw, _), (end, _, _)), &known)| {
                (!known).then(|| parse_message(headers, &raw[..*end]))
            })
            .collect();
        // Keys the plain scan did not already answer "not stored" for.
        let asked: Vec<&str> = parsed
            .iter()
            .zip(&scanned)
            .filter_map(|(p, s)| match p {
                Some(Ok((key, _, _))) if s.2.as_ref() != Some(key) => Some(key.as_str()),
                _ => None,
            })
            .collect();
        let mut asked_stored = out.stored_keys(&asked).into_iter();
        for (((raw, pos), (_, invitation, plain)), p) in msgs.iter().zip(scanned).zip(parsed) {
            out.count_read(1);
            let (key, parsed, stored) = match p {
                None => (plain.expect("a known message has a plain key"), None, true),
                Some(Ok((key, at, h))) => {
                    // Asked only when the plain scan did not answer it.
                    let stored =
                        plain.as_ref() != Some(&key) && asked_stored.next().unwrap_or(false);
                    (key, Some((at, h)), stored)
                }
                Some(Err(reason)) => {
                    out.skip(pos.clone(), reason);
                    continue;
                }
            };
            if self.seen.contains(&key) {
                // The same message again (a copy in another folder): once.
                continue;
            }
            if invitation {
                self.invitations(raw, pos, out);
            }
            match parsed {
                Some((at, h)) if !stored => {
                    self.seen.insert(key.clone());
                    self.observe(key, at, h, pos.clone(), out);
                }
                _ => {
                    self.seen.insert(key);
                    out.already_stored += 1;
                }
            }
        }
    }

    fn observe(
        &mut self,
        key: String,
        at: Timestamp,
        h: Headers,
        pos: SourcePos,
        out: &mut Observations,
    ) {
        let mut people = Vec::with_capacity(h.from.len() + h.recipients.len());
        // Keyed like the answered message's own key (see `parse_message`).
        let in_reply_to = h.in_reply_to.map(|id| format!("mail:{id}"));
        for (email, name) in h.from.into_iter().chain(h.recipients) {
            if let Some(r) = out.person(
                PersonHint {
                    email: Some(email),
                    name,
                    ..Default::default()
                },
                &pos,
            ) {
                people.push(r);
            }
        }
        let Some(&initiator) = people.first() else {
            return;
        };
        out.interaction(ObservedInteraction {
            key,
            kind: InteractionKind::Email,
            at,
            initiator,
            participants: people,
            in_reply_to,
            source: pos,
        });
    }

    /// The calendar parts of a message that carries an invitation.
    fn invitations(&mut self, raw: &[u8], pos: &SourcePos, out: &mut Observations) {
        let raw = unquote_mboxrd(raw);
        let Some(msg) = MessageParser::new().parse(raw.as_ref()) else {
            return;
        };
        for part in &msg.parts {
            let calendar = part.is_content_type("text", "calendar")
                || part.is_content_type("application", "ics");
            if !calendar {
                continue;
            }
            let text: Cow<'_, str> = match &part.body {
                PartType::Text(t) => Cow::Borrowed(t.as_ref()),
                PartType::Binary(b) | PartType::InlineBinary(b) => {
                    match decode::text(&pos.file, b) {
                        Ok(t) => t,
                        Err(e) => {
                            out.skip(pos.clone(), format!("unreadable invitation: {e}"));
                            continue;
                        }
                    }
                }
                _ => continue,
            };
            let at = pos.clone();
            if self
                .calendars
                .add_text(&text, &move |_| at.clone(), out)
                .is_none()
            {
                out.skip(pos.clone(), "a calendar part without a calendar in it");
            }
        }
    }

    fn finish(self, now: Timestamp, out: &mut Observations) {
        let mut seen = self.meetings_seen;
        self.calendars.finish(now, &mut seen, out);
    }
}

/// The key, date and fields of one header block, or why the message is
/// skipped. Pure, so batches of messages are parsed in parallel.
fn parse_message(parser: &HeaderParser, header_block: &[u8]) -> Parsed {
    let h = parser.parse(header_block).ok_or("no mail headers")?;
    let from = &h.from.first().ok_or("no From address")?.0;
    let at = h.date.ok_or("no Date, or one that cannot be read")?;
    if !h.recipients.iter().any(|(e, _)| e != from) {
        return Err("no recipients (To, Cc) besides the sender");
    }
    let key = match &h.message_id {
        Some(id) => format!("mail:{id}"),
        None => derived_key(&h, at),
    };
    Ok((key, at, h))
}

/// The Message-ID of a header block when it is written plainly: a single
/// unfolded `Message-ID: <id>` line whose id is printable ASCII without
/// spaces, brackets, quotes or comments. The full parse gives exactly that
/// id, so a plain id can be looked up before (and instead of) the parse;
/// anything else answers `None` and is parsed.
fn plain_message_id(block: &[u8]) -> Option<&str> {
    let mut found = None;
    let mut lines = block.split(|&b| b == b'\n').peekable();
    while let Some(line) = lines.next() {
        let Some(colon) = memchr::memchr(b':', line) else {
            continue;
        };
        if !line[..colon].eq_ignore_ascii_case(b"message-id") {
            continue;
        }
        let folded = lines
            .peek()
            .is_some_and(|next| matches!(next.first(), Some(b' ' | b'\t')));
        if found.is_some() || folded {
            return None;
        }
        let id = line[colon + 1..]
            .trim_ascii()
            .strip_prefix(b"<")?
            .strip_suffix(b">")?;
        let plain = |b: &u8| {
            b.is_ascii_graphic()
                && !matches!(b, b'<' | b'>' | b'(' | b')' | b'"' | b'\\' | b',' | b';')
        };
        if id.is_empty() || !id.iter().all(plain) {
            return None;
        }
        found = Some(std::str::from_utf8(id).ok()?);
    }
    found
}

/// A message without Message-ID is keyed by its author, date and
/// recipients: the same message imported again gets the same key.
fn derived_key(h: &Headers, at: Timestamp) -> String {
    let mut d = Sha256::new();
    for (e, _) in &h.from {
        d.update(e.as_str().as_bytes());
        d.update(b",");
    }
    d.update(at.epoch_seconds().to_be_bytes());
    for (e, _) in &h.recipients {
        d.update(e.as_str().as_bytes());
        d.update(b",");
    }
    let hash = d.finalize();
    let hex: String = hash[..16].iter().map(|b| format!("{b:02x}")).collect();
    format!("mail:sha256:{hex}")
}

/// mboxrd quotes body lines starting with "From " (or ">From ") with one
/// more `>`; undone before a body part is read.
fn unquote_mboxrd(raw: &[u8]) -> Cow<'_, [u8]> {
    if memmem::find(raw, b"\n>From ").is_none() && memmem::find(raw, b"\n>>").is_none() {
        return Cow::Borrowed(raw);
    }
    let mut out = Vec::with_capacity(raw.len());
    for l in raw.split_inclusive(|&b| b == b'\n') {
        let quotes = l.iter().take_while(|&&b| b == b'>').count();
        if quotes > 0 && l[quotes..].starts_with(b"From ") {
            out.extend_from_slice(&l[1..]);
        } else {
            out.extend_from_slice(l);
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::ics::tests::{meetings, skips};

    fn fixture(name: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/ingest/mail")
            .join(name)
    }

    fn now() -> Timestamp {
        Timestamp::parse("2025-06-01T00:00:00Z").unwrap()
    }

    type Meeting = (String, String, Vec<String>, u32);

    fn m(key: &str, initiator: &str, people: &[&str], line: u32) -> Meeting {
        (
            key.to_owned(),
            initiator.to_owned(),
            people.iter().map(|p| p.to_string()).collect(),
            line,
        )
    }

    fn s(line: u32, reason: &str) -> (u32, String) {
        (line, reason.to_owned())
    }

    fn mbox(name: &str) -> Observations {
        let mut o = Observations::new();
        read_mbox_as_of(&fixture(name), now(), &mut o).unwrap();
        o
    }

    fn names(o: &Observations) -> Vec<(String, Option<String>)> {
        o.people
            .iter()
            .map(|p| (p.emails[0].to_string(), p.name.clone()))
            .collect()
    }

    #[test]
    fn mbox_messages_duplicates_on_behalf_invitation_and_malformed_ones() {
        // The same mailbox with LF and with CRLF line endings.
        for file in ["edge-cases.mbox", "crlf.mbox"] {
            let o = mbox(file);
            let (a, b, d) = (
                "anna.berg@example.com",
                "bruno.costa@customer.example",
                "dieter.eck@customer.example",
            );
            let (j, f) = (
                "juergen.mueller@kunde.example",
                "francoise.levy@example.com",
            );
            assert_eq!(
                meetings(&o),
                vec![
                    // mboxrd-quoted and unquoted "From " body lines do not split it.
                    m("mail:m1@example.com", a, &[a, b, j, f], 1),
                    m("mail:m2@customer.example", b, &[b, a], 21),
                    // Line 31 is a copy of m1: counted once.
                    // Sent by the assistant on behalf of Dieter: Dieter's mail.
                    m("mail:m3@customer.example", d, &[d, a], 51),
                    m(
                        "mail:inv1@customer.example",
                        d,
                        &[d, a, b, "raum3@customer.example"],
                        61
                    ),
                    m(
                        "mail:sha256:5716aa686f4867c97ee21ee47fc9efb3",
                        "chiara.dal@customer.example",
                        &["chiara.dal@customer.example", a],
                        139
                    ),
                    m("mail:m9@example.com", f, &[f, a], 147),
                    // The invitation's meeting: 11:00 in Berlin; the room is no person.
                    m(
                        "ics:invite-qbr-2025@customer.example@2025-03-12T10:00:00Z",
                        d,
                        &[d, a, b],
                        61
                    ),
                ],
                "{file}"
            );
            let at: Vec<_> = o.interactions.iter().map(|i| i.at.to_rfc3339()).collect();
            assert_eq!(
                at,
                [
                    "2025-03-03T09:00:00Z",
                    "2025-03-03T10:30:00Z",
                    "2025-03-04T08:00:00Z",
                    "2025-03-04T09:00:00Z",
                    "2025-03-06T10:00:00Z",
                    "2025-03-07T10:00:00Z",
                    "2025-03-12T10:00:00Z",
                ]
            );
            assert_eq!(
                skips(&o),
                vec![
                    s(115, "no From address"),
                    s(123, "no Date, or one that cannot be read"),
                    s(131, "no recipients (To, Cc) besides the sender"),
                ]
            );
            assert_eq!(o.files[0].read, 10);
            assert_eq!(o.files[0].skipped, 3);
            // RFC 2047 names (UTF-8 Q and B, ISO-8859-1); the assistant is nobody.
            let n = names(&o);
            assert_eq!(n[1], (b.to_owned(), Some("Bruno Costa".to_owned())));
            assert_eq!(n[2], (j.to_owned(), Some("Jürgen Müller".to_owned())));
            assert_eq!(n[3], (f.to_owned(), Some("Françoise Lévy".to_owned())));
            assert!(!n.iter().any(|(e, _)| e == "assistant@customer.example"));
        }
    }

    #[test]
    fn raw_8bit_headers_are_windows_1252_and_encoded_words_any_charset() {
        let h = HeaderParser::new();
        let raw = b"From: Fran\xe7oise L\xe9vy <F.Levy@Example.com>\nTo: a@b.example\n\
            Date: Fri, 7 Mar 2025 11:00:00 +0100\n\n";
        let got = h.parse(&raw[..header_end(raw)]).unwrap();
        assert_eq!(
            got.from,
            vec![(
                Email::parse("f.levy@example.com").unwrap(),
                Some("Françoise Lévy".to_owned())
            )]
        );
        let raw = b"From: =?windows-1252?Q?Fran=E7oise_L=E9vy_=96_Einkauf?= <f@x.example>\r\n\r\n";
        let got = h.parse(raw).unwrap();
        assert_eq!(got.from[0].1.as_deref(), Some("Françoise Lévy – Einkauf"));
        assert_eq!(got.date, None);
        assert!(got.recipients.is_empty());
    }

    #[test]
    fn maildir_folders_nested_duplicates_and_a_broken_message() {
        let mut o = Observations::new();
        read_maildir_as_of(&fixture("maildir"), now(), &mut o).unwrap();
        let (dummy, admin) = (
            "dummy@xyz-webserver.abcd-gestion.local",
            "admin@xyz-webserver.abcd-gestion.local",
        );
        let f = "francoise.levy@example.com";
        assert_eq!(
            meetings(&o),
            vec![
                m(
                    "mail:w1252@example.com",
                    f,
                    &[f, "anna.berg@example.com"],
                    0
                ),
                // mail-parser's Thunderbird sample, in cur/ and again in .Sent/cur/.
                m(
                    "mail:ca2236fb-9819-82dd-c501-d3bcf737a768@xyz-webserver.abcd-gestion.local",
                    dummy,
                    &[dummy, admin],
                    0
                ),
            ]
        );
        assert_eq!(o.interactions[1].at.to_rfc3339(), "2022-07-18T15:19:52Z");
        assert_eq!(o.skipped.len(), 1);
        assert!(
            o.skipped[0]
                .source
                .file
                .ends_with("new/1234567890.M20046P2137.mailserver,S=4542,W=4642;2,Sb")
        );
        assert_eq!(o.skipped[0].reason, "no mail headers");
        // tmp/ is not read; four messages in cur/ and new/.
        assert_eq!(o.files.len(), 1);
        assert_eq!((o.files[0].read, o.files[0].skipped), (4, 1));
        assert_eq!(names(&o)[0].1.as_deref(), Some("Françoise Lévy – Einkauf"));
    }

    #[test]
    fn what_is_not_a_mailbox_is_unreadable() {
        let dir = tempfile::tempdir().unwrap();
        let mut o = Observations::new();
        let err = read_maildir_as_of(dir.path(), now(), &mut o).unwrap_err();
        assert!(err.to_string().contains("not a Maildir"), "{err}");
        let file = dir.path().join("x.mbox");
        std::fs::write(&file, "Subject: hi\n\nbody\n").unwrap();
        let err = read_mbox_as_of(&file, now(), &mut o).unwrap_err();
        assert!(err.to_string().contains("not an mbox file"), "{err}");
        std::fs::write(&file, "\n\n").unwrap();
        read_mbox_as_of(&file, now(), &mut o).unwrap();
        assert!(o.interactions.is_empty());
    }

    #[test]
    fn splitting_survives_any_read_size() {
        // A reader that hands out a few bytes at a time finds the same
        // messages at the same lines as one that reads everything.
        struct Trickle<'a>(&'a [u8], usize);
        impl Read for Trickle<'_> {
            fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
                let n = self.1.min(self.0.len()).min(buf.len());
                buf[..n].copy_from_slice(&self.0[..n]);
                self.0 = &self.0[n..];
                Ok(n)
            }
        }
        let data = std::fs::read(fixture("edge-cases.mbox")).unwrap();
        let split = |step| {
            let mut got = Vec::new();
            split_mbox(Trickle(&data, step), "t", |m, line| {
                got.push((line, m.len()))
            })
            .unwrap();
            got
        };
        let all = split(usize::MAX);
        assert_eq!(
            all.iter().map(|(l, _)| *l).collect::<Vec<_>>(),
            [1, 21, 31, 51, 61, 115, 123, 131, 139, 147]
        );
        for step in [1, 3, 7, 64] {
            assert_eq!(split(step), all, "step {step}");
        }
    }

    #[test]
    fn a_plain_message_id_is_the_one_the_parse_gives() {
        let parser = HeaderParser::new();
        for (block, plain) in [
            ("Message-ID: <a.1@b.example>\n", Some("a.1@b.example")),
            ("message-id:<a@b>\r\nTo: x@y.example\r\n", Some("a@b")),
            ("Message-Id:   <a$b+c@d>   \n", Some("a$b+c@d")),
            ("Message-ID:\n <a@b>\n", None),
            ("Message-ID: <a@b>\n\t(folded)\n", None),
            ("Message-ID: <a@b> (comment)\n", None),
            ("Message-ID: a@b\n", None),
            ("Message-ID: <a b@c>\n", None),
            ("Message-ID: <a@b>\nMessage-ID: <c@d>\n", None),
            ("Message-ID: <>\n", None),
            ("X-Message-ID: <a@b>\n", None),
            ("To: x@y.example\n", None),
        ] {
            assert_eq!(plain_message_id(block.as_bytes()), plain, "{block:?}");
            if let Some(id) = plain {
                let parsed = parser.parse(block.as_bytes()).unwrap();
                assert_eq!(parsed.message_id.as_deref(), Some(id), "{block:?}");
            }
        }
        // And on every message of the fixtures.
        for name in ["edge-cases.mbox", "crlf.mbox"] {
            let raw = std::fs::read(fixture(name)).unwrap();
            let mut checked = 0;
            split_mbox(&raw[..], name, |m, _| {
                let block = &m[..header_end(m)];
                if let Some(id) = plain_message_id(block) {
                    let parsed = parser.parse(block).unwrap();
                    assert_eq!(parsed.message_id.as_deref(), Some(id));
                    checked += 1;
                }
            })
            .unwrap();
            assert!(checked > 0, "{name}");
        }
    }

    #[test]
    fn a_reread_mailbox_counts_stored_messages_and_skips_the_same_ones() {
        let first = mbox("edge-cases.mbox");
        let keys: HashSet<String> = first.interactions.iter().map(|i| i.key.clone()).collect();
        let mut again =
            Observations::with_stored(crate::ingest::StoredKeys(Box::new(move |ks: &[&str]| {
                ks.iter().map(|k| keys.contains(*k)).collect()
            })));
        read_mbox_as_of(&fixture("edge-cases.mbox"), now(), &mut again).unwrap();
        let mail: Vec<_> = again
            .interactions
            .iter()
            .filter(|i| i.kind == InteractionKind::Email)
            .collect();
        assert!(mail.is_empty(), "{mail:?}");
        let first_mail = first
            .interactions
            .iter()
            .filter(|i| i.kind == InteractionKind::Email)
            .count();
        assert_eq!(again.already_stored, first_mail);
        assert_eq!(skips(&again), skips(&first));
        let invited = |o: &Observations| {
            let mut m = meetings(o);
            m.retain(|(key, ..)| !key.starts_with("mail:"));
            m
        };
        assert_eq!(
            invited(&again),
            invited(&first),
            "invitations are read again"
        );
    }

    #[test]
    fn header_blocks_end_at_the_first_empty_line() {
        assert_eq!(header_end(b"A: b\n\nbody"), 6);
        assert_eq!(header_end(b"A: b\r\n\r\nbody"), 8);
        assert_eq!(header_end(b"A: b\r\n"), 6);
        assert_eq!(header_end(b"\nbody"), 1);
        assert_eq!(header_end(b""), 0);
    }

    #[test]
    fn garbage_never_panics() {
        let mut seed = 7u64;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let base = std::fs::read(fixture("edge-cases.mbox")).unwrap();
        let mut r = MailReader::new();
        let mut o = Observations::new();
        for _ in 0..300 {
            let mut b = base.clone();
            for _ in 0..20 {
                let i = (next() as usize) % b.len();
                b[i] = next() as u8;
            }
            b.truncate((next() as usize) % b.len());
            let _ = split_mbox_batches(&b[..], "fuzz", |batch| {
                let msgs: Vec<(&[u8], SourcePos)> = batch
                    .iter()
                    .map(|&(m, line)| {
                        let pos = SourcePos {
                            file: "f".into(),
                            line,
                        };
                        (m, pos)
                    })
                    .collect();
                r.process(&msgs, &mut o)
            });
        }
        r.finish(now(), &mut o);
    }
}
