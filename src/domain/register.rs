//! What the desk keeps after data must go: the suppression list (do not
//! market) and backup exclusion marks (erase again after a restore). Both hold
//! keyed hashes only, never an address or a number.

use super::ids::CaseId;
use super::pseudonym::IdKind;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// Where a suppression came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum SuppressionOrigin {
    /// An objection or erasure case.
    Case { case: CaseId },
    /// An unsubscribed or cleaned row of a marketing tool's export.
    Import { source: String, status: String },
}

/// One identifier that must never receive direct marketing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Suppression {
    pub hash: String,
    pub id_kind: IdKind,
    pub added: NaiveDate,
    pub origin: SuppressionOrigin,
}

impl Suppression {
    pub fn case(&self) -> Option<CaseId> {
        match self.origin {
            SuppressionOrigin::Case { case } => Some(case),
            SuppressionOrigin::Import { .. } => None,
        }
    }
}

/// The status a marketing tool gives a contact who must not be sent to
/// (Mailchimp: unsubscribed, cleaned), folded; `None` for any other. The
/// lookup shows such a person DO NOT MARKET and the import puts the row's
/// identifiers on the suppression list: one rule for both.
pub fn marketing_stopped(status: Option<&str>) -> Option<String> {
    let s = status?.trim().to_ascii_lowercase();
    matches!(s.as_str(), "unsubscribed" | "cleaned").then_some(s)
}

/// The suppression entries of a marketing tool's row whose status stops
/// marketing (none for any other row).
pub fn suppression_of_row(
    pseudo: &super::pseudonym::Pseudonymiser,
    record: &super::record::SourceRecord,
    today: NaiveDate,
) -> Vec<Suppression> {
    let Some(status) = marketing_stopped(record.status.as_deref()) else {
        return Vec::new();
    };
    pseudo
        .all(&record.emails, &record.phones)
        .into_iter()
        .map(|(id_kind, hash)| Suppression {
            hash,
            id_kind,
            added: today,
            origin: SuppressionOrigin::Import {
                source: record.source.clone(),
                status: status.clone(),
            },
        })
        .collect()
}

/// A backup exclusion mark: a backup set that may hold an erased person, until
/// when, and the hashes a restore must be checked against.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackupMark {
    pub case: CaseId,
    /// The catalogue source (e.g. `backups`) and the set within it.
    pub source: String,
    pub set: String,
    pub marked_on: NaiveDate,
    /// When the set is overwritten and the mark can go (None: unknown, keep).
    pub expires: Option<NaiveDate>,
    /// A restore of this set must run `backups check` and erase again.
    pub re_erase_on_restore: bool,
    pub hashes: Vec<(IdKind, String)>,
}

impl BackupMark {
    /// The mark's key in the store: case then set, so a case's marks sit together.
    pub fn store_key(&self) -> Vec<u8> {
        let mut k = self.case.to_key().to_vec();
        k.extend_from_slice(self.source.as_bytes());
        k.push(0);
        k.extend_from_slice(self.set.as_bytes());
        k
    }
}

/// The day a backup set taken by `day` has certainly been overwritten.
pub fn overwrite_date(day: NaiveDate, months: Option<u32>) -> Option<NaiveDate> {
    months.and_then(|m| day.checked_add_months(chrono::Months::new(m)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_set_taken_today_is_gone_after_its_rotation() {
        let d = NaiveDate::from_ymd_opt(2026, 11, 30).unwrap();
        assert_eq!(
            overwrite_date(d, Some(3)),
            NaiveDate::from_ymd_opt(2027, 2, 28)
        );
        assert_eq!(overwrite_date(d, None), None);
    }
}
