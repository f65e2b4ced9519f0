//! Identifiers that link one person's records across sources: e-mails
//! (trimmed, case-folded, NFC) and phones (E.164 where a country can be
//! inferred, digits only otherwise).

use unicode_normalization::UnicodeNormalization;

/// An e-mail as a matching key: NFC, trimmed, lowercased; `None` if it is not one.
pub fn email_key(raw: &str) -> Option<String> {
    let e: String = raw
        .trim()
        .trim_matches(|c| c == '<' || c == '>')
        .nfc()
        .collect::<String>()
        .to_lowercase();
    let (local, domain) = e.split_once('@')?;
    if local.is_empty()
        || !domain.contains('.')
        || domain.starts_with('.')
        || domain.ends_with('.')
        || domain.contains('@')
        || e.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return None;
    }
    Some(e)
}

/// Digits a phone number may have once an international `00` prefix is set
/// aside: E.164 allows at most 15, and fewer than 5 is no number.
const PHONE_DIGITS: std::ops::RangeInclusive<usize> = 5..=15;

/// The one check of an e-mail typed at intake or found in an export: as
/// its matching key (NFC, trimmed, lower-cased), or why it is not one.
pub fn check_email(raw: &str) -> Result<String, String> {
    email_key(raw).ok_or_else(|| format!("'{}' is not an e-mail address", raw.trim()))
}

/// The one check of a phone typed at intake: digits and phone punctuation
/// only (`+` first), and a number `phone_key` accepts; kept as typed.
pub fn check_phone(raw: &str) -> Result<String, String> {
    let p = raw.trim();
    let punct_ok = p
        .chars()
        .enumerate()
        .all(|(i, c)| c.is_ascii_digit() || " -().".contains(c) || (c == '+' && i == 0));
    if punct_ok && phone_key(p, "").is_some() {
        Ok(p.to_string())
    } else {
        Err(format!("'{p}' is not a phone number"))
    }
}

/// A phone as a matching key. `+CC…` and `00CC…` are international; a national
/// number with a leading 0 gets `default_cc` (e.g. "353"); anything else keeps
/// its digits only. `None` below 5 digits.
pub fn phone_key(raw: &str, default_cc: &str) -> Option<String> {
    let t = raw.trim();
    let digits: String = t.chars().filter(char::is_ascii_digit).collect();
    let significant = digits.strip_prefix("00").unwrap_or(&digits);
    if !PHONE_DIGITS.contains(&significant.len()) {
        return None;
    }
    if t.starts_with('+') {
        return Some(format!("+{digits}"));
    }
    if let Some(rest) = digits.strip_prefix("00") {
        return Some(format!("+{rest}"));
    }
    if let Some(rest) = digits.strip_prefix('0') {
        if !default_cc.is_empty() {
            return Some(format!("+{default_cc}{rest}"));
        }
    }
    Some(digits)
}

/// The country calling code assumed for national numbers, by holiday calendar.
pub fn default_country_code(calendar: &str) -> &'static str {
    match calendar {
        "england-and-wales" => "44",
        _ => "353",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_fold_case_and_space() {
        assert_eq!(
            email_key("  J.Mueller@Example.DE ").as_deref(),
            Some("j.mueller@example.de")
        );
        assert_eq!(email_key("<ana@x.ie>").as_deref(), Some("ana@x.ie"));
        assert_eq!(email_key("no-at-sign"), None);
        assert_eq!(email_key("a@b@c"), None);
        assert_eq!(email_key("ana@localhost"), None);
        assert_eq!(email_key("ana@.ie"), None);
        // NFC: a decomposed ü and a composed one are one address.
        assert_eq!(email_key("mu\u{308}ller@x.de"), email_key("müller@x.de"));
    }

    #[test]
    fn intake_and_imports_share_one_rule() {
        for raw in [
            "J.Mueller@Example.de",
            "ana@localhost",
            "a b@x.ie",
            "mu\u{308}ller@x.de",
        ] {
            assert_eq!(check_email(raw).ok(), email_key(raw), "{raw}");
        }
        // 15 digits is the E.164 limit, with or without the 00 prefix.
        assert!(check_phone("+353 123 456 789 012").is_ok());
        assert!(check_phone("00353 123 456 789 012").is_ok());
        assert!(check_phone("+353 123 456 789 0123").is_err());
        assert_eq!(phone_key("+353 123 456 789 0123", "353"), None);
        assert!(check_phone("call me").is_err());
        assert!(check_phone("1234").is_err());
    }

    #[test]
    fn phones_in_three_formats_share_one_key() {
        let k = Some("+35312345678".to_string());
        assert_eq!(phone_key("+353 1 234 5678", "353"), k);
        assert_eq!(phone_key("00353-1-2345678", "353"), k);
        assert_eq!(phone_key("(01) 234 5678", "353"), k);
        assert_eq!(phone_key("234 5678", "353").as_deref(), Some("2345678"));
        assert_eq!(phone_key("12", "353"), None);
    }
}
