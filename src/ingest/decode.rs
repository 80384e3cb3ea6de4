//! Text files as users really have them: UTF-8 with or without a byte-order
//! mark, UTF-16 from Windows tools, Latin-1 and Windows-1252 from old CRMs and
//! spreadsheets. Decode correctly or refuse with the reason; never hand a
//! reader garbled text.

use std::borrow::Cow;

use encoding_rs::{Encoding, UTF_8, UTF_16BE, UTF_16LE};

use super::IngestError;

/// Decodes a whole text file. `file` names it in errors.
///
/// Order: a byte-order mark decides; else valid UTF-8 is UTF-8; else a
/// UTF-16 file without a mark is recognised by its zero bytes; else the
/// legacy encoding chardetng (Firefox's detector) finds most likely. Text
/// that still holds control characters after decoding is refused: it is a
/// binary file or an encoding we would get wrong.
pub fn text<'a>(file: &str, bytes: &'a [u8]) -> Result<Cow<'a, str>, IngestError> {
    let (decoded, encoding) = if let Some((enc, bom_len)) = Encoding::for_bom(bytes) {
        let (text, had_errors) = enc.decode_without_bom_handling(&bytes[bom_len..]);
        if had_errors {
            return Err(IngestError::unreadable(
                file,
                format!(
                    "it starts with a {} byte-order mark but is not valid {}",
                    enc.name(),
                    enc.name()
                ),
            ));
        }
        (text, enc)
    } else if let Ok(s) = std::str::from_utf8(bytes) {
        (Cow::Borrowed(s), UTF_8)
    } else if let Some(enc) = utf16_without_bom(bytes) {
        let (text, had_errors) = enc.decode_without_bom_handling(bytes);
        if had_errors {
            return Err(IngestError::unreadable(
                file,
                format!(
                    "it looks like {} but is not valid {}",
                    enc.name(),
                    enc.name()
                ),
            ));
        }
        (text, enc)
    } else {
        let mut detector = chardetng::EncodingDetector::new(chardetng::Iso2022JpDetection::Deny);
        detector.feed(bytes, true);
        let enc = detector.guess(None, chardetng::Utf8Detection::Deny);
        let (text, had_errors) = enc.decode_without_bom_handling(bytes);
        if had_errors {
            return Err(IngestError::unreadable(
                file,
                format!(
                    "it is not UTF-8 and not valid {} either; save it as UTF-8 and import again",
                    enc.name()
                ),
            ));
        }
        (text, enc)
    };
    if let Some((line, c)) = first_control_char(&decoded) {
        return Err(IngestError::unreadable(
            file,
            format!(
                "line {line} holds the control character U+{:04X} after decoding as {}: \
                 this is a binary file or in an encoding renmai cannot tell; save it as UTF-8",
                c as u32,
                encoding.name()
            ),
        ));
    }
    Ok(decoded)
}

/// UTF-16 without a byte-order mark: text in the Latin range has a zero
/// byte in every other position.
fn utf16_without_bom(bytes: &[u8]) -> Option<&'static Encoding> {
    if bytes.len() < 4 || !bytes.len().is_multiple_of(2) {
        return None;
    }
    let sample = &bytes[..bytes.len().min(4096)];
    let pairs = sample.len() / 2;
    let zero_high = sample.chunks_exact(2).filter(|p| p[1] == 0).count();
    let zero_low = sample.chunks_exact(2).filter(|p| p[0] == 0).count();
    if zero_high * 10 >= pairs * 6 {
        Some(UTF_16LE)
    } else if zero_low * 10 >= pairs * 6 {
        Some(UTF_16BE)
    } else {
        None
    }
}

/// The first control character other than tab, CR, LF and form feed, with
/// its 1-based line.
fn first_control_char(s: &str) -> Option<(usize, char)> {
    let mut line = 1;
    for c in s.chars() {
        if c == '\n' {
            line += 1;
        } else if c.is_control() && !matches!(c, '\t' | '\r' | '\x0c') {
            return Some((line, c));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf8_with_and_without_bom() {
        assert_eq!(text("f", "Zoë".as_bytes()).unwrap(), "Zoë");
        assert_eq!(text("f", b"\xEF\xBB\xBFZo\xC3\xAB").unwrap(), "Zoë");
    }

    #[test]
    fn utf16_with_and_without_bom() {
        let le: Vec<u8> = "Name,Zoë\r\n"
            .encode_utf16()
            .flat_map(|u| u.to_le_bytes())
            .collect();
        let mut with_bom = vec![0xFF, 0xFE];
        with_bom.extend_from_slice(&le);
        assert_eq!(text("f", &with_bom).unwrap(), "Name,Zoë\r\n");
        assert_eq!(text("f", &le).unwrap(), "Name,Zoë\r\n");
        let be: Vec<u8> = "Name,Zoë"
            .encode_utf16()
            .flat_map(|u| u.to_be_bytes())
            .collect();
        assert_eq!(text("f", &be).unwrap(), "Name,Zoë");
    }

    #[test]
    fn windows_1252_and_latin1() {
        // "Müller – Geschäftsführer" in Windows-1252 (0x96 is the en dash).
        let bytes = b"M\xFCller \x96 Gesch\xE4ftsf\xFChrer, Stra\xDFe, Fran\xE7ois";
        assert_eq!(
            text("f", bytes).unwrap(),
            "Müller – Geschäftsführer, Straße, François"
        );
    }

    #[test]
    fn binary_is_refused_with_the_line() {
        let err = text("contacts.csv", b"a,b\nc\x00\x01d\xFF\xFE\x00\x00\x07")
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("cannot read contacts.csv:"), "{err}");
        assert!(err.contains("control character"), "{err}");
    }
}
