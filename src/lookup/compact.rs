//! A source record as the lookup index holds it: only what a hit, the
//! person view and the flags need (no raw columns), each string once, its
//! length as a LEB128 varint. Hand-written because it is twelve fields and
//! the index must read one record without decoding its neighbours.

use crate::domain::record::SourceRecord;
use chrono::NaiveDate;

pub fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Reads a varint at `*at`, moving past it; `None` on a cut-short buffer.
pub fn get_varint(buf: &[u8], at: &mut usize) -> Option<u64> {
    let mut v: u64 = 0;
    for shift in (0..64).step_by(7) {
        let b = *buf.get(*at)?;
        *at += 1;
        v |= u64::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            return Some(v);
        }
    }
    None
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    put_varint(out, s.len() as u64);
    out.extend_from_slice(s.as_bytes());
}

fn put_list(out: &mut Vec<u8>, l: &[String]) {
    put_varint(out, l.len() as u64);
    for s in l {
        put_str(out, s);
    }
}

/// `None` is written as 0, `Some(s)` as 1 then the string.
fn put_opt(out: &mut Vec<u8>, s: Option<&str>) {
    match s {
        None => out.push(0),
        Some(s) => {
            out.push(1);
            put_str(out, s);
        }
    }
}

/// The record and its identifier keys (what links it), appended to `out`.
pub fn encode(r: &SourceRecord, ids: &[String], out: &mut Vec<u8>) {
    put_str(out, &r.source);
    put_str(out, &r.key);
    put_list(out, &r.names);
    put_list(out, &r.emails);
    put_list(out, &r.phones);
    put_opt(out, r.company.as_deref());
    // Days from the common era, plus one (0: no date).
    put_varint(
        out,
        r.last_activity.map_or(0, |d| {
            chrono::Datelike::num_days_from_ce(&d).max(0) as u64 + 1
        }),
    );
    put_opt(out, r.status.as_deref());
    put_list(out, &r.mentions);
    put_str(out, &r.format);
    put_varint(out, r.line);
    put_list(out, ids);
}

struct Reader<'a> {
    buf: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn varint(&mut self) -> Option<u64> {
        get_varint(self.buf, &mut self.at)
    }
    fn str(&mut self) -> Option<String> {
        let n = usize::try_from(self.varint()?).ok()?;
        let end = self.at.checked_add(n)?;
        let s = std::str::from_utf8(self.buf.get(self.at..end)?).ok()?;
        self.at = end;
        Some(s.to_string())
    }
    fn list(&mut self) -> Option<Vec<String>> {
        let n = self.varint()?;
        // Never trust a count to size an allocation.
        let mut v = Vec::new();
        for _ in 0..n {
            v.push(self.str()?);
        }
        Some(v)
    }
    fn opt(&mut self) -> Option<Option<String>> {
        let tag = *self.buf.get(self.at)?;
        self.at += 1;
        match tag {
            0 => Some(None),
            1 => Some(Some(self.str()?)),
            _ => None,
        }
    }
}

/// A record and its identifier keys; `None` if the bytes are not one.
pub fn decode(buf: &[u8]) -> Option<(SourceRecord, Vec<String>)> {
    let mut r = Reader { buf, at: 0 };
    let source = r.str()?;
    let key = r.str()?;
    let names = r.list()?;
    let emails = r.list()?;
    let phones = r.list()?;
    let company = r.opt()?;
    let day = r.varint()?;
    let last_activity = match day {
        0 => None,
        d => NaiveDate::from_num_days_from_ce_opt(i32::try_from(d - 1).ok()?),
    };
    let status = r.opt()?;
    let mentions = r.list()?;
    let format = r.str()?;
    let line = r.varint()?;
    let ids = r.list()?;
    let record = SourceRecord {
        source,
        key,
        names,
        emails,
        phones,
        company,
        last_activity,
        status,
        mentions,
        raw: Vec::new(),
        format,
        line,
    };
    Some((record, ids))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn a_record_reads_back_as_written(
            names in proptest::collection::vec(".{0,12}", 0..3),
            emails in proptest::collection::vec("[a-z.]{1,8}@[a-z]{1,6}\\.ie", 0..3),
            company in proptest::option::of(".{0,10}"),
            day in proptest::option::of(0i32..800_000),
            status in proptest::option::of("[a-z]{0,12}"),
            line in any::<u64>(),
        ) {
            let r = SourceRecord {
                source: "crm".into(),
                key: "k\u{0}1".into(),
                names,
                emails: emails.clone(),
                phones: vec!["+353 1 234 5678".into()],
                company,
                last_activity: day.and_then(NaiveDate::from_num_days_from_ce_opt),
                status,
                mentions: vec!["Call with Ann".into()],
                raw: Vec::new(),
                format: "csv".into(),
                line,
            };
            let mut buf = Vec::new();
            encode(&r, &emails, &mut buf);
            let (back, ids) = decode(&buf).expect("decodes");
            prop_assert_eq!(&back, &r);
            prop_assert_eq!(ids, emails);
            // A record cut short is refused, never misread.
            prop_assert!(decode(&buf[..buf.len() - 1]).is_none());
        }
    }
}
