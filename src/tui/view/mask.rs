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

/// The last pass of every frame drawn with masking on: whatever a view drew
/// from free text (a note, a letter, task evidence, an identity note, a
/// record's fields), no word of a known person's name, no e-mail address and
/// no phone number is left on screen. `names` are the lowercased name words
/// of the people the desk holds in memory (see `App::personal_words`).
/// Over-masking (a word that is also a name) is the safe side.
pub fn scrub(
    buf: &mut ratatui::buffer::Buffer,
    area: ratatui::layout::Rect,
    names: &std::collections::HashSet<String>,
) {
    for y in area.top()..area.bottom() {
        // The row's characters, each with the cell it sits in.
        let cells: Vec<(u16, char)> = (area.left()..area.right())
            .flat_map(|x| {
                buf[(x, y)]
                    .symbol()
                    .chars()
                    .take(1)
                    .map(move |c| (x, c))
                    .collect::<Vec<_>>()
            })
            .collect();
        let mut hide: Vec<u16> = Vec::new();
        let mut i = 0;
        while i < cells.len() {
            // A token: letters, digits and the marks addresses and numbers use.
            let word_char = |c: char| c.is_alphanumeric() || "@._+-'’".contains(c);
            if !word_char(cells[i].1) {
                i += 1;
                continue;
            }
            let start = i;
            while i < cells.len() && word_char(cells[i].1) {
                i += 1;
            }
            let token: String = cells[start..i].iter().map(|(_, c)| *c).collect();
            let trimmed = token.trim_matches(|c: char| !c.is_alphanumeric());
            let lower = crate::domain::fold::fold(trimmed).text;
            let digits = token.chars().filter(char::is_ascii_digit).count();
            let address = token.split_once('@').is_some_and(|(l, d)| {
                l.chars().any(char::is_alphanumeric) && d.chars().any(char::is_alphanumeric)
            });
            let personal = address
                || (digits >= 6 && !looks_like_a_date_or_id(&token))
                || (trimmed.chars().count() >= 2 && names.contains(&lower));
            if personal {
                hide.extend(cells[start..i].iter().map(|(x, _)| *x));
            }
        }
        // Phone numbers written with spaces ("+353 1 234 5678"): runs of
        // digit groups that add up to seven digits or more (a case number or
        // a date is not one).
        let mut run: Vec<usize> = Vec::new();
        let mut run_digits = 0;
        let flush = |run: &mut Vec<usize>, digits: &mut usize, hide: &mut Vec<u16>| {
            if *digits >= 7 {
                let text: String = run.iter().map(|&k| cells[k].1).collect();
                let before: String = cells[..run[0]]
                    .iter()
                    .rev()
                    .take(4)
                    .map(|(_, c)| *c)
                    .collect::<Vec<_>>()
                    .into_iter()
                    .rev()
                    .collect();
                let id_or_date = before.ends_with("DSR-")
                    || text.split([' ', '(', ')']).any(looks_like_a_date_or_id);
                if !id_or_date {
                    hide.extend(run.iter().map(|&k| cells[k].0));
                }
            }
            run.clear();
            *digits = 0;
        };
        for (k, (_, c)) in cells.iter().enumerate() {
            let c = *c;
            if c.is_ascii_digit()
                || (!run.is_empty() && " +-()".contains(c))
                || (run.is_empty() && c == '+')
            {
                run.push(k);
                run_digits += usize::from(c.is_ascii_digit());
            } else {
                flush(&mut run, &mut run_digits, &mut hide);
            }
        }
        if !run.is_empty() {
            flush(&mut run, &mut run_digits, &mut hide);
        }
        for x in hide {
            buf[(x, y)].set_symbol("•");
        }
    }
}

/// Case numbers, dates, months and the desk's own pseudonyms are not
/// personal: DSR-2026-0042, 2026-11-30, 2026-11, S-74bd805bcc, P-1a2b….
fn looks_like_a_date_or_id(token: &str) -> bool {
    let t = token.trim_matches(|c: char| !c.is_alphanumeric());
    let b = t.as_bytes();
    t.starts_with("DSR-")
        || t.starts_with("S-")
        || t.starts_with("P-")
        || (t.len() == 10 && b.get(4) == Some(&b'-') && b.get(7) == Some(&b'-'))
        || (t.len() == 7 && b.get(4) == Some(&b'-') && t[..4].chars().all(|c| c.is_ascii_digit()))
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
