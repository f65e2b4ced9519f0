//! The inbox of requests: mailboxes of every shape, requests in many
//! languages, form notifications, replies and business mail; intake from a
//! message, once.

mod common;

use common::cli::{json, ok, private_dir, run as rightsdesk};
use rightsdesk::domain::request_words::{PhraseTable, Reading};
use rightsdesk::domain::{Right, Settings};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/inbox")
}

#[derive(serde::Deserialize)]
struct Label {
    kind: String,
    #[serde(default)]
    rights: Vec<Right>,
    #[serde(default)]
    case: Option<String>,
}

fn labels(set: &str) -> BTreeMap<String, Label> {
    let text = std::fs::read_to_string(fixtures().join(set).join("labels.toml")).unwrap();
    toml::from_str(&text).unwrap()
}

/// Every message of a mailbox, by file name (an mbox's by its place).
fn readings(path: &Path) -> BTreeMap<String, rightsdesk::inbox::Mail> {
    let table = PhraseTable::shipped_and(None).unwrap();
    let mut out = BTreeMap::new();
    let skipped = rightsdesk::inbox::read(path, &table, &Settings::default(), &mut |m| {
        let name =
            m.at.file
                .file_name()
                .unwrap()
                .to_string_lossy()
                .into_owned();
        let key = if m.at.index > 0 || name.ends_with(".mbox") {
            format!("{name}#{}", m.at.index)
        } else {
            name
        };
        out.insert(key, m);
    })
    .unwrap();
    assert!(skipped.is_empty(), "{skipped:?}");
    out
}

fn kind(r: &Reading) -> &'static str {
    match r {
        Reading::Request { .. } => "request",
        Reading::Reply { .. } => "reply",
        Reading::Other { .. } => "other",
    }
}

struct Figures {
    precision: f64,
    recall: f64,
    rights_precision: f64,
    rights_recall: f64,
    replies: (usize, usize),
    wrong: Vec<String>,
}

/// Precision and recall of request detection on a labelled set, and of the
/// rights named on the requests found.
fn figures(set: &str) -> Figures {
    let labels = labels(set);
    let read = readings(&fixtures().join(set).join("eml"));
    assert_eq!(read.len(), labels.len(), "every labelled message is read");
    let (mut tp, mut fp, mut fn_) = (0usize, 0usize, 0usize);
    let (mut rtp, mut rfp, mut rfn) = (0usize, 0usize, 0usize);
    let mut replies = (0, 0);
    let mut wrong = Vec::new();
    for (file, label) in &labels {
        let m = &read[file];
        let got = kind(&m.reading);
        match (label.kind.as_str(), got) {
            ("request", "request") => tp += 1,
            ("request", _) => fn_ += 1,
            (_, "request") => fp += 1,
            _ => {}
        }
        if label.kind == "reply" {
            replies.1 += 1;
            if let Reading::Reply { case } = &m.reading {
                if Some(case.to_string()) == label.case {
                    replies.0 += 1;
                }
            }
        }
        if label.kind != got {
            wrong.push(format!("{file}: {} read as {got}", label.kind));
        }
        if let (Reading::Request { rights, .. }, "request") = (&m.reading, label.kind.as_str()) {
            let want: BTreeSet<_> = label.rights.iter().collect();
            let have: BTreeSet<_> = rights.iter().collect();
            rtp += want.intersection(&have).count();
            rfp += have.difference(&want).count();
            rfn += want.difference(&have).count();
            if want != have {
                wrong.push(format!("{file}: rights {want:?} read as {have:?}"));
            }
        }
    }
    let ratio = |a: usize, b: usize| a as f64 / (a + b).max(1) as f64;
    Figures {
        precision: ratio(tp, fp),
        recall: ratio(tp, fn_),
        rights_precision: ratio(rtp, rfp),
        rights_recall: ratio(rtp, rfn),
        replies,
        wrong,
    }
}

#[test]
fn precision_and_recall_of_request_detection() {
    for (set, floor) in [("corpus", 0.95), ("heldout", 0.8)] {
        let f = figures(set);
        eprintln!(
            "{set}: requests precision {:.2} recall {:.2}; rights precision {:.2} recall {:.2}; replies {}/{}",
            f.precision, f.recall, f.rights_precision, f.rights_recall, f.replies.0, f.replies.1
        );
        for w in &f.wrong {
            eprintln!("  {w}");
        }
        assert!(f.precision >= floor && f.recall >= floor, "{set}");
        assert_eq!(
            f.replies.0, f.replies.1,
            "{set}: every reply is under its case"
        );
    }
}

#[test]
fn an_mbox_and_a_maildir_read_as_the_messages_they_hold() {
    let corpus = fixtures().join("corpus");
    let eml = readings(&corpus.join("eml"));
    #[derive(serde::Deserialize)]
    struct Containers {
        mbox: BTreeMap<String, String>,
        maildir: BTreeMap<String, String>,
    }
    let c: Containers =
        toml::from_str(&std::fs::read_to_string(corpus.join("containers.toml")).unwrap()).unwrap();
    let mbox = readings(&corpus.join("takeout.mbox"));
    assert_eq!(mbox.len(), c.mbox.len());
    for (index, file) in &c.mbox {
        let m = &mbox[&format!("takeout.mbox#{index}")];
        assert_eq!(m.reading, eml[file].reading, "{file}");
        assert_eq!(m.message_id, eml[file].message_id);
        assert_eq!(m.subject, eml[file].subject);
    }
    let maildir = readings(&corpus.join("Maildir"));
    assert_eq!(maildir.len(), c.maildir.len());
    for (name, file) in &c.maildir {
        let base = Path::new(name)
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        let m = &maildir[&base];
        assert_eq!(m.reading, eml[file].reading, "{file}");
        assert_eq!(m.from, eml[file].from);
    }
}

#[test]
fn a_form_notification_is_from_the_person_in_reply_to() {
    let read = readings(&fixtures().join("corpus/eml/form-erasure-1.eml"));
    let m = read.values().next().unwrap();
    assert_eq!(m.from.address, "wordpress@infotrode.example");
    assert_eq!(m.person().address, "jan.nowak@example.pl");
    assert_eq!(m.person().name, "Jan Nowak");
    let new = m.intake(chrono::NaiveDate::from_ymd_opt(2026, 12, 1).unwrap());
    assert_eq!(new.subject.emails, ["jan.nowak@example.pl"]);
    assert_eq!(new.rights, [Right::Erasure]);
}

fn late_night() -> PathBuf {
    fixtures().join("corpus/eml/en-access-late-night.eml")
}

fn open_from(dir: &Path, mailbox: &Path, id: &str) -> std::process::Output {
    rightsdesk(
        dir,
        &[
            "case",
            "open",
            "--from-message",
            mailbox.to_str().unwrap(),
            "--message-id",
            id,
            "--json",
        ],
    )
}

#[test]
fn a_case_opened_from_a_message_is_received_on_the_organisations_day_and_only_once() {
    // Sent 23:30 on 31 March 2026 in UTC−5: 04:30 UTC on 1 April, 05:30 in
    // Dublin (summer time began on 29 March).
    let tmp = private_dir();
    let dir = tmp.path().join("data");
    let out = open_from(&dir, &late_night(), "<late-night-1@example.ie>");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let case: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(case["received"], "2026-04-01");
    assert_eq!(case["channel"], "email");
    assert_eq!(case["rights"], serde_json::json!(["access"]));
    assert_eq!(case["subject"]["name"], "Aoife Byrne");
    assert_eq!(
        case["subject"]["emails"],
        serde_json::json!(["aoife.byrne@example.ie"])
    );

    // The same message again, from another mailbox holding it: refused.
    let again = open_from(
        &dir,
        &fixtures().join("corpus/takeout.mbox"),
        "late-night-1@example.ie",
    );
    assert_eq!(again.status.code(), Some(3));
    let why = String::from_utf8_lossy(&again.stderr);
    assert!(why.contains("already case"), "{why}");

    // The inbox marks it as opened.
    let inbox = json(&dir, &["inbox", late_night().to_str().unwrap(), "--json"]);
    assert_eq!(inbox["requests"][0]["case"], case["id"]);

    // In London it is the same day; in the sender's own zone (Bogotá,
    // UTC−5 all year), the 31st.
    for (zone, day) in [
        ("Europe/London", "2026-04-01"),
        ("America/Bogota", "2026-03-31"),
    ] {
        let tmp = private_dir();
        let dir = tmp.path().join("data");
        ok(&dir, &["case", "list"]);
        let settings = dir.join("settings.toml");
        let text = std::fs::read_to_string(&settings).unwrap();
        std::fs::write(
            &settings,
            text.replace("time_zone = \"\"", &format!("time_zone = \"{zone}\"")),
        )
        .unwrap();
        let out = open_from(&dir, &late_night(), "late-night-1@example.ie");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let case: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(case["received"], day, "{zone}");
    }
}

#[test]
fn the_inbox_lists_requests_and_puts_replies_under_their_case() {
    let tmp = private_dir();
    let dir = tmp.path().join("data");
    let id = common::cli::open_case(&dir, "Ann Example");
    let mailbox = tmp.path().join("mail");
    std::fs::create_dir(&mailbox).unwrap();
    std::fs::write(
        mailbox.join("reply.eml"),
        format!(
            "Message-ID: <r1@example.com>\nDate: Tue, 1 Dec 2026 09:00:00 +0000\nFrom: Ann <ann@example.com>\nSubject: Re: Your request {id}\n\nHere is my ID. Please also delete my data.\n"
        ),
    )
    .unwrap();
    std::fs::write(
        mailbox.join("ask.eml"),
        "Message-ID: <a1@example.com>\nDate: Tue, 1 Dec 2026 10:00:00 +0000\nFrom: Bo <bo@example.com>\nSubject: Hello\n\nPlease stop sending me marketing emails.\n",
    )
    .unwrap();
    std::fs::write(
        mailbox.join("invoice.eml"),
        "Message-ID: <i1@example.com>\nDate: Tue, 1 Dec 2026 11:00:00 +0000\nFrom: Billing <billing@supplier.example>\nSubject: Invoice 4471\n\nPlease find attached our invoice. Request for access to the portal: see link.\n",
    )
    .unwrap();
    // A FIFO planted among the messages is passed over, never waited on.
    let fifo = mailbox.join("planted.eml");
    let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);

    let inbox = json(&dir, &["inbox", mailbox.to_str().unwrap(), "--json"]);
    assert_eq!(inbox["messages"], 3);
    assert_eq!(inbox["other"], 1);
    let requests = inbox["requests"].as_array().unwrap();
    assert_eq!(requests.len(), 1, "{inbox}");
    assert_eq!(requests[0]["rights"], serde_json::json!(["objection"]));
    assert_eq!(requests[0]["person"]["address"], "bo@example.com");
    assert_eq!(inbox["threads"][0]["case"], id.as_str());
    assert_eq!(inbox["threads"][0]["known"], true);
    assert_eq!(
        inbox["threads"][0]["replies"][0]["message_id"],
        "r1@example.com"
    );

    let text = ok(&dir, &["inbox", mailbox.to_str().unwrap()]);
    assert!(
        text.starts_with("1 request waiting, 0 opened as cases; 1 reply about 1 case;"),
        "{text}"
    );
}

#[test]
fn a_hostile_message_reaches_the_terminal_inert() {
    let tmp = private_dir();
    let dir = tmp.path().join("data");
    let eml = tmp.path().join("hostile.eml");
    std::fs::write(
        &eml,
        "Message-ID: <h1@example.com>\nDate: Tue, 1 Dec 2026 09:00:00 +0000\nFrom: =?UTF-8?Q?Eve_=1B]52;c;AAAA=07?= <eve@example.com>\nSubject: =?UTF-8?Q?Delete_my_data_=1B[2J?=\n\nPlease delete my data under GDPR.\n",
    )
    .unwrap();
    let text = ok(&dir, &["inbox", eml.to_str().unwrap()]);
    assert!(
        !text.contains('\u{1b}') && !text.contains('\u{7}'),
        "{text:?}"
    );
    assert!(text.contains("erasure"), "{text}");
}

#[test]
fn the_desk_opens_a_case_from_the_mailbox_once() {
    use ratatui::crossterm::event::KeyCode;
    use rightsdesk::tui::app::Popup;
    let tmp = private_dir();
    let mut app = common::app(&tmp.path().join("data"), false);

    // No mailbox named: the desk says how to name one.
    common::key(&mut app, KeyCode::Char('m'));
    assert!(
        matches!(app.popups.last(), Some(Popup::Message { body, .. }) if body.contains("--inbox"))
    );
    common::key(&mut app, KeyCode::Esc);

    app.inbox_path = Some(fixtures().join("corpus/takeout.mbox"));
    common::key(&mut app, KeyCode::Char('m'));
    let first = match app.popups.last() {
        Some(Popup::Inbox { inbox, selected: 0 }) => inbox.requests[0].clone(),
        other => panic!("no mailbox shown: {other:?}"),
    };
    assert_eq!(first.message_id, "late-night-1@example.ie", "newest first");

    // Enter reads it, inert; n from there opens intake filled from it.
    common::key(&mut app, KeyCode::Enter);
    assert!(
        matches!(app.popups.last(), Some(Popup::Mail { mail, .. }) if mail.body.contains("personal data"))
    );
    common::key(&mut app, KeyCode::Char('n'));
    match app.popups.last() {
        Some(Popup::Form { form, .. }) => {
            assert_eq!(form.get("name").text, "Aoife Byrne");
            assert_eq!(form.get("emails").text, "aoife.byrne@example.ie");
            assert_eq!(form.get("received").text, "2026-04-01");
            assert_eq!(form.get("rights").ticked(), ["access"]);
            assert_eq!(form.get("channel").value(), "email");
        }
        other => panic!("no intake form: {other:?}"),
    }
    common::ctrl(&mut app, 's');
    let case = app.desk.queue().unwrap().into_iter().next().unwrap().case;
    assert_eq!(
        case.message.as_ref().map(|m| m.id.as_str()),
        Some("late-night-1@example.ie")
    );
    assert_eq!(case.received.to_string(), "2026-04-01");

    // Back in the mailbox, the message says its case, and n will not take it again.
    app.popups.clear();
    common::key(&mut app, KeyCode::Char('q'));
    common::key(&mut app, KeyCode::Char('m'));
    match app.popups.last() {
        Some(Popup::Inbox { inbox, .. }) => {
            assert_eq!(
                inbox.requests[0].case.as_deref(),
                Some(case.id.to_string().as_str())
            )
        }
        other => panic!("{other:?}"),
    }
    common::key(&mut app, KeyCode::Char('n'));
    assert!(matches!(app.popups.last(), Some(Popup::Inbox { .. })));
    assert!(
        app.status
            .as_ref()
            .is_some_and(|(s, _)| s.contains("already")),
        "{:?}",
        app.status
    );

    // A plain intake afterwards carries no message.
    app.popups.clear();
    common::key(&mut app, KeyCode::Char('n'));
    assert_eq!(app.intake_message, None);
}

#[test]
fn the_organisations_own_phrases_add_to_the_shipped_and_a_mistake_is_named() {
    let tmp = private_dir();
    let dir = tmp.path().join("data");
    ok(&dir, &["case", "list"]);
    let mail = tmp.path().join("m.eml");
    std::fs::write(
        &mail,
        "Message-ID: <k1@example.com>\nDate: Tue, 1 Dec 2026 09:00:00 +0000\nFrom: Kai <kai@example.com>\nSubject: Hei\n\nJeg vil gjerne ha innsyn, takk. Kunde nr 44.\nPlease scrub my profile.\n",
    )
    .unwrap();
    let rights = |dir: &Path| {
        json(dir, &["inbox", mail.to_str().unwrap(), "--json"])["requests"][0]["rights"].clone()
    };
    assert_eq!(rights(&dir), serde_json::json!(["access"]));
    // "scrub my profile": the organisation's own wording, added.
    std::fs::write(
        dir.join("request-phrases.toml"),
        "[en]\nerasure = [\"scrub my profile\"]\n",
    )
    .unwrap();
    assert_eq!(rights(&dir), serde_json::json!(["access", "erasure"]));
    // A mistake stops the inbox, named by file and line (exit 1, as a bad
    // settings or catalogue file).
    std::fs::write(
        dir.join("request-phrases.toml"),
        "[en]\nerasure = [\"scrub my profile\"]\nforget = [\"x y z\"]\n",
    )
    .unwrap();
    let out = rightsdesk(&dir, &["inbox", mail.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let why = String::from_utf8_lossy(&out.stderr);
    assert!(
        why.contains("request-phrases.toml line 3: [en] forget: not a right"),
        "{why}"
    );
}

fn mbox_of(messages: &[&str]) -> String {
    messages
        .iter()
        .map(|m| format!("From x@example.com Tue Dec  1 09:00:00 2026\n{m}\n"))
        .collect()
}

#[test]
fn a_reused_message_id_is_another_message_and_never_hides_a_request() {
    let tmp = private_dir();
    let dir = tmp.path().join("data");
    let first = "Message-ID: <dup@example.com>\nDate: Tue, 1 Dec 2026 09:00:00 +0000\nFrom: Alice <alice@example.com>\nSubject: Access\n\nPlease send me a copy of my personal data.\n";
    let forged = "Message-ID: <dup@example.com>\nDate: Tue, 1 Dec 2026 10:00:00 +0000\nFrom: Bob <bob@example.com>\nSubject: Erasure\n\nPlease delete my data.\n";
    let mbox = tmp.path().join("two.mbox");
    std::fs::write(&mbox, mbox_of(&[first, forged])).unwrap();
    let alone = tmp.path().join("alice.eml");
    std::fs::write(&alone, first).unwrap();
    // Named by id alone, the two are refused, both named.
    let out = open_from(&dir, &mbox, "dup@example.com");
    assert_eq!(out.status.code(), Some(3), "refused, as a rule refuses");
    let why = String::from_utf8_lossy(&out.stderr);
    assert!(
        why.contains("2 different messages") && why.contains("bob@example.com"),
        "{why}"
    );
    // Alice's, saved on its own, opens; Bob's still waits.
    let out = open_from(&dir, &alone, "dup@example.com");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let inbox = json(&dir, &["inbox", mbox.to_str().unwrap(), "--json"]);
    let waiting: Vec<&str> = inbox["requests"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["case"].is_null())
        .map(|r| r["person"]["address"].as_str().unwrap())
        .collect();
    assert_eq!(waiting, ["bob@example.com"]);
}

#[test]
fn a_message_without_an_id_is_the_same_message_whatever_its_labels() {
    let body = "Date: Tue, 1 Dec 2026 09:00:00 +0000\nFrom: Cy <cy@example.com>\nSubject: Hi\n\nPlease delete my data.\n";
    let tmp = private_dir();
    let a = tmp.path().join("a.mbox");
    let b = tmp.path().join("b.mbox");
    std::fs::write(
        &a,
        mbox_of(&[&format!("X-Gmail-Labels: Inbox,Unread\n{body}")]),
    )
    .unwrap();
    std::fs::write(
        &b,
        mbox_of(&[&format!("X-Gmail-Labels: Inbox,Opened\n{body}")]),
    )
    .unwrap();
    let one = |p: &Path| readings(p).into_values().next().unwrap();
    let (ma, mb) = (one(&a), one(&b));
    assert!(ma.message_id.starts_with("sha256:"));
    assert_eq!((ma.message_id, ma.digest), (mb.message_id, mb.digest));
}

#[test]
fn a_message_read_again_is_the_same_message_even_after_the_mailbox_changed() {
    let tmp = private_dir();
    let mbox = tmp.path().join("m.mbox");
    let msg = |n: u32, who: &str| {
        format!("Message-ID: <m{n}@example.com>\nDate: Tue, 1 Dec 2026 09:0{n}:00 +0000\nFrom: {who} <{who}@example.com>\nSubject: Request {n}\n\nPlease delete my data.\n")
    };
    std::fs::write(
        &mbox,
        mbox_of(&[&msg(1, "ann"), &msg(2, "bo"), &msg(3, "cy")]),
    )
    .unwrap();
    let read = readings(&mbox);
    let bo = read
        .values()
        .find(|m| m.from.address == "bo@example.com")
        .unwrap()
        .clone();
    // A mail client compacts the mbox: the first message goes.
    std::fs::write(&mbox, mbox_of(&[&msg(2, "bo"), &msg(3, "cy")])).unwrap();
    let table = PhraseTable::shipped_and(None).unwrap();
    let again =
        rightsdesk::inbox::message_at(&bo.at, &bo.digest, &table, &Settings::default()).unwrap();
    assert_eq!(
        again.from.address, "bo@example.com",
        "never the message now in its place"
    );
    std::fs::write(&mbox, mbox_of(&[&msg(3, "cy")])).unwrap();
    let gone = rightsdesk::inbox::message_at(&bo.at, &bo.digest, &table, &Settings::default());
    assert!(gone.unwrap_err().to_string().contains("read it again"));
}

#[test]
fn the_day_it_arrived_counts_and_a_reply_is_not_a_new_case() {
    let tmp = private_dir();
    let dir = tmp.path().join("data");
    // Written (it says) in 1970; the organisation's server got it on 3 Nov.
    let eml = tmp.path().join("old.eml");
    std::fs::write(
        &eml,
        "Received: from mx.example.net by mail.infotrode.example; Tue, 3 Nov 2026 10:00:00 +0000\nMessage-ID: <old@example.com>\nDate: Mon, 2 Nov 1970 09:00:00 +0000\nFrom: Dee <dee@example.com>\nReply-To: someone-else@example.org\nSubject: SAR\n\nThis is a subject access request for my personal data.\n",
    )
    .unwrap();
    let out = open_from(&dir, &eml, "old@example.com");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let case: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(case["received"], "2026-11-03");
    assert!(String::from_utf8_lossy(&out.stderr).contains("arrived on 3 Nov 2026"));
    // A person's own Reply-To is where they want answers, not who they are.
    assert_eq!(
        case["subject"]["emails"],
        serde_json::json!(["dee@example.com"])
    );

    let reply = fixtures().join("corpus/eml/en-reply-1.eml");
    let out = rightsdesk(
        &dir,
        &[
            "case",
            "open",
            "--from-message",
            reply.to_str().unwrap(),
            "--message-id",
            &readings(&reply).into_values().next().unwrap().message_id,
        ],
    );
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stderr).contains("is a reply about DSR-"));
}

#[test]
fn a_sender_cannot_choose_the_received_day_with_a_received_line_of_their_own() {
    // The organisation's server writes the top Received line; a sender may
    // write any number below it, and a Date, with any day.
    let forged = "Received: from mx.google.com by mail.infotrode.example; Wed, 1 Apr 2026 04:30:00 +0000\nReceived: from evil.example by evil.example; Tue, 5 Mar 2024 10:00:00 +0000\nMessage-ID: <forged@example.com>\nDate: Tue, 5 Mar 2024 10:00:00 +0000\nFrom: Mo <mo@example.com>\nSubject: SAR\n\nThis is a subject access request for my personal data.\n";
    let tmp = private_dir();
    let eml = tmp.path().join("f.eml");
    std::fs::write(&eml, forged).unwrap();
    let m = readings(&eml).into_values().next().unwrap();
    assert_eq!(m.received.unwrap().to_string(), "2026-04-01");
    // In an mbox, the mailbox's own record of arrival counts first.
    let mbox = tmp.path().join("f.mbox");
    std::fs::write(
        &mbox,
        format!("From mo@example.com Thu Apr  2 08:00:00 2026\n{forged}\n"),
    )
    .unwrap();
    let m = readings(&mbox).into_values().next().unwrap();
    assert_eq!(m.received.unwrap().to_string(), "2026-04-02");
    assert!(m.date_note.is_some(), "a Date two years off is said");
}

#[test]
fn a_reply_to_is_the_person_only_for_a_machine_sender() {
    let tmp = private_dir();
    let mail = |from: &str| {
        format!("Message-ID: <{from}>\nDate: Tue, 1 Dec 2026 09:00:00 +0000\nFrom: {from}\nReply-To: Eve <eve@evil.example>\nSubject: Hi\n\nPlease delete my data.\n")
    };
    for (from, person) in [
        ("alice@gmail.com", "alice@gmail.com"),
        ("dpo@infotrode.example", "dpo@infotrode.example"),
        ("noreply@hubspot.com", "eve@evil.example"),
        ("wordpress@infotrode.example", "eve@evil.example"),
    ] {
        let eml = tmp.path().join(format!("{from}.eml"));
        std::fs::write(&eml, mail(from)).unwrap();
        let m = readings(&eml).into_values().next().unwrap();
        assert_eq!(m.person().address, person, "from {from}");
    }
}

#[test]
fn the_desk_takes_no_reply_as_a_new_request() {
    use ratatui::crossterm::event::KeyCode;
    use rightsdesk::tui::app::Popup;
    let tmp = private_dir();
    let mut app = common::app(&tmp.path().join("data"), false);
    app.inbox_path = Some(fixtures().join("corpus/takeout.mbox"));
    common::key(&mut app, KeyCode::Char('m'));
    // The replies come after the requests; the last row is one, about a
    // case this desk does not hold: Enter reads it.
    common::key(&mut app, KeyCode::Char('G'));
    common::key(&mut app, KeyCode::Enter);
    assert!(
        matches!(app.popups.last(), Some(Popup::Mail { mail, .. }) if mail.subject.contains("DSR-"))
    );
    common::key(&mut app, KeyCode::Char('n'));
    match app.popups.last() {
        Some(Popup::Message { body, .. }) => {
            assert!(body.contains("is a reply about DSR-"), "{body}")
        }
        other => panic!("an intake opened from a reply: {other:?}"),
    }
    assert_eq!(app.intake_message, None);
}
