//! A real mailbox is read whatever its charsets: bodies in ISO-8859-1 or
//! Windows-1252 never refuse it, encoded names in any charset are decoded,
//! an undeclared 8-bit header is read as Windows-1252, and a message that
//! cannot be read is left out and named by its line while the rest land.

mod common;

use common::cli::{json, ok};

/// A mailbox as Takeout writes one, with the charsets real mail carries.
fn mailbox() -> Vec<u8> {
    let mut m: Vec<u8> = Vec::new();
    let mut msg = |headers: &[u8], body: &[u8]| {
        m.extend_from_slice(b"From 1234@xxx Mon Nov 02 10:00:00 +0000 2026\r\n");
        m.extend_from_slice(headers);
        m.extend_from_slice(b"\r\n");
        m.extend_from_slice(body);
        m.extend_from_slice(b"\r\n\r\n");
    };
    // An 8-bit ISO-8859-1 body, declared: never a reason to refuse.
    msg(
        b"From: =?ISO-8859-2?Q?=A3ukasz_Wr=F3bel?= <lukasz@example.pl>\r\nTo: privacy@infotrode.site\r\nSubject: Zapytanie\r\nContent-Type: text/plain; charset=\"iso-8859-1\"\r\nContent-Transfer-Encoding: 8bit\r\nMessage-ID: <a1@example.pl>\r\n",
        b"Gr\xfc\xdfe aus M\xfcnchen \xe0 bient\xf4t",
    );
    // Windows-1252 quotes and euro in the body; KOI8-R encoded name.
    msg(
        b"From: =?KOI8-R?B?5M3J1NLJyiDp18HOz9c=?= <dmitry@example.bg>\r\nTo: privacy@infotrode.site\r\nContent-Type: text/plain; charset=windows-1252\r\nMessage-ID: <a2@example.bg>\r\n",
        b"It\x92s \x80 10 \x96 quick question",
    );
    // Windows-1250 encoded name.
    msg(
        b"From: =?windows-1250?Q?Tom=E1=9A_Dvo=F8=E1k?= <tomas@example.cz>\r\nMessage-ID: <a3@example.cz>\r\n",
        b"Dobr\xfd den",
    );
    // An undeclared 8-bit header from an old mailer (Windows-1252).
    msg(
        b"From: Ren\xe9 Dupont <rene@example.fr>\r\nMessage-ID: <a4@example.fr>\r\n",
        b"Bonjour",
    );
    // A message whose headers cannot be read: left out, named by its line.
    msg(
        b"From: broken@example.com\r\nthis is not a header\r\nMessage-ID: <a5@example.com>\r\n",
        b"...",
    );
    m
}

#[test]
fn a_mailbox_in_every_charset_lands_and_names_what_it_left_out() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path().join("data");
    let file = t.path().join("takeout-mail.mbox");
    std::fs::write(&file, mailbox()).unwrap();
    let said = ok(&d, &["import", "correspondence", file.to_str().unwrap()]);
    assert!(said.contains("(mbox, per message)"), "{said}");
    assert!(
        said.contains(
            "1 message(s) could not be read and were left out: line 33: a header line without ':'"
        ),
        "{said}"
    );
    let report = json(
        &d,
        &["import", "correspondence", file.to_str().unwrap(), "--json"],
    );
    assert_eq!(
        report["skipped"][0]["line"], 31,
        "the message starts there: {report}"
    );
    for (query, name) in [
        ("lukasz", "Łukasz Wróbel"),
        ("dmitry", "Дмитрий Иванов"),
        ("tomas", "Tomáš Dvořák"),
        ("rene", "René Dupont"),
    ] {
        let hits = json(&d, &["lookup", query, "--json"]);
        let shown = hits.to_string();
        assert!(shown.contains(name), "{query}: {shown}");
    }
    let hits = json(&d, &["lookup", "broken@example.com", "--json"]);
    assert_eq!(hits.as_array().map(Vec::len), Some(0), "{hits}");
}
