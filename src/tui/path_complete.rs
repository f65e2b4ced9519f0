//! Tab in a file field completes the path as a shell would: to the longest
//! prefix the folder's entries share with what was typed, a lone folder
//! with its `/`. Only names are read; nothing is opened or followed.

use std::path::{Path, PathBuf};

/// What Tab did to a typed path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Completion {
    /// The path as it now reads (unchanged when nothing completes).
    pub text: String,
    /// The entries still possible, when more than one (names only).
    pub choices: Vec<String>,
}

/// Completes `typed` (relative to the desk's working folder, `~/` for the
/// home folder).
pub fn complete(typed: &str) -> Completion {
    let expanded = expand_home(typed);
    let (dir, stem) = match expanded.rfind('/') {
        Some(i) => (expanded[..=i].to_string(), expanded[i + 1..].to_string()),
        None => (String::new(), expanded.clone()),
    };
    let listing = if dir.is_empty() {
        Path::new(".")
    } else {
        Path::new(&dir)
    };
    let mut names: Vec<(String, bool)> = std::fs::read_dir(listing)
        .map(|rd| {
            rd.filter_map(Result::ok)
                .filter_map(|e| {
                    let name = e.file_name().into_string().ok()?;
                    // Hidden entries only when asked for with a leading dot.
                    if name.starts_with('.') && !stem.starts_with('.') {
                        return None;
                    }
                    let is_dir = e.file_type().is_ok_and(|t| t.is_dir());
                    name.starts_with(&stem).then_some((name, is_dir))
                })
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    let unchanged = Completion {
        text: typed.to_string(),
        choices: Vec::new(),
    };
    match names.as_slice() {
        [] => unchanged,
        [(name, is_dir)] => Completion {
            text: format!("{dir}{name}{}", if *is_dir { "/" } else { "" }),
            choices: Vec::new(),
        },
        many => {
            let first = &many[0].0;
            let shared = many.iter().fold(first.len(), |n, (name, _)| {
                first
                    .char_indices()
                    .zip(name.chars())
                    .take_while(|((_, a), b)| a == b)
                    .last()
                    .map_or(0, |((i, c), _)| i + c.len_utf8())
                    .min(n)
            });
            Completion {
                text: format!("{dir}{}", &first[..shared]),
                choices: many
                    .iter()
                    .map(|(n, d)| if *d { format!("{n}/") } else { n.clone() })
                    .collect(),
            }
        }
    }
}

fn expand_home(typed: &str) -> String {
    match (typed.strip_prefix("~/"), std::env::var_os("HOME")) {
        (Some(rest), Some(home)) => format!("{}/{rest}", PathBuf::from(home).display()),
        _ => typed.to_string(),
    }
}

/// The path as the desk will open it: `~/` expanded, made absolute against
/// the working folder (said in full when it is not there).
pub fn resolved(typed: &str) -> PathBuf {
    let p = PathBuf::from(expand_home(typed.trim()));
    std::path::absolute(&p).unwrap_or(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn completes_to_the_shared_prefix_and_a_lone_folder_gets_its_slash() {
        let t = tempfile::tempdir().unwrap();
        let d = t.path().display().to_string();
        std::fs::write(t.path().join("members_export_2026.csv"), "").unwrap();
        std::fs::write(t.path().join("members_export_2025.csv"), "").unwrap();
        std::fs::create_dir(t.path().join("takeout")).unwrap();
        std::fs::write(t.path().join(".hidden.csv"), "").unwrap();
        let c = complete(&format!("{d}/mem"));
        assert_eq!(c.text, format!("{d}/members_export_202"));
        assert_eq!(
            c.choices,
            ["members_export_2025.csv", "members_export_2026.csv"]
        );
        let c = complete(&format!("{d}/ta"));
        assert_eq!(c.text, format!("{d}/takeout/"));
        assert!(c.choices.is_empty());
        // Nothing matches: the text stays as typed.
        let c = complete(&format!("{d}/zzz"));
        assert_eq!(c.text, format!("{d}/zzz"));
        // Hidden files only when a dot was typed.
        assert_eq!(
            complete(&format!("{d}/.h")).text,
            format!("{d}/.hidden.csv")
        );
        assert_eq!(complete(&format!("{d}/")).choices.len(), 3);
    }

    #[test]
    fn a_relative_path_is_said_in_full() {
        let r = resolved("eventbrite-attendees.csv");
        assert!(r.is_absolute());
        assert!(r.ends_with("eventbrite-attendees.csv"));
    }
}
