//! The lookup index lives in a file beside the store: written once, opened
//! (not rebuilt) at every later start, written again whenever the records it
//! was made from have changed — also by another process — and never trusted
//! when damaged or replaced by something that is not the desk's.

mod common;

use rightsdesk::service::ops::Operations;
use rightsdesk::service::Desk;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/import")
        .join(name)
}

fn index_file(dir: &Path) -> PathBuf {
    dir.join("store").join("lookup.idx")
}

fn import(desk: &Desk, source: &str, name: &str) {
    desk.import(source, &fixture(name), &Default::default(), &mut |_, _| {})
        .unwrap_or_else(|e| panic!("{name}: {e}"));
}

/// The names found for `q` once the index is in place (the first lookup
/// of a desk starts it; `settle` waits for it).
fn names_found(desk: &Desk, q: &str) -> Vec<String> {
    Operations::lookup(desk, q.into(), 10).unwrap();
    desk.settle();
    let found = Operations::lookup(desk, q.into(), 10).unwrap();
    found
        .groups
        .iter()
        .flat_map(|g| g.hits.iter().map(|h| h.hit.name.clone()))
        .collect()
}

#[test]
fn the_index_is_written_once_and_opened_at_every_later_start() {
    let t = tempfile::tempdir().unwrap();
    let desk = common::desk(t.path());
    import(&desk, "web-forms", "hubspot-contacts.csv");
    let first = names_found(&desk, "muller");
    assert_eq!(first, ["Jürgen Müller"]);
    let meta = std::fs::symlink_metadata(index_file(t.path())).expect("written");
    assert!(meta.is_file());
    assert_eq!(
        meta.permissions().mode() & 0o777,
        0o600,
        "private from birth"
    );
    drop(desk);

    let desk = common::desk(t.path());
    assert_eq!(names_found(&desk, "muller"), first);
    let again = std::fs::symlink_metadata(index_file(t.path())).unwrap();
    assert_eq!(
        (again.ino(), again.mtime_nsec()),
        (meta.ino(), meta.mtime_nsec()),
        "the second start opened the file: it did not write it again"
    );
}

#[test]
fn records_changed_by_another_process_make_the_index_be_written_again() {
    let t = tempfile::tempdir().unwrap();
    let desk = common::desk(t.path());
    import(&desk, "web-forms", "hubspot-contacts.csv");
    assert!(names_found(&desk, "kierkegaard").is_empty());
    let before = std::fs::metadata(index_file(t.path())).unwrap().ino();
    drop(desk);

    // A shell import: no index runs in that process.
    common::cli::ok(
        t.path(),
        &[
            "import",
            "events",
            fixture("eventbrite-attendees.csv").to_str().unwrap(),
        ],
    );
    let desk = common::desk(t.path());
    let found = names_found(&desk, "kierkegaard");
    assert!(
        found.iter().any(|n| n.contains("Kierkegaard")),
        "the new rows are found: {found:?}"
    );
    let after = std::fs::metadata(index_file(t.path())).unwrap().ino();
    assert_ne!(before, after, "a new file took the old one's place");
}

#[test]
fn a_damaged_index_file_is_written_again_not_trusted() {
    let t = tempfile::tempdir().unwrap();
    let desk = common::desk(t.path());
    import(&desk, "web-forms", "hubspot-contacts.csv");
    assert_eq!(names_found(&desk, "garcia"), ["Ana García"]);
    drop(desk);
    let path = index_file(t.path());
    let bytes = std::fs::read(&path).unwrap();
    for damaged in [
        bytes[..bytes.len() / 2].to_vec(),
        bytes.iter().map(|b| b ^ 0x5a).collect::<Vec<u8>>(),
        Vec::new(),
    ] {
        std::fs::write(&path, &damaged).unwrap();
        let desk = common::desk(t.path());
        assert_eq!(names_found(&desk, "garcia"), ["Ana García"]);
        assert_eq!(
            std::fs::read(&path).unwrap().len(),
            bytes.len(),
            "written whole again"
        );
    }
}

#[test]
fn a_symlink_where_the_index_goes_is_never_followed() {
    let t = tempfile::tempdir().unwrap();
    let outside = t.path().join("not-the-desks.txt");
    std::fs::write(&outside, "someone else's file\n").unwrap();
    let data = t.path().join("desk");
    let desk = common::desk(&data);
    import(&desk, "web-forms", "hubspot-contacts.csv");
    drop(desk);
    std::os::unix::fs::symlink(&outside, index_file(&data)).unwrap();

    let desk = common::desk(&data);
    assert!(names_found(&desk, "garcia").is_empty(), "no index to trust");
    let state = Operations::index_state(&desk).unwrap();
    let why = state.failed.expect("the lookup says why it has no index");
    assert!(why.contains("lookup.idx"), "{why}");
    assert_eq!(
        std::fs::read_to_string(&outside).unwrap(),
        "someone else's file\n",
        "the link's target is untouched"
    );
    assert!(std::fs::symlink_metadata(index_file(&data))
        .unwrap()
        .file_type()
        .is_symlink());
}
