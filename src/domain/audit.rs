//! The audit chain: every change is an entry holding the hash of the one before.
//!
//! Entries hold no personal data and no free text: they name the case, the kind
//! of change and its structured fields, and bind the case document as it stood
//! after the change by its SHA-256 (`case_sha256`). Names, reasons and notes live
//! in the case record, which the chain thereby makes tamper-evident too, and which
//! the desk's own retention can later reduce without breaking the chain.

use super::ids::CaseId;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The `prev` of the first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub seq: u64,
    pub at: DateTime<Utc>,
    pub actor: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub case: Option<CaseId>,
    pub kind: String,
    /// Structured fields of the change (no personal data).
    pub detail: serde_json::Value,
    /// SHA-256 of the case document after the change, when a case changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub case_sha256: Option<String>,
    pub prev: String,
    pub hash: String,
}

/// SHA-256 of bytes as lowercase hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    let d = Sha256::digest(bytes);
    let mut s = String::with_capacity(64);
    for b in d {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

impl AuditEntry {
    /// Builds the entry that follows `prev` (its sequence number and hash).
    #[allow(clippy::too_many_arguments)]
    pub fn next(
        prev: Option<(u64, &str)>,
        at: DateTime<Utc>,
        actor: &str,
        case: Option<CaseId>,
        kind: &str,
        detail: serde_json::Value,
        case_sha256: Option<String>,
    ) -> AuditEntry {
        let (seq, prev) = match prev {
            Some((s, h)) => (s + 1, h.to_string()),
            None => (1, GENESIS.to_string()),
        };
        let mut e = AuditEntry {
            seq,
            at,
            actor: actor.to_string(),
            case,
            kind: kind.to_string(),
            detail,
            case_sha256,
            prev,
            hash: String::new(),
        };
        e.hash = e.compute_hash();
        e
    }

    /// SHA-256 over the previous hash and the entry's canonical JSON (without `hash`).
    pub fn compute_hash(&self) -> String {
        let mut body = self.clone();
        body.hash = String::new();
        let json = serde_json::to_vec(&body).expect("audit entry serialises");
        let mut input = self.prev.as_bytes().to_vec();
        input.push(b'\n');
        input.extend_from_slice(&json);
        sha256_hex(&input)
    }
}

/// Where and why a chain stops proving itself.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("audit entry #{seq} is bad: {why}")]
pub struct ChainBreak {
    pub seq: u64,
    pub why: String,
}

/// Checks a chain read in order; `Err` carries the stored sequence number and a
/// decoding error for entries that could not even be read.
pub fn verify_chain<I>(entries: I) -> Result<u64, ChainBreak>
where
    I: IntoIterator<Item = (u64, Result<AuditEntry, String>)>,
{
    let mut prev_hash = GENESIS.to_string();
    let mut expected = 1u64;
    for (key, entry) in entries {
        let brk = |why: String| ChainBreak { seq: key, why };
        let e = entry.map_err(|why| brk(format!("cannot be read ({why})")))?;
        if key != expected {
            return Err(ChainBreak {
                seq: expected,
                why: format!("missing (next stored entry is #{key})"),
            });
        }
        if e.seq != key {
            return Err(brk(format!("says it is #{}", e.seq)));
        }
        if e.prev != prev_hash {
            return Err(brk("does not link to the entry before it".into()));
        }
        if e.compute_hash() != e.hash {
            return Err(brk("its content does not match its hash (altered)".into()));
        }
        prev_hash = e.hash;
        expected += 1;
    }
    Ok(expected - 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn chain(n: usize) -> Vec<AuditEntry> {
        let mut out: Vec<AuditEntry> = Vec::new();
        for i in 0..n {
            let prev = out.last().map(|e| (e.seq, e.hash.as_str()));
            let e = AuditEntry::next(
                prev,
                DateTime::from_timestamp(1_700_000_000 + i as i64, 0).unwrap(),
                "alice",
                Some(CaseId::new(2026, 1)),
                "opened",
                serde_json::json!({"i": i}),
                Some(sha256_hex(b"case")),
            );
            out.push(e);
        }
        out
    }

    fn ok(v: &[AuditEntry]) -> Vec<(u64, Result<AuditEntry, String>)> {
        v.iter().map(|e| (e.seq, Ok(e.clone()))).collect()
    }

    #[test]
    fn an_intact_chain_verifies() {
        assert_eq!(verify_chain(ok(&chain(5))), Ok(5));
        assert_eq!(verify_chain(ok(&[])), Ok(0));
    }

    #[test]
    fn a_changed_actor_names_the_entry() {
        let mut c = chain(5);
        c[2].actor = "mallory".into();
        let e = verify_chain(ok(&c)).unwrap_err();
        assert_eq!(e.seq, 3);
        assert!(e.why.contains("altered"));
    }

    #[test]
    fn a_removed_entry_is_found() {
        let mut c = chain(5);
        c.remove(1);
        assert_eq!(verify_chain(ok(&c)).unwrap_err().seq, 2);
    }

    #[test]
    fn a_rehashed_entry_breaks_the_next_link() {
        let mut c = chain(5);
        c[1].kind = "closed".into();
        c[1].hash = c[1].compute_hash();
        let e = verify_chain(ok(&c)).unwrap_err();
        assert_eq!(e.seq, 3);
        assert!(e.why.contains("link"));
    }

    proptest! {
        #[test]
        fn any_single_field_change_is_detected(idx in 0usize..6, which in 0u8..4, s in "[a-z]{1,8}") {
            let mut c = chain(6);
            match which {
                0 => c[idx].actor.push_str(&s),
                1 => c[idx].kind.push_str(&s),
                2 => c[idx].detail = serde_json::json!({ "x": s }),
                _ => c[idx].case_sha256 = Some(s.clone()),
            }
            let e = verify_chain(ok(&c)).unwrap_err();
            prop_assert_eq!(e.seq, idx as u64 + 1);
        }
    }
}
