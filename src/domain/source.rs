//! The source catalogue: every place the organisation keeps personal data.
//!
//! Shipped as `data/sources.toml` (the organisation's data map, taken from its
//! privacy policy) and validated when the desk starts.

use super::named::named_enum;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// The catalogue shipped with the desk.
pub const BUILTIN_CATALOGUE: &str = include_str!("../../data/sources.toml");

named_enum!(
    /// How erasure is carried out in a source.
    ErasureMethod {
        InPlace => "in-place",
        Manual => "manual",
        Suppression => "suppression",
        BeyondUse => "beyond-use",
        Exempt => "exempt",
        ThirdParty => "third-party",
    }
);

named_enum!(
    /// What a retention period counts from.
    RetentionFrom {
        Collection => "collection",
        LastContact => "last-contact",
        LastServiceDelivery => "last-service-delivery",
        LastEvent => "last-event",
        FollowsSource => "follows-source",
        Overwrite => "overwrite",
        ThirdPartyPolicy => "third-party-policy",
    }
);

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Retention {
    /// Months kept; absent where the period is set elsewhere (overwrite, third party).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub months: Option<u32>,
    pub from: RetentionFrom,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub note: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Source {
    pub id: String,
    pub name: String,
    pub team: String,
    pub systems: Vec<String>,
    pub categories: Vec<String>,
    pub purposes: Vec<String>,
    pub retention: Retention,
    pub erasure: ErasureMethod,
    /// The legal basis for keeping data despite an erasure request (exempt sources).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub legal_basis: String,
    #[serde(default)]
    pub backup: bool,
    #[serde(default)]
    pub marketing: bool,
    /// A recipient that must be told of rectification, erasure and restriction (Art. 19).
    #[serde(default)]
    pub recipient: bool,
    /// Some processing here rests on consent, so a withdrawal of consent reaches it.
    #[serde(default)]
    pub consent: bool,
    /// Some processing here rests on legitimate interests (Art. 6(1)(f)), so
    /// an objection under Art. 21(1) is weighed here.
    #[serde(default)]
    pub legitimate_interest: bool,
    /// The section of the privacy policy this entry comes from.
    pub policy: String,
}

/// What the privacy policy says beyond the sources, for the access report's
/// supplementary information (Art. 15(1)(h) and 15(2)).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    /// Automated decisions, including profiling (Art. 15(1)(h)).
    #[serde(default)]
    pub automated_decisions: String,
    /// Where data goes outside the EEA (Art. 15(2)).
    #[serde(default)]
    pub transfers: String,
    /// The safeguards for those transfers (Art. 46); empty when the policy
    /// names none (the report then says so and where to ask).
    #[serde(default)]
    pub transfer_safeguards: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Catalogue {
    #[serde(default)]
    pub policy: Policy,
    #[serde(rename = "source")]
    pub sources: Vec<Source>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("source catalogue {file}: {entry}: {why}")]
pub struct CatalogueError {
    pub file: String,
    /// The entry at fault, e.g. `source #3 (chatbot)`.
    pub entry: String,
    pub why: String,
}

impl Catalogue {
    pub fn builtin() -> Catalogue {
        Catalogue::parse("data/sources.toml", BUILTIN_CATALOGUE)
            .expect("the shipped catalogue is valid (tested)")
    }

    /// Parses and validates a catalogue; errors name the file and the entry.
    pub fn parse(file: &str, text: &str) -> Result<Catalogue, CatalogueError> {
        let err = |entry: String, why: String| CatalogueError {
            file: file.to_string(),
            entry,
            why,
        };
        let cat: Catalogue = toml::from_str(text).map_err(|e| {
            // toml's message names the line and the key; keep it on one line.
            let msg = e.message().to_string();
            let entry = e
                .span()
                .map(|s| {
                    format!(
                        "line {}",
                        text[..s.start.min(text.len())].lines().count().max(1)
                    )
                })
                .unwrap_or_else(|| "file".to_string());
            err(entry, msg)
        })?;
        if cat.sources.is_empty() {
            return Err(err("file".into(), "lists no sources".into()));
        }
        let mut seen = BTreeSet::new();
        // The line each `[[source]]` starts on, to name it in an error.
        let starts: Vec<usize> = text
            .lines()
            .enumerate()
            .filter(|(_, l)| l.trim() == "[[source]]")
            .map(|(n, _)| n + 1)
            .collect();
        for (i, s) in cat.sources.iter().enumerate() {
            let entry = format!(
                "{}source #{} ({})",
                starts
                    .get(i)
                    .map(|n| format!("line {n}, "))
                    .unwrap_or_default(),
                i + 1,
                if s.id.is_empty() { "no id" } else { &s.id }
            );
            let fail = |why: &str| Err(err(entry.clone(), why.to_string()));
            if s.id.is_empty()
                || !s
                    .id
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            {
                return fail("id must be lowercase letters, digits and '-'");
            }
            if !seen.insert(s.id.as_str()) {
                return fail("id is used twice");
            }
            if s.name.trim().is_empty() || s.systems.is_empty() || s.categories.is_empty() {
                return fail("name, systems and categories are required");
            }
            let needs_months = !matches!(
                s.retention.from,
                RetentionFrom::Overwrite
                    | RetentionFrom::ThirdPartyPolicy
                    | RetentionFrom::FollowsSource
            );
            if needs_months && s.retention.months.unwrap_or(0) == 0 {
                return fail("retention counted from a date needs a number of months");
            }
            if s.erasure == ErasureMethod::Exempt && s.legal_basis.trim().is_empty() {
                return fail("an exempt source must state its legal basis");
            }
            if s.backup != (s.erasure == ErasureMethod::BeyondUse) {
                return fail("backups, and only backups, are put beyond use");
            }
            if s.marketing && s.erasure != ErasureMethod::Suppression {
                return fail("a marketing channel is erased by suppression");
            }
        }
        Ok(cat)
    }

    pub fn get(&self, id: &str) -> Option<&Source> {
        self.sources.iter().find(|s| s.id == id)
    }

    pub fn ids(&self) -> Vec<&str> {
        self.sources.iter().map(|s| s.id.as_str()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_catalogue_covers_the_policy() {
        let c = Catalogue::builtin();
        for id in [
            "website-analytics",
            "web-forms",
            "chatbot",
            "correspondence",
            "customers",
            "meeting-recordings",
            "invoicing",
            "events",
            "marketing",
            "backups",
            "third-party-widgets",
        ] {
            assert!(c.get(id).is_some(), "missing {id}");
        }
        // Every system the policy names appears somewhere.
        let systems: String = c
            .sources
            .iter()
            .flat_map(|s| s.systems.iter())
            .cloned()
            .collect::<Vec<_>>()
            .join("|");
        for sys in [
            "HubSpot",
            "WordPress",
            "Gmail",
            "Drift",
            "Eventbrite",
            "Meetup",
            "Google Ads",
            "OneSignal",
            "Zoom",
            "GoToMeeting",
            "Hangouts",
            "SharePoint",
            "Azets",
            "Trello",
            "Atlassian",
            "Adobe",
            "Microsoft Office",
            "Disqus",
            "Twitter",
            "Facebook",
            "LinkedIn",
            "ShareThis",
            "CRM",
            "Amazon",
        ] {
            assert!(systems.contains(sys), "no source lists {sys}");
        }
        assert_eq!(c.get("chatbot").unwrap().retention.months, Some(72));
        assert_eq!(c.get("web-forms").unwrap().retention.months, Some(12));
        assert_eq!(
            c.get("events").unwrap().retention.from,
            RetentionFrom::LastEvent
        );
        assert!(c.get("backups").unwrap().backup);
        assert!(c.get("marketing").unwrap().marketing);
        assert_eq!(c.get("invoicing").unwrap().erasure, ErasureMethod::Exempt);
    }

    fn one(extra: &str) -> String {
        format!(
            "[[source]]\nid = \"crm\"\nname = \"CRM\"\nteam = \"Sales\"\nsystems = [\"CRM\"]\ncategories = [\"name\"]\npurposes = [\"x\"]\npolicy = \"3\"\n{extra}"
        )
    }

    #[test]
    fn a_bad_entry_is_named() {
        let e = Catalogue::parse(
            "s.toml",
            &one("erasure = \"exempt\"\nretention = { months = 12, from = \"collection\" }\n"),
        )
        .unwrap_err();
        assert_eq!(
            e.entry, "line 1, source #1 (crm)",
            "the line the entry starts on"
        );
        assert!(e.to_string().contains("legal basis"), "{e}");
        let e = Catalogue::parse(
            "s.toml",
            &one("erasure = \"manual\"\nretention = { from = \"collection\" }\n"),
        )
        .unwrap_err();
        assert!(e.why.contains("months"), "{e}");
        let e = Catalogue::parse(
            "s.toml",
            &one("erasure = \"shred\"\nretention = { months = 1, from = \"collection\" }\n"),
        )
        .unwrap_err();
        assert!(
            e.to_string().starts_with("source catalogue s.toml: line"),
            "{e}"
        );
        let twice = format!(
            "{}\n{}",
            one("erasure = \"manual\"\nretention = { months = 1, from = \"collection\" }\n"),
            one("erasure = \"manual\"\nretention = { months = 1, from = \"collection\" }\n")
        );
        assert!(Catalogue::parse("s.toml", &twice)
            .unwrap_err()
            .why
            .contains("twice"));
    }
}
