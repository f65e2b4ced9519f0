//! Source records: one row of one system's export, kept with its identifiers.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceRecord {
    /// The catalogue source the export came from.
    pub source: String,
    /// The record's key in that system (HubSpot Record ID, Message-ID, …).
    pub key: String,
    pub names: Vec<String>,
    /// As written in the export.
    pub emails: Vec<String>,
    pub phones: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub company: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_activity: Option<NaiveDate>,
    /// A status the system gave the row (Mailchimp: subscribed, unsubscribed, cleaned).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// Titles and topics that may name a person without being theirs (a
    /// Zoom recording's topic): searched by the lookup, which then flags the
    /// record as mentioning the person; never used to link records.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mentions: Vec<String>,
    /// Every column of the row, for access packages.
    pub raw: Vec<(String, String)>,
    /// The export format and line the row came from.
    pub format: String,
    pub line: u64,
}

impl SourceRecord {
    /// The store key: source and system key, so a re-import updates in place.
    pub fn store_key(&self) -> Vec<u8> {
        let mut k = self.source.as_bytes().to_vec();
        k.push(0);
        k.extend_from_slice(self.key.as_bytes());
        k
    }

    /// The name to show: the first name given, else the first e-mail.
    pub fn display_name(&self) -> &str {
        self.names
            .first()
            .or(self.emails.first())
            .map(String::as_str)
            .unwrap_or("")
    }
}
