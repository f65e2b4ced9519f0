//! Google Takeout mbox: one record per address per message, from the headers
//! only (From, To, Cc, Reply-To with RFC 2047 encoded names; Message-ID,
//! X-GM-THRID, X-Gmail-Labels, Date). Bodies are not read.

use super::csvfmt::split_mailbox;
use super::dates::parse_date;
use super::text::MAX_CELL;
use super::ImportError;
use crate::domain::record::SourceRecord;

const ADDRESS_HEADERS: &[&str] = &["from", "to", "cc", "reply-to"];

/// A message the import could not read: left out, and said with its line.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Skipped {
    pub line: u64,
    pub why: String,
}

/// One header line as text: UTF-8 where it is, else (undeclared 8-bit, as
/// old mailers wrote) Windows-1252, the superset of Latin-1 that mail
/// clients assume. Bodies are never read, so their charsets never matter.
fn header_text(bytes: &[u8]) -> std::borrow::Cow<'_, str> {
    match std::str::from_utf8(bytes) {
        Ok(s) => s.into(),
        Err(_) => {
            encoding_rs::WINDOWS_1252
                .decode_without_bom_handling(bytes)
                .0
        }
    }
}

/// Reads the headers of every message of an mbox, whatever the charsets
/// of their bodies. A message whose headers cannot be read is skipped and
/// named by its line; the rest land.
pub fn parse(
    file: &str,
    bytes: &[u8],
    source: &str,
) -> Result<(Vec<SourceRecord>, Vec<Skipped>), ImportError> {
    let mut out = Vec::new();
    let mut skipped = Vec::new();
    let mut line_no = 0u64;
    let mut msg_start = 0u64;
    let mut headers: Vec<(String, String)> = Vec::new();
    let mut in_headers = false;
    // The message being read was found unreadable: its lines are passed over.
    let mut broken: Option<String> = None;
    let mut seen_any = false;
    let flush = |headers: &mut Vec<(String, String)>,
                 broken: &mut Option<String>,
                 start: u64,
                 out: &mut Vec<SourceRecord>,
                 skipped: &mut Vec<Skipped>| {
        if let Some(why) = broken.take() {
            headers.clear();
            skipped.push(Skipped { line: start, why });
        } else if !headers.is_empty() {
            message(start, std::mem::take(headers), source, out);
        }
    };
    for raw in bytes.split(|&b| b == b'\n') {
        line_no += 1;
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        if raw.starts_with(b"From ") && (!in_headers || headers.is_empty()) {
            flush(&mut headers, &mut broken, msg_start, &mut out, &mut skipped);
            msg_start = line_no;
            in_headers = true;
            seen_any = true;
            continue;
        }
        if !in_headers {
            continue;
        }
        if raw.is_empty() {
            in_headers = false;
            flush(&mut headers, &mut broken, msg_start, &mut out, &mut skipped);
            continue;
        }
        if broken.is_some() {
            continue;
        }
        if raw.len() > MAX_CELL {
            broken = Some(format!(
                "line {line_no}: a header line is larger than 32 KiB"
            ));
            continue;
        }
        if raw.contains(&0) {
            broken = Some(format!("line {line_no}: a header holds a NUL byte"));
            continue;
        }
        let line = header_text(raw);
        if line.starts_with([' ', '\t']) {
            if let Some(last) = headers.last_mut() {
                last.1.push(' ');
                last.1.push_str(line.trim());
            }
            continue;
        }
        match line.split_once(':') {
            Some((k, v)) => headers.push((k.trim().to_ascii_lowercase(), v.trim().to_string())),
            None => {
                broken = Some(format!(
                    "line {line_no}: a header line without ':' (not a message header)"
                ))
            }
        }
    }
    flush(&mut headers, &mut broken, msg_start, &mut out, &mut skipped);
    if !seen_any {
        return Err(ImportError::at(
            file,
            Some(1),
            None,
            "no 'From ' line: not an mbox file",
        ));
    }
    if out.is_empty() {
        return Err(ImportError::at(
            file,
            None,
            None,
            match skipped.first() {
                Some(s) => format!("no message could be read (the first: {})", s.why),
                None => "no message has an address".to_string(),
            },
        ));
    }
    Ok((out, skipped))
}

fn message(line: u64, headers: Vec<(String, String)>, source: &str, out: &mut Vec<SourceRecord>) {
    let get = |k: &str| headers.iter().find(|(h, _)| h == k).map(|(_, v)| v.clone());
    let id = get("message-id")
        .map(|m| m.trim_matches(|c| c == '<' || c == '>').to_string())
        .unwrap_or_else(|| format!("line-{line}"));
    let date = get("date").and_then(|d| parse_date(&d));
    let mut seen = Vec::new();
    for (h, v) in &headers {
        if !ADDRESS_HEADERS.contains(&h.as_str()) {
            continue;
        }
        for mailbox in split_addresses(v) {
            let (name, addr) = split_mailbox(&mailbox);
            if !addr.contains('@') {
                continue;
            }
            let name = decode_words(&name);
            let key_addr = addr.to_lowercase();
            if seen.contains(&key_addr) {
                continue;
            }
            seen.push(key_addr.clone());
            let mut raw = vec![
                ("header".to_string(), h.clone()),
                ("message-id".to_string(), id.clone()),
            ];
            for k in ["subject", "x-gm-thrid", "x-gmail-labels", "date"] {
                if let Some(v) = get(k) {
                    raw.push((k.to_string(), decode_words(&v)));
                }
            }
            out.push(SourceRecord {
                source: source.to_string(),
                key: format!("{id}|{key_addr}"),
                names: if name.is_empty() { vec![] } else { vec![name] },
                emails: vec![addr],
                phones: vec![],
                company: None,
                last_activity: date,
                status: None,
                mentions: vec![],
                raw,
                format: "mbox".into(),
                line,
            });
        }
    }
}

/// Splits an address list on commas outside quotes and angle brackets.
fn split_addresses(v: &str) -> Vec<String> {
    let mut out = Vec::new();
    let (mut cur, mut quoted, mut angle) = (String::new(), false, false);
    for c in v.chars() {
        match c {
            '"' => quoted = !quoted,
            '<' => angle = true,
            '>' => angle = false,
            ',' if !quoted && !angle => {
                out.push(std::mem::take(&mut cur));
                continue;
            }
            _ => {}
        }
        cur.push(c);
    }
    out.push(cur);
    out.into_iter()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

/// Decodes RFC 2047 encoded words (`=?UTF-8?B?…?=`, `=?ISO-8859-2?Q?…?=`, any
/// charset `encoding_rs` knows) with the `rfc2047-decoder` crate; a word it
/// cannot decode is kept as written rather than lose the header.
pub fn decode_words(s: &str) -> String {
    let decoded = rfc2047_decoder::decode(s.as_bytes()).unwrap_or_else(|_| s.to_string());
    decoded.trim().trim_matches('"').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_encoded_names() {
        assert_eq!(
            decode_words("=?UTF-8?B?SsO8cmdlbiBNw7xsbGVy?="),
            "Jürgen Müller"
        );
        assert_eq!(decode_words("=?ISO-8859-1?Q?Ana_Garc=EDa?="), "Ana García");
        assert_eq!(
            decode_words("=?utf-8?q?=C5=81ukasz?= =?utf-8?q?_Nowak?="),
            "Łukasz Nowak"
        );
        assert_eq!(decode_words("Plain Name"), "Plain Name");
        assert_eq!(decode_words("=?bogus"), "=?bogus");
    }

    #[test]
    fn splits_address_lists() {
        assert_eq!(
            split_addresses("\"Doe, Jane\" <jane@x.ie>, bob@y.com"),
            vec!["\"Doe, Jane\" <jane@x.ie>", "bob@y.com"]
        );
    }
}
