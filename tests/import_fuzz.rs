//! Importers never panic: arbitrary bytes, and every fixture with random bytes
//! inserted, deleted or replaced, either import (every record keyed) or are
//! refused with an error that names the file.

use proptest::prelude::*;
use rightsdesk::import::{parse, Format};
use std::path::Path;

fn fixtures() -> Vec<(String, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/import");
    let mut out = Vec::new();
    for e in std::fs::read_dir(&dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_file() {
            out.push((
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read(&p).unwrap(),
            ));
        }
    }
    out.sort();
    out
}

#[derive(Debug, Clone)]
enum Edit {
    Insert(usize, u8),
    Delete(usize),
    Replace(usize, u8),
}

fn edit() -> impl Strategy<Value = Edit> {
    let byte = prop_oneof![
        any::<u8>(),
        Just(b'"'),
        Just(b','),
        Just(b'\n'),
        Just(b'\r'),
        Just(b';'),
        Just(0u8),
        Just(0xC3u8),
        Just(b'{'),
        Just(b':')
    ];
    prop_oneof![
        (any::<usize>(), byte.clone()).prop_map(|(i, b)| Edit::Insert(i, b)),
        any::<usize>().prop_map(Edit::Delete),
        (any::<usize>(), byte).prop_map(|(i, b)| Edit::Replace(i, b)),
    ]
}

fn check(name: &str, bytes: &[u8], format: Option<Format>) {
    match parse(name, bytes, "web-forms", format, None) {
        Ok((_, records)) => {
            for r in records {
                let _ = rightsdesk::domain::text::inert(r.display_name());
                assert!(
                    !r.key.is_empty() || r.format == "json",
                    "{name}: a record without a key"
                );
            }
        }
        Err(e) => assert!(
            e.to_string().starts_with(name),
            "{name}: the error names the file: {e}"
        ),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048), f in proptest::option::of(0usize..7)) {
        let format = f.map(|i| Format::ALL[i]);
        check("random.bin", &bytes, format);
    }

    #[test]
    fn mutated_fixtures_never_panic(which in any::<prop::sample::Index>(), edits in proptest::collection::vec(edit(), 1..12)) {
        let all = fixtures();
        let (name, mut bytes) = all[which.index(all.len())].clone();
        for e in edits {
            let n = bytes.len().max(1);
            match e {
                Edit::Insert(i, b) => bytes.insert(i % (bytes.len() + 1), b),
                Edit::Delete(i) if !bytes.is_empty() => { bytes.remove(i % n); }
                Edit::Replace(i, b) if !bytes.is_empty() => bytes[i % n] = b,
                _ => {}
            }
        }
        check(&name, &bytes, None);
    }
}
