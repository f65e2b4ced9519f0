//! Google Takeout mbox: one record per address per message, from the headers
//! only (From, To, Cc, Reply-To with RFC 2047 encoded names; Message-ID,
//! X-GM-THRID, X-Gmail-Labels, Date). Bodies are not read.

use super::csvfmt::split_mailbox;
use super::dates::parse_date;
use super::text::MAX_CELL;
use super::ImportError;
use crate::domain::record::SourceRecord;

const ADDRESS_HEADERS: &[&str] = &["from", "to", "cc", "reply-to"];

pub fn parse(file: &str, text: &str, source: &str) -> Result<Vec<SourceRecord>, ImportError> {
    let mut out = Vec::new();
    let mut line_no = 0u64;
    let mut msg_start = 0u64;
    let mut headers: Vec<(String, String)> = Vec::new();
    let mut in_headers = false;
    let mut seen_any = false;
    let flush = |headers: &mut Vec<(String, String)>, start: u64, out: &mut Vec<SourceRecord>| {
        if !headers.is_empty() {
            message(start, std::mem::take(headers), source, out);
        }
    };
    for line in text.split('\n') {
        line_no += 1;
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.starts_with("From ") && (!in_headers || headers.is_empty()) {
            flush(&mut headers, msg_start, &mut out);
            msg_start = line_no;
            in_headers = true;
            seen_any = true;
            continue;
        }
        if !in_headers {
            continue;
        }
        if line.is_empty() {
            in_headers = false;
            flush(&mut headers, msg_start, &mut out);
            continue;
        }
        if line.len() > MAX_CELL {
            return Err(ImportError::at(
                file,
                Some(line_no),
                None,
                "a header line is larger than 32 KiB",
            ));
        }
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
                return Err(ImportError::at(
                    file,
                    Some(line_no),
                    None,
                    "a header line without ':' (not an mbox message header)",
                ))
            }
        }
    }
    flush(&mut headers, msg_start, &mut out);
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
            "no message has an address",
        ));
    }
    Ok(out)
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

/// Decodes RFC 2047 encoded words (`=?UTF-8?B?…?=`, `=?ISO-8859-1?Q?…?=`).
pub fn decode_words(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    let mut last_was_word = false;
    while let Some(start) = rest.find("=?") {
        let before = &rest[..start];
        let after = &rest[start + 2..];
        let parsed = (|| {
            let (charset, after) = after.split_once('?')?;
            let (enc, after) = after.split_once('?')?;
            let end = after.find("?=")?;
            let payload = &after[..end];
            let bytes = match enc.to_ascii_uppercase().as_str() {
                "B" => base64_decode(payload)?,
                "Q" => q_decode(payload),
                _ => return None,
            };
            let text = match charset.to_ascii_lowercase().as_str() {
                "utf-8" | "utf8" | "us-ascii" => String::from_utf8_lossy(&bytes).into_owned(),
                "iso-8859-1" | "latin1" | "windows-1252" | "iso-8859-15" => {
                    bytes.iter().map(|&b| b as char).collect()
                }
                _ => return None,
            };
            Some((text, &after[end + 2..]))
        })();
        match parsed {
            Some((text, tail)) => {
                // Whitespace between two encoded words is not part of the text.
                if !(last_was_word && before.trim().is_empty()) {
                    out.push_str(before);
                }
                out.push_str(&text);
                rest = tail;
                last_was_word = true;
            }
            None => {
                out.push_str(&rest[..start + 2]);
                rest = after;
                last_was_word = false;
            }
        }
    }
    out.push_str(rest);
    out.trim().trim_matches('"').to_string()
}

fn q_decode(s: &str) -> Vec<u8> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = (b[i] == b'=' && i + 2 < b.len())
            .then(|| {
                std::str::from_utf8(&b[i + 1..i + 3])
                    .ok()
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
            })
            .flatten();
        match (b[i], hex) {
            (b'=', Some(v)) => {
                out.push(v);
                i += 3;
                continue;
            }
            (b'_', _) => out.push(b' '),
            (c, _) => out.push(c),
        }
        i += 1;
    }
    out
}

fn base64_decode(s: &str) -> Option<Vec<u8>> {
    let val = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    };
    let clean: Vec<u8> = s
        .bytes()
        .filter(|&c| c != b'=' && !c.is_ascii_whitespace())
        .collect();
    let mut out = Vec::with_capacity(clean.len() * 3 / 4);
    for chunk in clean.chunks(4) {
        let mut n = 0u32;
        for (i, &c) in chunk.iter().enumerate() {
            n |= val(c)? << (18 - 6 * i);
        }
        let bytes = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
        out.extend_from_slice(&bytes[..chunk.len().saturating_sub(1)]);
    }
    Some(out)
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
