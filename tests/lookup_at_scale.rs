//! The lookup above the size where every record is scored (20,000): the
//! candidates come from word prefixes in the index's file, and must still
//! find everyone a person would expect — a common first name with a rare
//! surname, both names common, an e-mail's beginning, a phone's last digits.

use rightsdesk::domain::fold::folded;
use rightsdesk::lookup::{matcher, Index, FULL_SCAN_LIMIT};

fn index() -> (Index, Vec<rightsdesk::domain::record::SourceRecord>) {
    let mut csv = Vec::new();
    rightsdesk::service::synth::write_hubspot(&mut csv, 30_000, 11).unwrap();
    let planted = [
        "\"P-1\",\"David\",\"Zyxwell\",\"dz@planted.ie\",\"+353 87 123 4567\",\"Acme\",\"2025-01-02\"",
        "\"P-2\",\"David\",\"Zyxwell-Byrne\",\"david.zyxwell@planted.ie\",\"\",\"Acme\",\"2025-01-02\"",
        "\"P-3\",\"Aoife\",\"Zyxwell\",\"aoife.nibhriain@planted.ie\",\"\",\"\",\"2025-01-02\"",
    ];
    for p in planted {
        csv.extend_from_slice(p.as_bytes());
        csv.push(b'\n');
    }
    let (_, records) =
        rightsdesk::import::parse("scale.csv", &csv, "web-forms", None, None).unwrap();
    assert!(records.len() > FULL_SCAN_LIMIT);
    let index = Index::build(
        records.clone(),
        &Default::default(),
        &Default::default(),
        "353",
    );
    (index, records)
}

fn keys(index: &Index, q: &str, limit: usize) -> Vec<String> {
    let mut k: Vec<String> = index
        .lookup(&matcher(), q, limit)
        .into_iter()
        .flat_map(|g| g.hits.into_iter().map(|h| h.record))
        .collect();
    k.sort();
    k
}

#[test]
fn a_large_index_finds_what_a_person_expects() {
    let (index, records) = index();
    assert_eq!(keys(&index, "david zyxw", 50), ["P-1", "P-2"]);
    assert_eq!(keys(&index, "zyxwell", 50), ["P-1", "P-2", "P-3"]);
    assert_eq!(keys(&index, "aoife.nibh", 50), ["P-3"]);
    assert!(keys(&index, "4567", 50).contains(&"P-1".to_string()));
    assert_eq!(keys(&index, "087 123 4567", 50), ["P-1"]);

    // Both names common: every record bearing both is found (none cut off
    // by a cap on either name's records).
    let both: Vec<String> = {
        let mut v: Vec<String> = records
            .iter()
            .filter(|r| {
                r.names.iter().any(|n| {
                    let words: Vec<String> = folded(n)
                        .split(|c: char| !c.is_alphanumeric())
                        .map(str::to_string)
                        .collect();
                    words.iter().any(|w| w == "david") && words.iter().any(|w| w == "brennan")
                })
            })
            .map(|r| r.key.clone())
            .collect();
        v.sort();
        v
    };
    assert!(both.len() >= 3, "the corpus has several: {}", both.len());
    let found = keys(&index, "david brennan", 500);
    for k in &both {
        assert!(found.contains(k), "{k} missing from {found:?}");
    }
}
