//! A Zoom recording's topic names a guest the export lists nowhere else
//! ("Discovery call – Jürgen Müller (Müller Logistik GmbH)"): the lookup
//! finds the recording by that name, accents optional, and flags it as
//! mentioning the person rather than being a record of theirs.

mod common;

use common::cli::{json, ok};
use std::path::PathBuf;

fn fixture(name: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/import")
        .join(name)
        .display()
        .to_string()
}

/// Every hit of a lookup (`--json` lists hits, best first).
fn hits(d: &std::path::Path, query: &str) -> Vec<serde_json::Value> {
    json(d, &["lookup", query, "--json"])
        .as_array()
        .unwrap()
        .clone()
}

#[test]
fn names_in_a_recordings_topic_are_found_and_flagged_as_a_mention() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path().join("data");
    ok(
        &d,
        &[
            "import",
            "meeting-recordings",
            &fixture("zoom-discovery-calls.json"),
        ],
    );

    let found = hits(&d, "muller");
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0]["record"], "qW3rT5yU7iO9pA1sD2fG4h==");
    assert_eq!(
        found[0]["mentions"],
        "Discovery call – Jürgen Müller (Müller Logistik GmbH)"
    );
    // The host's own address is the record's; the guest is only mentioned.
    assert_eq!(found[0]["emails"][0], "sales@brightway.example");

    // Both words, folded; and the other guest by her surname.
    assert_eq!(hits(&d, "jurgen muller").len(), 1);
    let sinead = hits(&d, "ni bhriain");
    assert_eq!(sinead.len(), 1, "{sinead:?}");
    assert!(sinead[0]["mentions"]
        .as_str()
        .unwrap()
        .contains("Sinéad Ní Bhriain"));

    // Scattered letters of a long title are no mention of anyone.
    assert!(hits(&d, "dcm").is_empty());
    // The host found by their own address is no mention.
    let host = hits(&d, "sales@brightway.example");
    assert_eq!(host.len(), 2, "{host:?}");
    assert!(host.iter().all(|h| h.get("mentions").is_none()), "{host:?}");

    // The shell says it in words.
    let said = ok(&d, &["lookup", "muller"]);
    assert!(
        said.contains(
            "MENTIONS (found in its title, not a record of theirs): Discovery call – Jürgen Müller"
        ),
        "{said}"
    );
}
