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

fn delta_file(dir: &Path) -> PathBuf {
    dir.join("store").join("lookup.delta")
}

/// Which file is at the index's path, and when it was written: the same
/// pair after a start means the file was opened, not written again.
fn written(dir: &Path) -> (u64, i64) {
    let m = std::fs::symlink_metadata(index_file(dir)).expect("the index file");
    assert!(m.is_file());
    (m.ino(), m.mtime_nsec())
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
    let first_written = written(t.path());
    let meta = std::fs::symlink_metadata(index_file(t.path())).unwrap();
    assert_eq!(
        meta.permissions().mode() & 0o777,
        0o600,
        "private from birth"
    );
    drop(desk);

    let desk = common::desk(t.path());
    assert_eq!(names_found(&desk, "muller"), first);
    assert_eq!(
        written(t.path()),
        first_written,
        "the second start opened the file: it did not write it again"
    );
}

#[test]
fn records_changed_by_another_process_are_found_and_a_stale_file_is_not_trusted() {
    let t = tempfile::tempdir().unwrap();
    let desk = common::desk(t.path());
    import(&desk, "web-forms", "hubspot-contacts.csv");
    assert!(names_found(&desk, "kierkegaard").is_empty());
    let before = written(t.path());
    drop(desk);

    // A shell import: no index runs in that process; it lays a delta over
    // the file the desk wrote.
    let csv = fixture("eventbrite-attendees.csv");
    common::cli::ok(t.path(), &["import", "events", csv.to_str().unwrap()]);
    let delta = delta_file(t.path());
    assert!(delta.exists(), "the shell's import wrote a delta");
    let desk = common::desk(t.path());
    assert_eq!(names_found(&desk, "kierkegaard"), ["Søren Kierkegaard"]);
    assert_eq!(
        written(t.path()),
        before,
        "the whole file was not written again"
    );
    drop(desk);

    // Records changed with no delta to say how (an import killed after its
    // commit, before its delta): the files are of other records and are
    // written again, never used as they are.
    let csv = fixture("mailchimp-subscribed.csv");
    common::cli::ok(t.path(), &["import", "marketing", csv.to_str().unwrap()]);
    std::fs::remove_file(&delta).unwrap();
    let desk = common::desk(t.path());
    assert_eq!(names_found(&desk, "kierkegaard"), ["Søren Kierkegaard"]);
    assert_ne!(
        written(t.path()),
        before,
        "a new file took the old one's place"
    );
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
    // Its tables and maps ruined under an intact trailer (the trailer is
    // the last 232 bytes).
    let mut body = bytes.clone();
    let end = body.len() - rightsdesk::lookup::generation::TRAILER_LEN;
    body[end / 3..end].fill(0xff);
    // One table ruined, everything else intact: the records' subjects, the
    // subjects' records (sections 2 and 8, as the trailer places them).
    let section = |k: usize| {
        let at = end + 48 + k * 16;
        let n = |i: usize| u64::from_le_bytes(bytes[i..i + 8].try_into().unwrap()) as usize;
        (n(at), n(at) + n(at + 8))
    };
    let ruined = |k: usize| {
        let (a, b) = section(k);
        let mut v = bytes.clone();
        v[a..b].fill(0xff);
        v
    };
    for damaged in [
        // Every section alone: the records, their offsets and subjects,
        // the postings, the token map, the subjects' ids, flags and records.
        ruined(0),
        ruined(1),
        ruined(2),
        ruined(3),
        ruined(4),
        ruined(5),
        ruined(6),
        ruined(7),
        ruined(8),
        ruined(9),
        bytes[..bytes.len() / 2].to_vec(),
        bytes.iter().map(|b| b ^ 0x5a).collect::<Vec<u8>>(),
        Vec::new(),
        body,
    ] {
        std::fs::write(&path, &damaged).unwrap();
        let desk = common::desk(t.path());
        assert_eq!(names_found(&desk, "garcia"), ["Ana García"]);
        assert!(
            std::fs::read(&path).unwrap() == bytes,
            "refused and written whole again, as it was"
        );
    }
}

/// An index whose rewrite fails (here: a folder planted where its file
/// goes) answers no more: the lookup says why, never answers from records
/// as they were.
#[test]
fn an_index_that_cannot_be_written_again_stops_answering_and_says_why() {
    let t = tempfile::tempdir().unwrap();
    let desk = common::desk(t.path());
    import(&desk, "web-forms", "hubspot-contacts.csv");
    assert_eq!(names_found(&desk, "garcia"), ["Ana García"]);
    let path = index_file(t.path());
    std::fs::remove_file(&path).unwrap();
    std::fs::create_dir(&path).unwrap();
    // A split makes the index be written again.
    Operations::split_record(&desk, "web-forms".into(), "5102".into()).unwrap();
    desk.settle();
    let found = Operations::lookup(&desk, "garcia".into(), 10).unwrap();
    assert!(found.groups.is_empty(), "no answer from the old index");
    let why = Operations::index_state(&desk).unwrap().failed.unwrap();
    assert!(why.contains("lookup.idx"), "{why}");
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

#[test]
fn an_import_into_a_running_desk_is_found_at_once_through_a_delta() {
    let t = tempfile::tempdir().unwrap();
    let desk = common::desk(t.path());
    import(&desk, "web-forms", "hubspot-contacts.csv");
    assert_eq!(names_found(&desk, "muller"), ["Jürgen Müller"]);
    let whole = written(t.path());

    // Eventbrite holds Jürgen again (his e-mail) and Søren, new.
    import(&desk, "events", "eventbrite-attendees.csv");
    let found = Operations::lookup(&desk, "kierkegaard".into(), 10).unwrap();
    assert_eq!(
        found.groups.len(),
        1,
        "found as soon as the import returned"
    );
    let found = Operations::lookup(&desk, "muller".into(), 10).unwrap();
    assert_eq!(
        found.groups.len(),
        1,
        "one person across both files: {found:?}"
    );
    let sources: Vec<&str> = found.groups[0]
        .hits
        .iter()
        .map(|h| h.hit.source.as_str())
        .collect();
    assert!(
        sources.contains(&"web-forms") && sources.contains(&"events"),
        "{sources:?}"
    );
    let person = Operations::subject(&desk, found.groups[0].subject.clone())
        .unwrap()
        .expect("the person view opens");
    assert_eq!(person.records.len(), 2);
    assert_eq!(
        Operations::index_state(&desk).unwrap().builds,
        1,
        "the import did not write the whole index again"
    );
    assert!(delta_file(t.path()).exists());
    drop(desk);

    // The next start opens the whole file and the delta, writes neither.
    let desk = common::desk(t.path());
    assert_eq!(names_found(&desk, "kierkegaard").len(), 1);
    let found = Operations::lookup(&desk, "muller".into(), 10).unwrap();
    assert_eq!(found.groups.len(), 1);
    assert_eq!(found.groups[0].hits.len(), 2);
    assert_eq!(written(t.path()), whole);

    // A second import lays a new delta that keeps the first one's records.
    import(&desk, "marketing", "mailchimp-subscribed.csv");
    assert_eq!(names_found(&desk, "kierkegaard").len(), 1);
    assert_eq!(Operations::index_state(&desk).unwrap().builds, 1);
}

#[test]
fn a_fifo_where_the_index_goes_never_holds_the_lookup_up() {
    let t = tempfile::tempdir().unwrap();
    let desk = common::desk(t.path());
    import(&desk, "web-forms", "hubspot-contacts.csv");
    assert_eq!(names_found(&desk, "garcia"), ["Ana García"]);
    drop(desk);
    let fifo = |p: &Path| {
        let c = std::ffi::CString::new(p.as_os_str().as_encoded_bytes()).unwrap();
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    };
    // In the delta's place, with the whole file stale: the lookup reads on.
    let csv = fixture("eventbrite-attendees.csv");
    common::cli::ok(t.path(), &["import", "events", csv.to_str().unwrap()]);
    let delta = delta_file(t.path());
    std::fs::remove_file(&delta).unwrap();
    fifo(&delta);
    let desk = common::desk(t.path());
    assert_eq!(names_found(&desk, "kierkegaard"), ["Søren Kierkegaard"]);
    drop(desk);
    // In the whole file's place: refused, and said so.
    std::fs::remove_file(index_file(t.path())).unwrap();
    fifo(&index_file(t.path()));
    let desk = common::desk(t.path());
    assert!(names_found(&desk, "garcia").is_empty());
    let why = Operations::index_state(&desk).unwrap().failed.unwrap();
    assert!(why.contains("lookup.idx"), "{why}");
}

/// What a lookup shows through a delta is what a freshly written index
/// shows: the same people, in the same order (ties included, which decide
/// who is shown under a limit).
#[test]
fn a_delta_shows_what_a_fresh_index_shows_in_the_same_order() {
    let t = tempfile::tempdir().unwrap();
    let csv = t.path().join("contacts.csv");
    let write = |rows: &str| {
        std::fs::write(
            &csv,
            format!("\"Record ID\",\"First Name\",\"Last Name\",\"Email\"\n{rows}"),
        )
        .unwrap()
    };
    let data = t.path().join("desk");
    let desk = common::desk(&data);
    write("\"C-1\",\"Sam\",\"Smith\",\"sam1@example.ie\"\n\"C-2\",\"Sam\",\"Smith\",\"sam2@example.ie\"\n\"C-3\",\"Sam\",\"Smith\",\"sam3@example.ie\"\n\"C-4\",\"Ann\",\"Lee\",\"ann@example.ie\"\n");
    desk.import("web-forms", &csv, &Default::default(), &mut |_, _| {})
        .unwrap();
    names_found(&desk, "smith");
    // C-1 changes its address; C-4 now shares C-3's (one person, linked).
    write("\"C-1\",\"Sam\",\"Smith\",\"sam.smith@example.ie\"\n\"C-4\",\"Ann\",\"Lee\",\"sam3@example.ie\"\n");
    desk.import("web-forms", &csv, &Default::default(), &mut |_, _| {})
        .unwrap();
    assert!(delta_file(&data).exists());
    let shown = |desk: &Desk, q: &str, limit: usize| -> Vec<Vec<String>> {
        Operations::lookup(desk, q.into(), limit)
            .unwrap()
            .groups
            .iter()
            .map(|g| g.hits.iter().map(|h| h.hit.record.clone()).collect())
            .collect()
    };
    let queries = [("sam smith", 2), ("smith", 10), ("sam3", 10), ("lee", 10)];
    let through_delta: Vec<_> = queries.iter().map(|(q, n)| shown(&desk, q, *n)).collect();
    drop(desk);
    std::fs::remove_file(index_file(&data)).unwrap();
    std::fs::remove_file(delta_file(&data)).unwrap();
    let desk = common::desk(&data);
    names_found(&desk, "smith");
    let fresh: Vec<_> = queries.iter().map(|(q, n)| shown(&desk, q, *n)).collect();
    assert_eq!(through_delta, fresh);
    assert_eq!(fresh[0].len(), 2, "a limit cuts the ties");
}

#[test]
fn records_that_cannot_be_read_stop_the_index_instead_of_a_silent_no_match() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    let hubspot = fixture("hubspot-contacts.csv");
    common::cli::ok(d, &["import", "web-forms", hubspot.to_str().unwrap()]);
    // A block of records damaged on disk (or written by a desk whose
    // blocks this one cannot read).
    {
        let db = sled::Config::new().path(d.join("store")).open().unwrap();
        let blocks = db.open_tree("record-blocks").unwrap();
        let (at, block) = blocks.iter().next().unwrap().unwrap();
        let mut bytes = block.to_vec();
        bytes[0] ^= 0xFF;
        blocks.insert(at, bytes).unwrap();
        db.flush().unwrap();
    }
    let out = common::cli::run(d, &["lookup", "mueller"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_ne!(out.status.code(), Some(0), "{err}");
    assert!(err.contains("cannot be read"), "{err}");
    assert!(
        !String::from_utf8_lossy(&out.stdout).contains("no match"),
        "never a 'no match' from an index that lacks records"
    );
    assert!(!index_file(d).exists(), "no index file put in place");
}
