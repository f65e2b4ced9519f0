//! Source records as the store keeps them: what the lookup and the access
//! package need, each string once.
//!
//! A row used to be a JSON document with its field names, every column
//! again under `raw` with its header, and its name, e-mail and phone a third
//! time as typed fields: about 430 bytes for a 105-byte CSV line. Now:
//!
//! - the source and the key are the store key's, not repeated;
//! - the header of the export's columns is kept once per distinct header
//!   (in `meta`, under `columns/ID`), and a row holds only its values;
//! - a typed field equal to one of the row's columns is a reference to it;
//! - the rest is `postcard` (serde, no field names, varint lengths) after a
//!   tag byte. A value starting `{` is a record written by an older desk as
//!   JSON, and still reads.

use crate::domain::record::SourceRecord;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::{Arc, RwLock};

/// The first byte of a record in this encoding (JSON starts with `{`).
const TAG: u8 = 1;
/// Where a header of columns is kept in `meta`.
pub const COLUMNS_PREFIX: &str = "columns/";

/// A typed field: one of the row's columns, or its own text.
#[derive(Serialize, Deserialize)]
enum Text<'a> {
    Column(u32),
    #[serde(borrow)]
    Own(Cow<'a, str>),
}

#[derive(Serialize, Deserialize)]
struct Stored<'a> {
    /// The header's id (`columns_id`); 0 when the row has no columns.
    columns: u64,
    #[serde(borrow)]
    values: Vec<Cow<'a, str>>,
    #[serde(borrow)]
    names: Vec<Text<'a>>,
    #[serde(borrow)]
    emails: Vec<Text<'a>>,
    #[serde(borrow)]
    phones: Vec<Text<'a>>,
    #[serde(borrow)]
    company: Option<Text<'a>>,
    /// Days from the common era.
    day: Option<i32>,
    #[serde(borrow)]
    status: Option<Text<'a>>,
    #[serde(borrow)]
    mentions: Vec<Text<'a>>,
    #[serde(borrow)]
    format: Cow<'a, str>,
    line: u64,
}

/// The first id tried for a header of columns: 24 bits of its SHA-256
/// (never 0, which means no columns); the store takes the next free one if
/// another header holds it. Small, so a row spends at most 4 bytes on it.
pub fn columns_id(headers: &[&str]) -> u64 {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    for c in headers {
        h.update((c.len() as u64).to_le_bytes());
        h.update(c.as_bytes());
    }
    let d = h.finalize();
    u64::from(u32::from_le_bytes(d[..4].try_into().expect("4 bytes")) & 0x00ff_ffff).max(1)
}

/// The `meta` key of a header.
pub fn columns_key(id: u64) -> Vec<u8> {
    format!("{COLUMNS_PREFIX}{id:016x}").into_bytes()
}

/// `r` as the store keeps it, given the id of its header (`columns_id`).
pub fn encode<'r>(r: &'r SourceRecord, columns: u64) -> Vec<u8> {
    let values: Vec<Cow<str>> = r
        .raw
        .iter()
        .map(|(_, v)| Cow::Borrowed(v.as_str()))
        .collect();
    let text = |s: &'r str| -> Text<'r> {
        match r.raw.iter().position(|(_, v)| v == s) {
            Some(i) => Text::Column(i as u32),
            None => Text::Own(Cow::Borrowed(s)),
        }
    };
    let list = |l: &'r [String]| l.iter().map(|s| text(s)).collect::<Vec<_>>();
    let stored = Stored {
        columns: if r.raw.is_empty() { 0 } else { columns },
        values,
        names: list(&r.names),
        emails: list(&r.emails),
        phones: list(&r.phones),
        company: r.company.as_deref().map(text),
        day: r
            .last_activity
            .map(|d| chrono::Datelike::num_days_from_ce(&d)),
        status: r.status.as_deref().map(text),
        mentions: list(&r.mentions),
        format: Cow::Borrowed(&r.format),
        line: r.line,
    };
    postcard::to_extend(&stored, vec![TAG]).expect("a record encodes")
}

/// The headers of columns seen, by id, shared by every handle on a store.
#[derive(Clone, Default)]
pub struct ColumnCache(Arc<RwLock<HashMap<u64, Arc<Vec<String>>>>>);

impl ColumnCache {
    /// The header `id`, from the cache or else from `meta`.
    pub fn get(&self, meta: &sled::Tree, id: u64) -> Option<Arc<Vec<String>>> {
        if let Some(h) = self.0.read().ok()?.get(&id) {
            return Some(h.clone());
        }
        let v = meta.get(columns_key(id)).ok()??;
        let headers: Arc<Vec<String>> = Arc::new(serde_json::from_slice(&v).ok()?);
        self.0.write().ok()?.insert(id, headers.clone());
        Some(headers)
    }

    pub fn remember(&self, id: u64, headers: Vec<String>) {
        if let Ok(mut c) = self.0.write() {
            c.insert(id, Arc::new(headers));
        }
    }
}

/// The record at store key `key`; `None` if the bytes are not one.
pub fn decode(
    key: &[u8],
    value: &[u8],
    columns: &dyn Fn(u64) -> Option<Arc<Vec<String>>>,
) -> Option<SourceRecord> {
    match value.first()? {
        b'{' => serde_json::from_slice(value).ok(),
        &TAG => decode_stored(key, &value[1..], columns),
        _ => None,
    }
}

/// Only the day of a record's last activity (what an import compares).
pub fn last_activity(value: &[u8]) -> Option<NaiveDate> {
    match value.first()? {
        b'{' => {
            serde_json::from_slice::<SourceRecord>(value)
                .ok()?
                .last_activity
        }
        &TAG => postcard::from_bytes::<Stored>(&value[1..])
            .ok()?
            .day
            .and_then(NaiveDate::from_num_days_from_ce_opt),
        _ => None,
    }
}

fn decode_stored(
    key: &[u8],
    body: &[u8],
    columns: &dyn Fn(u64) -> Option<Arc<Vec<String>>>,
) -> Option<SourceRecord> {
    let s: Stored = postcard::from_bytes(body).ok()?;
    let at = key.iter().position(|b| *b == 0)?;
    let source = std::str::from_utf8(&key[..at]).ok()?.to_string();
    let record_key = std::str::from_utf8(&key[at + 1..]).ok()?.to_string();
    let headers = match s.columns {
        0 => Arc::new(Vec::new()),
        id => columns(id)?,
    };
    if headers.len() != s.values.len() {
        return None;
    }
    let text = |t: &Text| -> Option<String> {
        match t {
            Text::Column(i) => s.values.get(*i as usize).map(|v| v.to_string()),
            Text::Own(v) => Some(v.to_string()),
        }
    };
    let list = |l: &[Text]| l.iter().map(text).collect::<Option<Vec<_>>>();
    Some(SourceRecord {
        source,
        key: record_key,
        names: list(&s.names)?,
        emails: list(&s.emails)?,
        phones: list(&s.phones)?,
        company: match &s.company {
            Some(t) => Some(text(t)?),
            None => None,
        },
        last_activity: match s.day {
            Some(d) => Some(NaiveDate::from_num_days_from_ce_opt(d)?),
            None => None,
        },
        status: match &s.status {
            Some(t) => Some(text(t)?),
            None => None,
        },
        mentions: list(&s.mentions)?,
        raw: headers
            .iter()
            .zip(&s.values)
            .map(|(h, v)| (h.clone(), v.to_string()))
            .collect(),
        format: s.format.into_owned(),
        line: s.line,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn headers_of(r: &SourceRecord) -> Vec<&str> {
        r.raw.iter().map(|(h, _)| h.as_str()).collect()
    }

    fn hubspot() -> SourceRecord {
        let raw: Vec<(String, String)> = [
            ("Record ID", "100000"),
            ("First Name", "David"),
            ("Last Name", "Brennan"),
            ("Email", "david.brennan0@example0.com"),
            ("Phone Number", "+353 1 100 0000"),
            ("Company Name", "Fjord AS"),
            ("Last Activity Date", "11/20/2025 10:30"),
        ]
        .iter()
        .map(|(h, v)| (h.to_string(), v.to_string()))
        .collect();
        SourceRecord {
            source: "web-forms".into(),
            key: "100000".into(),
            names: vec!["David Brennan".into()],
            emails: vec!["david.brennan0@example0.com".into()],
            phones: vec!["+353 1 100 0000".into()],
            company: Some("Fjord AS".into()),
            last_activity: NaiveDate::from_ymd_opt(2025, 11, 20),
            status: None,
            mentions: vec![],
            raw,
            format: "hubspot".into(),
            line: 2,
        }
    }

    #[test]
    fn a_row_costs_a_third_of_its_json_and_reads_back_whole() {
        let r = hubspot();
        let id = columns_id(&headers_of(&r));
        let headers: Vec<String> = r.raw.iter().map(|(h, _)| h.clone()).collect();
        let cols = |i: u64| (i == id).then(|| Arc::new(headers.clone()));
        let bytes = encode(&r, id);
        let json = serde_json::to_vec(&r).unwrap();
        assert!(
            bytes.len() * 3 <= json.len(),
            "{} bytes against JSON's {}",
            bytes.len(),
            json.len()
        );
        assert_eq!(decode(&r.store_key(), &bytes, &cols), Some(r.clone()));
        assert_eq!(last_activity(&bytes), r.last_activity);
        // A record an older desk wrote as JSON still reads.
        assert_eq!(decode(&r.store_key(), &json, &cols), Some(r.clone()));
        // Without its header, or cut short, it is no record (never misread).
        assert_eq!(decode(&r.store_key(), &bytes, &|_| None), None);
        assert_eq!(
            decode(&r.store_key(), &bytes[..bytes.len() - 1], &cols),
            None
        );
    }

    proptest! {
        #[test]
        fn any_record_reads_back_as_written(
            key in "[^\u{0}]{0,12}",
            names in proptest::collection::vec(".{0,12}", 0..3),
            emails in proptest::collection::vec("[a-z.]{1,8}@[a-z]{1,6}\\.ie", 0..3),
            company in proptest::option::of(".{0,10}"),
            day in proptest::option::of(-800_000i32..800_000),
            status in proptest::option::of("[a-z]{0,12}"),
            mentions in proptest::collection::vec(".{0,12}", 0..2),
            raw in proptest::collection::vec((".{0,8}", ".{0,12}"), 0..6),
            line in any::<u64>(),
        ) {
            let r = SourceRecord {
                source: "crm".into(),
                key,
                names,
                emails,
                phones: vec!["+353 1 234 5678".into()],
                company,
                last_activity: day.and_then(NaiveDate::from_num_days_from_ce_opt),
                status,
                mentions,
                raw,
                format: "csv".into(),
                line,
            };
            let id = columns_id(&headers_of(&r));
            let headers: Vec<String> = r.raw.iter().map(|(h, _)| h.clone()).collect();
            let cols = |i: u64| (i == id).then(|| Arc::new(headers.clone()));
            let bytes = encode(&r, id);
            prop_assert_eq!(decode(&r.store_key(), &bytes, &cols), Some(r.clone()));
            prop_assert_eq!(last_activity(&bytes), r.last_activity);
        }
    }
}
