//! What personal data looks like on screen: always inert, and masked on demand
//! (screen sharing, open offices).

use crate::domain::text::inert;

/// A name as initials: "Jürgen Müller" → "J. M.".
pub fn name(s: &str) -> String {
    let parts: Vec<String> = s
        .split_whitespace()
        .filter_map(|w| w.chars().find(|c| c.is_alphanumeric()))
        .map(|c| format!("{c}."))
        .collect();
    if parts.is_empty() {
        "•".into()
    } else {
        inert(&parts.join(" ")).into_owned()
    }
}

/// An e-mail with its local part and domain hidden: "j•••@•••.de".
pub fn email(s: &str) -> String {
    let first = s
        .chars()
        .next()
        .filter(|c| c.is_alphanumeric())
        .map(String::from)
        .unwrap_or_default();
    let tld = s
        .rsplit('.')
        .next()
        .filter(|t| t.len() <= 6 && t.chars().all(|c| c.is_ascii_alphabetic()))
        .unwrap_or("");
    inert(&format!("{first}•••@•••.{tld}")).into_owned()
}

/// A phone with all but its last two digits hidden.
pub fn phone(s: &str) -> String {
    let digits: Vec<char> = s.chars().filter(char::is_ascii_digit).collect();
    let tail: String = digits.iter().rev().take(2).rev().collect();
    format!("•••••{tail}")
}

/// Outside text as shown: masked if asked, always inert.
pub fn shown(masked: bool, s: &str, kind: fn(&str) -> String) -> String {
    if masked {
        kind(s)
    } else {
        inert(s).into_owned()
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn masks_keep_nothing_identifying() {
        assert_eq!(super::name("Jürgen Müller"), "J. M.");
        assert_eq!(super::email("j.mueller@example.de"), "j•••@•••.de");
        assert_eq!(super::phone("+49 30 1234567"), "•••••67");
        assert_eq!(super::name("\u{1b}]0;x"), "0.");
    }
}
