//! Case identifiers: short, human, unique and ordered (`DSR-2026-0042`).

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A case id: the year the case was opened and its number within that year.
///
/// Ordering is by (year, number), never by the string, so `DSR-2026-10000`
/// sorts after `DSR-2026-9999`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CaseId {
    pub year: u16,
    pub number: u32,
}

impl CaseId {
    pub fn new(year: u16, number: u32) -> Self {
        Self { year, number }
    }

    /// Big-endian key bytes: lexicographic order of keys equals id order.
    pub fn to_key(self) -> [u8; 6] {
        let mut k = [0u8; 6];
        k[..2].copy_from_slice(&self.year.to_be_bytes());
        k[2..].copy_from_slice(&self.number.to_be_bytes());
        k
    }

    pub fn from_key(k: &[u8]) -> Option<Self> {
        if k.len() != 6 {
            return None;
        }
        let year = u16::from_be_bytes([k[0], k[1]]);
        let number = u32::from_be_bytes([k[2], k[3], k[4], k[5]]);
        Some(Self { year, number })
    }
}

impl fmt::Display for CaseId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DSR-{:04}-{:04}", self.year, self.number)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{0}' is not a case id (expected DSR-YYYY-NNNN, e.g. DSR-2026-0042)")]
pub struct BadCaseId(pub String);

impl FromStr for CaseId {
    type Err = BadCaseId;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || BadCaseId(s.to_string());
        let t = s.trim();
        let rest = t
            .strip_prefix("DSR-")
            .or_else(|| t.strip_prefix("dsr-"))
            .ok_or_else(bad)?;
        let (y, n) = rest.split_once('-').ok_or_else(bad)?;
        if y.len() != 4 || n.is_empty() || !y.bytes().chain(n.bytes()).all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        let year = y.parse().map_err(|_| bad())?;
        let number: u32 = n.parse().map_err(|_| bad())?;
        if number == 0 {
            return Err(bad());
        }
        Ok(Self { year, number })
    }
}

impl Serialize for CaseId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for CaseId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn displays_short_and_padded() {
        assert_eq!(CaseId::new(2026, 42).to_string(), "DSR-2026-0042");
        assert_eq!(CaseId::new(2026, 12345).to_string(), "DSR-2026-12345");
    }

    #[test]
    fn rejects_junk() {
        for s in [
            "",
            "DSR-",
            "DSR-2026",
            "DSR-26-1",
            "DSR-2026-0",
            "CASE-2026-1",
            "DSR-2026-1x",
        ] {
            assert!(s.parse::<CaseId>().is_err(), "{s} should be refused");
        }
    }

    proptest! {
        #[test]
        fn parse_display_round_trip(y in 2000u16..3000, n in 1u32..10_000_000) {
            let id = CaseId::new(y, n);
            prop_assert_eq!(id.to_string().parse::<CaseId>().unwrap(), id);
            prop_assert_eq!(CaseId::from_key(&id.to_key()).unwrap(), id);
        }

        #[test]
        fn key_order_is_id_order(a in (2000u16..2100, 1u32..100_000), b in (2000u16..2100, 1u32..100_000)) {
            let (a, b) = (CaseId::new(a.0, a.1), CaseId::new(b.0, b.1));
            prop_assert_eq!(a.cmp(&b), a.to_key().cmp(&b.to_key()));
        }
    }
}
