//! The audit chain: every change is an entry holding the hash of the one before.
//!
//! Entries hold no personal data and no free text: they name the case, the kind
//! of change and its structured fields, and bind the case document as it stood
//! after the change by its SHA-256 (`case_sha256`). Names, reasons and notes live
//! in the case record, which the chain thereby makes tamper-evident too, and which
//! the desk's own retention can later reduce without breaking the chain.
//!
//! Entries from version 2 on are sealed with HMAC-SHA256 under the chain key,
//! which is kept outside the store and its backups (`audit.key` in the data
//! directory), over the RFC 8785 canonical JSON of the entry: someone who can
//! edit the store or a backup cannot recompute the seals, and the chain does
//! not depend on the order of struct fields. Version 1 entries (plain SHA-256,
//! from before the key) still verify, but none may follow a sealed entry or
//! sit past the point the key says sealing began.

use super::ids::CaseId;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The `prev` of the first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The secret that seals the chain, and the first entry it sealed.
#[derive(Clone)]
pub struct ChainKey {
    key: zeroize::Zeroizing<Vec<u8>>,
    /// Entries from this sequence number on must be sealed (version 2).
    pub from: u64,
}

impl std::fmt::Debug for ChainKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ChainKey {{ from: {} }}", self.from)
    }
}

impl ChainKey {
    pub fn new(key: Vec<u8>, from: u64) -> ChainKey {
        ChainKey {
            key: zeroize::Zeroizing::new(key),
            from,
        }
    }

    pub fn bytes(&self) -> &[u8] {
        &self.key
    }

    fn seal(&self, input: &[u8]) -> String {
        let mut mac =
            <Hmac<Sha256> as hmac::KeyInit>::new_from_slice(&self.key).expect("HMAC takes any key");
        mac.update(input);
        hex::encode(mac.finalize().into_bytes())
    }
}

fn is_v1(v: &u8) -> bool {
    *v <= 1
}

fn v1() -> u8 {
    1
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// 1: plain SHA-256 over serde's JSON (older entries); 2: sealed with the
    /// chain key over canonical JSON. Absent in a version 1 entry, so its
    /// bytes, and so its hash, are as they were.
    #[serde(default = "v1", skip_serializing_if = "is_v1")]
    pub v: u8,
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
    /// Sealed (version 2) when a chain key is given.
    #[allow(clippy::too_many_arguments)]
    pub fn next(
        key: Option<&ChainKey>,
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
            v: if key.is_some() { 2 } else { 1 },
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
        e.hash = e
            .compute_hash(key)
            .expect("a key is given for a sealed entry");
        e
    }

    /// The entry's hash: for version 1, SHA-256 over the previous hash and
    /// serde's JSON of the entry without `hash`; for version 2, HMAC-SHA256
    /// under the chain key over the previous hash and the RFC 8785 canonical
    /// JSON. `None` when a sealed entry is asked for without the key.
    pub fn compute_hash(&self, key: Option<&ChainKey>) -> Option<String> {
        let mut body = self.clone();
        body.hash = String::new();
        let mut input = self.prev.as_bytes().to_vec();
        input.push(b'\n');
        if self.v >= 2 {
            input.extend_from_slice(
                serde_jcs::to_string(&body)
                    .expect("audit entry serialises")
                    .as_bytes(),
            );
            Some(key?.seal(&input))
        } else {
            input.extend_from_slice(&serde_json::to_vec(&body).expect("audit entry serialises"));
            Some(sha256_hex(&input))
        }
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
pub fn verify_chain<I>(entries: I, key: Option<&ChainKey>) -> Result<u64, ChainBreak>
where
    I: IntoIterator<Item = (u64, Result<AuditEntry, String>)>,
{
    let mut prev_hash = GENESIS.to_string();
    let mut expected = 1u64;
    let mut sealed_seen = false;
    for (stored, entry) in entries {
        let brk = |why: String| ChainBreak { seq: stored, why };
        let e = entry.map_err(|why| brk(format!("cannot be read ({why})")))?;
        if stored != expected {
            return Err(ChainBreak {
                seq: expected,
                why: format!("missing (next stored entry is #{stored})"),
            });
        }
        if e.seq != stored {
            return Err(brk(format!("says it is #{}", e.seq)));
        }
        if e.prev != prev_hash {
            return Err(brk("does not link to the entry before it".into()));
        }
        if e.v < 2 && (sealed_seen || key.is_some_and(|k| e.seq >= k.from)) {
            return Err(brk(
                "is not sealed with the chain key where the chain is sealed (rewritten)".into(),
            ));
        }
        sealed_seen |= e.v >= 2;
        match e.compute_hash(key) {
            None => {
                return Err(brk(
                    "is sealed with a chain key this data directory does not have (audit.key): it cannot be proven here".into(),
                ))
            }
            Some(h) if h != e.hash => {
                return Err(brk("its content does not match its hash (altered)".into()))
            }
            Some(_) => {}
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
                Some(&key()),
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

    fn key() -> ChainKey {
        ChainKey::new(b"0123456789abcdef0123456789abcdef".to_vec(), 1)
    }

    fn verify(v: Vec<(u64, Result<AuditEntry, String>)>) -> Result<u64, ChainBreak> {
        verify_chain(v, Some(&key()))
    }

    fn ok(v: &[AuditEntry]) -> Vec<(u64, Result<AuditEntry, String>)> {
        v.iter().map(|e| (e.seq, Ok(e.clone()))).collect()
    }

    #[test]
    fn an_intact_chain_verifies() {
        assert_eq!(verify(ok(&chain(5))), Ok(5));
        assert_eq!(verify(ok(&[])), Ok(0));
    }

    #[test]
    fn a_changed_actor_names_the_entry() {
        let mut c = chain(5);
        c[2].actor = "mallory".into();
        let e = verify(ok(&c)).unwrap_err();
        assert_eq!(e.seq, 3);
        assert!(e.why.contains("altered"));
    }

    #[test]
    fn a_removed_entry_is_found() {
        let mut c = chain(5);
        c.remove(1);
        assert_eq!(verify(ok(&c)).unwrap_err().seq, 2);
    }

    #[test]
    fn a_rehashed_entry_breaks_the_next_link() {
        let mut c = chain(5);
        c[1].kind = "closed".into();
        c[1].hash = c[1].compute_hash(Some(&key())).unwrap();
        let e = verify(ok(&c)).unwrap_err();
        assert_eq!(e.seq, 3);
        assert!(e.why.contains("link"));
    }

    #[test]
    fn a_chain_rewritten_without_the_key_is_caught() {
        // Every actor rewritten and every hash recomputed as plain SHA-256.
        let mut c = chain(4);
        let mut prev = GENESIS.to_string();
        for e in &mut c {
            e.actor = "mallory".into();
            e.v = 1;
            e.prev = prev.clone();
            e.hash = e.compute_hash(None).unwrap();
            prev = e.hash.clone();
        }
        let e = verify(ok(&c)).unwrap_err();
        assert_eq!(e.seq, 1);
        assert!(e.why.contains("not sealed"), "{}", e.why);
        // Resealed under another key: the seals do not match.
        let mut c = chain(3);
        let other = ChainKey::new(b"another key of thirty-two bytes!".to_vec(), 1);
        let mut prev = GENESIS.to_string();
        for e in &mut c {
            e.prev = prev.clone();
            e.hash = e.compute_hash(Some(&other)).unwrap();
            prev = e.hash.clone();
        }
        assert!(verify(ok(&c)).unwrap_err().why.contains("altered"));
        // Without the key a sealed chain cannot be proven, and says so.
        let e = verify_chain(ok(&chain(2)), None).unwrap_err();
        assert!(e.why.contains("audit.key"), "{}", e.why);
    }

    #[test]
    fn older_unsealed_entries_verify_before_the_key_began() {
        let mut c: Vec<AuditEntry> = Vec::new();
        for i in 0..4 {
            let prev = c.last().map(|e| (e.seq, e.hash.as_str()));
            let k = ChainKey::new(b"0123456789abcdef0123456789abcdef".to_vec(), 3);
            let sealed = i >= 2;
            c.push(AuditEntry::next(
                sealed.then_some(&k),
                prev,
                DateTime::from_timestamp(1_700_000_000 + i, 0).unwrap(),
                "alice",
                None,
                "backup",
                serde_json::json!({}),
                None,
            ));
        }
        let k = ChainKey::new(b"0123456789abcdef0123456789abcdef".to_vec(), 3);
        assert_eq!(verify_chain(ok(&c), Some(&k)), Ok(4));
        // A version 1 entry's bytes are as they always were (no `v` field).
        assert!(!serde_json::to_string(&c[0]).unwrap().contains("\"v\""));
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
            let e = verify(ok(&c)).unwrap_err();
            prop_assert_eq!(e.seq, idx as u64 + 1);
        }
    }
}
