//! Folding text for matching: `muller` must find `Müller`, `lukasz` `Łukasz`,
//! `strasse` `Straße`, `soren` `Søren`. fuzzy-matcher folds ASCII case only, so
//! both the query and every haystack go through [`fold`] first, and the map it
//! returns turns matched positions back into positions of the original text.

use unicode_normalization::char::{decompose_compatible, is_combining_mark};

/// Letters that Unicode does not decompose into a base letter plus a mark.
fn special(c: char) -> Option<&'static str> {
    Some(match c {
        'ß' | 'ẞ' => "ss",
        'ł' | 'Ł' => "l",
        'ø' | 'Ø' => "o",
        'đ' | 'Đ' | 'ð' | 'Ð' => "d",
        'þ' | 'Þ' => "th",
        'æ' | 'Æ' => "ae",
        'œ' | 'Œ' => "oe",
        'ı' => "i",
        'ħ' | 'Ħ' => "h",
        'ŀ' | 'Ŀ' => "l",
        _ => return None,
    })
}

/// Folded text, and for each folded char the index of the original char it came from.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Folded {
    pub text: String,
    pub origin: Vec<u32>,
}

/// Lowercases, strips diacritics and expands special letters.
pub fn fold(s: &str) -> Folded {
    let mut out = Folded {
        text: String::with_capacity(s.len()),
        origin: Vec::with_capacity(s.len()),
    };
    for (i, c) in s.chars().enumerate() {
        let i = u32::try_from(i).unwrap_or(u32::MAX);
        let mut push = |ch: char| {
            for l in ch.to_lowercase() {
                out.text.push(l);
                out.origin.push(i);
            }
        };
        if c.is_ascii() {
            push(c);
        } else if let Some(rep) = special(c) {
            rep.chars().for_each(&mut push);
        } else {
            let mut any = false;
            decompose_compatible(c, |d| {
                if !is_combining_mark(d) {
                    if let Some(rep) = special(d) {
                        rep.chars().for_each(&mut push);
                    } else {
                        push(d);
                    }
                    any = true;
                }
            });
            if !any {
                push(c);
            }
        }
    }
    out
}

/// Just the folded text.
pub fn folded(s: &str) -> String {
    fold(s).text
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn folds_the_names_staff_type_without_accents() {
        for (orig, typed) in [
            ("Müller", "muller"),
            ("García", "garcia"),
            ("Łukasz", "lukasz"),
            ("Søren", "soren"),
            ("Straße", "strasse"),
            ("Ærøskøbing", "aeroskobing"),
            ("Dvořáková", "dvorakova"),
            ("Yılmaz", "yilmaz"),
            ("Nguyễn", "nguyen"),
            ("ＡＢＣ", "abc"),
        ] {
            assert_eq!(folded(orig), typed, "{orig}");
        }
    }

    #[test]
    fn origin_maps_back_to_the_original_chars() {
        let f = fold("Straße");
        assert_eq!(f.text, "strasse");
        assert_eq!(f.origin, vec![0, 1, 2, 3, 4, 4, 5]);
    }

    proptest! {
        #[test]
        fn origin_is_monotonic_and_in_range(s in any::<String>()) {
            let f = fold(&s);
            let n = s.chars().count() as u32;
            prop_assert_eq!(f.text.chars().count(), f.origin.len());
            prop_assert!(f.origin.windows(2).all(|w| w[0] <= w[1]));
            prop_assert!(f.origin.iter().all(|&o| o < n));
        }

        #[test]
        fn folding_is_idempotent(s in "[\\p{L} ]{0,30}") {
            let once = folded(&s);
            prop_assert_eq!(folded(&once), once.clone());
        }
    }
}
