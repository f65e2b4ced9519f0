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
        || domain.is_empty()
        || domain.contains('@')
        || e.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return None;
    }
    Some(e)
}

/// A phone as a matching key. `+CC…` and `00CC…` are international; a national
/// number with a leading 0 gets `default_cc` (e.g. "353"); anything else keeps
/// its digits only. `None` below 5 digits.
pub fn phone_key(raw: &str, default_cc: &str) -> Option<String> {
    let t = raw.trim();
    let digits: String = t.chars().filter(char::is_ascii_digit).collect();
    if digits.len() < 5 || digits.len() > 17 {
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
