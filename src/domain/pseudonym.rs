//! Keyed hashes of identifiers: what the desk keeps of a person once their
//! data must go (erasure registry, backup marks, suppression list).
//!
//! HMAC-SHA256 under the organisation's own key, over the same normalised form
//! the lookup links by (`email_key`, `phone_key`), prefixed by the kind so an
//! e-mail and a phone can never collide. Keyed, so a leaked list cannot be
//! reversed by hashing a directory of addresses without the key too.

use super::identifier::{email_key, phone_key};
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The kind of identifier a hash stands for.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum IdKind {
    Email,
    Phone,
}

impl IdKind {
    pub fn as_str(self) -> &'static str {
        match self {
            IdKind::Email => "email",
            IdKind::Phone => "phone",
        }
    }
}

/// Computes keyed hashes with one organisation key.
#[derive(Clone)]
pub struct Pseudonymiser {
    key: zeroize::Zeroizing<Vec<u8>>,
    /// Keyed once: each hash then costs two compressions, not four.
    base: Hmac<Sha256>,
    default_cc: String,
}

impl std::fmt::Debug for Pseudonymiser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Pseudonymiser(***)")
    }
}

impl Pseudonymiser {
    pub fn new(key: &[u8], default_cc: &str) -> Pseudonymiser {
        Pseudonymiser {
            key: zeroize::Zeroizing::new(key.to_vec()),
            base: <Hmac<Sha256> as hmac::KeyInit>::new_from_slice(key).expect("HMAC takes any key"),
            default_cc: default_cc.to_string(),
        }
    }

    fn mac(&self, kind: IdKind, normal: &str) -> String {
        hex(&self.raw(kind, normal))
    }

    /// The hash as bytes (the lookup compares these: no hex per record).
    pub fn raw(&self, kind: IdKind, normal: &str) -> [u8; 32] {
        let mut m = self.base.clone();
        m.update(kind.as_str().as_bytes());
        m.update(b":");
        m.update(normal.as_bytes());
        m.finalize().into_bytes().into()
    }

    /// The keyed hash of an e-mail address in any letter case, or None if it is not one.
    pub fn email(&self, raw: &str) -> Option<String> {
        email_key(raw).map(|e| self.mac(IdKind::Email, &e))
    }

    /// The keyed hash of a phone number in any common format.
    pub fn phone(&self, raw: &str) -> Option<String> {
        phone_key(raw, &self.default_cc).map(|p| self.mac(IdKind::Phone, &p))
    }

    /// The hash of an already normalised identifier (an `email_key` holds '@',
    /// a `phone_key` does not).
    pub fn of_key(&self, key: &str) -> Option<[u8; 32]> {
        if key.is_empty() {
            return None;
        }
        let kind = if key.contains('@') {
            IdKind::Email
        } else {
            IdKind::Phone
        };
        Some(self.raw(kind, key))
    }

    /// The hashes a case keeps of its subject, in the order the identifiers
    /// stand (hashes already kept first, then e-mails, then phones), each
    /// once: the first is the case's pseudonym, which stays the same through
    /// erasure and purge.
    pub fn ordered(&self, emails: &[String], phones: &[String]) -> Vec<String> {
        let kept = emails
            .iter()
            .filter_map(|e| e.strip_prefix("hash:").map(str::to_string));
        let fresh = emails
            .iter()
            .filter(|e| !e.starts_with("hash:"))
            .filter_map(|e| self.email(e))
            .chain(phones.iter().filter_map(|p| self.phone(p)));
        let mut seen = std::collections::HashSet::new();
        kept.chain(fresh)
            .filter(|h| seen.insert(h.clone()))
            .collect()
    }

    /// Every hash of a set of e-mails and phones, with its kind.
    pub fn all<'a>(
        &self,
        emails: impl IntoIterator<Item = &'a String>,
        phones: impl IntoIterator<Item = &'a String>,
    ) -> Vec<(IdKind, String)> {
        let mut out: Vec<(IdKind, String)> = emails
            .into_iter()
            .filter_map(|e| self.email(e).map(|h| (IdKind::Email, h)))
            .chain(
                phones
                    .into_iter()
                    .filter_map(|p| self.phone(p).map(|h| (IdKind::Phone, h))),
            )
            .collect();
        out.sort();
        out.dedup();
        out
    }

    /// The key in hex, for the recipe that goes with an exported list.
    pub fn key_hex(&self) -> String {
        hex(&self.key)
    }

    /// How another tool computes the same hashes (printed with every export).
    pub fn recipe(&self) -> String {
        format!(
            "HMAC-SHA256, key = the hex-decoded value of `key` below, message = \"email:\" + the \
             address trimmed, Unicode NFC and lower-cased (e.g. \"email:ana@example.ie\"), or \
             \"phone:\" + the number in E.164 (\"+\" and digits; national numbers take +{}), \
             output as lower-case hex",
            self.default_cc
        )
    }
}

pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[usize::from(b >> 4)] as char);
        s.push(DIGITS[usize::from(b & 15)] as char);
    }
    s
}

/// A 64-digit hex hash back to bytes (None if it is not one).
pub fn unhex32(s: &str) -> Option<[u8; 32]> {
    let b = s.as_bytes();
    if b.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, pair) in b.chunks(2).enumerate() {
        let d = |c: u8| (c as char).to_digit(16);
        out[i] = (d(pair[0])? * 16 + d(pair[1])?) as u8;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn p() -> Pseudonymiser {
        Pseudonymiser::new(b"0123456789abcdef0123456789abcdef", "353")
    }

    #[test]
    fn one_person_in_any_spelling_gives_one_hash() {
        let p = p();
        assert_eq!(p.email("Ana@Example.IE "), p.email("ana@example.ie"));
        assert_eq!(p.phone("+353 1 234 5678"), p.phone("(01) 234 5678"));
        assert_eq!(p.phone("00353-1-2345678"), p.phone("+35312345678"));
        assert_ne!(p.email("ana@example.ie"), p.email("ann@example.ie"));
        assert_eq!(p.email("not an address"), None);
    }

    #[test]
    fn the_key_matters_and_is_never_printed() {
        let other = Pseudonymiser::new(b"another key", "353");
        assert_ne!(p().email("ana@example.ie"), other.email("ana@example.ie"));
        assert_eq!(format!("{:?}", p()), "Pseudonymiser(***)");
    }

    #[test]
    fn the_recipe_reproduces_the_hash() {
        // Follow the recipe by hand with the hmac crate, as a marketing tool would.
        let p = p();
        let mut m =
            <Hmac<Sha256> as hmac::KeyInit>::new_from_slice(b"0123456789abcdef0123456789abcdef")
                .unwrap();
        m.update(b"email:ana@example.ie");
        assert_eq!(
            p.email("ANA@example.ie").unwrap(),
            hex(&m.finalize().into_bytes())
        );
        assert!(p.recipe().contains("email:"));
    }

    proptest! {
        #[test]
        fn email_hash_ignores_letter_case(local in "[a-z0-9.]{1,12}", dom in "[a-z]{1,8}\\.[a-z]{2,3}") {
            let p = p();
            let e = format!("{local}@{dom}");
            prop_assert_eq!(p.email(&e.to_uppercase()), p.email(&e));
            prop_assert_eq!(p.email(&e).unwrap().len(), 64);
        }
    }
}
