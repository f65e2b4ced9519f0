//! The rights a data subject can exercise (GDPR Art. 15–21 and 7(3)).

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Right {
    Access,
    Rectification,
    Erasure,
    Restriction,
    Portability,
    Objection,
    /// Objection to processing on legitimate interests (Art. 21(1)): weighed
    /// per source against compelling legitimate grounds.
    #[serde(rename = "objection-legitimate-interests")]
    ObjectionLegitimate,
    WithdrawConsent,
}

impl Right {
    pub const ALL: [Right; 8] = [
        Right::Access,
        Right::Rectification,
        Right::Erasure,
        Right::Restriction,
        Right::Portability,
        Right::Objection,
        Right::ObjectionLegitimate,
        Right::WithdrawConsent,
    ];

    /// The name used on the command line and in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Right::Access => "access",
            Right::Rectification => "rectification",
            Right::Erasure => "erasure",
            Right::Restriction => "restriction",
            Right::Portability => "portability",
            Right::Objection => "objection",
            Right::ObjectionLegitimate => "objection-legitimate-interests",
            Right::WithdrawConsent => "withdraw-consent",
        }
    }

    /// The article of the GDPR that grants the right.
    pub fn article(self) -> &'static str {
        match self {
            Right::Access => "Art. 15",
            Right::Rectification => "Art. 16",
            Right::Erasure => "Art. 17",
            Right::Restriction => "Art. 18",
            Right::Portability => "Art. 20",
            Right::Objection => "Art. 21(2)-(3)",
            Right::ObjectionLegitimate => "Art. 21(1)",
            Right::WithdrawConsent => "Art. 7(3)",
        }
    }

    /// What the person asked for, in words for a letter.
    pub fn words(self) -> &'static str {
        match self {
            Right::Access => "a copy of your data",
            Right::Rectification => "the correction of your data",
            Right::Erasure => "the erasure of your data",
            Right::Restriction => "a restriction on the use of your data",
            Right::Portability => "your data in a form you can take elsewhere",
            Right::Objection => "an end to direct marketing",
            Right::ObjectionLegitimate => {
                "an end to processing your data on our legitimate interests"
            }
            Right::WithdrawConsent => "the withdrawal of your consent",
        }
    }

    /// A three-letter code for narrow tables.
    pub fn code(self) -> &'static str {
        match self {
            Right::Access => "ACC",
            Right::Rectification => "REC",
            Right::Erasure => "ERA",
            Right::Restriction => "RES",
            Right::Portability => "POR",
            Right::Objection => "OBJ",
            Right::ObjectionLegitimate => "OLI",
            Right::WithdrawConsent => "WDC",
        }
    }

    /// The default per-source action a task for this right asks for.
    pub fn default_action(self) -> &'static str {
        match self {
            Right::Access => "search and collect",
            Right::Rectification => "correct",
            Right::Erasure => "erase",
            Right::Restriction => "mark restricted",
            Right::Portability => "export machine-readable copy",
            Right::Objection => "stop direct marketing",
            Right::ObjectionLegitimate => super::task_action::ACTION_WEIGH,
            Right::WithdrawConsent => "stop consent-based processing",
        }
    }
}

impl fmt::Display for Right {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Right {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Right::ALL
            .into_iter()
            .find(|r| r.as_str() == s.trim().to_ascii_lowercase())
            .ok_or_else(|| {
                let names: Vec<_> = Right::ALL.iter().map(|r| r.as_str()).collect();
                format!("unknown right '{s}' (one of: {})", names.join(", "))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_right_round_trips_by_name() {
        for r in Right::ALL {
            assert_eq!(r.as_str().parse::<Right>().unwrap(), r);
            let json = serde_json::to_string(&r).unwrap();
            assert_eq!(json, format!("\"{}\"", r.as_str()));
        }
    }

    #[test]
    fn unknown_right_lists_the_choices() {
        let e = "forget-me".parse::<Right>().unwrap_err();
        assert!(e.contains("withdraw-consent"), "{e}");
    }
}
