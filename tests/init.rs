//! An organisation of its own: `rightsdesk init` writes its settings and
//! catalogue; the desk then plans work in its sources only and writes its
//! name, authority and DPO into letters; a bad catalogue is refused by line.

mod common;

use common::cli::{json, ok, open_case, open_verified, private_dir, run};
use std::path::{Path, PathBuf};
use std::process::Output;

const TWO_SOURCES: &str = r#"
[[source]]
id = "shop"
name = "Online shop"
team = "Sales"
systems = ["Shopify"]
categories = ["name", "e-mail", "orders"]
purposes = ["selling"]
retention = { months = 72, from = "last-service-delivery" }
erasure = "manual"
policy = "2"

[[source]]
id = "newsletter"
name = "Newsletter"
team = "Marketing"
systems = ["Brevo"]
categories = ["e-mail"]
purposes = ["direct marketing"]
retention = { months = 24, from = "last-contact" }
erasure = "suppression"
marketing = true
consent = true
policy = "5"
"#;

/// A private folder with a data directory in it (holding `holidays` files
/// when given) and the two-source catalogue beside it, as `two.toml`.
struct Org {
    t: tempfile::TempDir,
    d: PathBuf,
    file: PathBuf,
}

fn org(holidays: &[(&str, &str)]) -> Org {
    let t = private_dir();
    let d = t.path().join("data");
    std::fs::create_dir_all(d.join("holidays")).unwrap();
    std::fs::set_permissions(&d, std::os::unix::fs::PermissionsExt::from_mode(0o700)).unwrap();
    for (name, text) in holidays {
        std::fs::write(d.join(format!("holidays/{name}.toml")), text).unwrap();
    }
    let file = t.path().join("two.toml");
    std::fs::write(&file, TWO_SOURCES).unwrap();
    Org { t, d, file }
}

/// `rightsdesk init` with flags: the organisation, its calendar and DPO.
fn init_as(o: &Org, name: &str, calendar: &str, dpo: &str) -> Output {
    run(
        &o.d,
        &[
            "init",
            "--organisation",
            name,
            "--calendar",
            calendar,
            "--dpo",
            dpo,
            "--sources",
            o.file.to_str().unwrap(),
        ],
    )
}

fn init(o: &Org) -> Output {
    init_as(
        o,
        "Acme Fietsen B.V.",
        "england-and-wales",
        "privacy@acme.example",
    )
}

fn succeeded(out: &Output) {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The letter asking for ID on a new access case, as the subject reads it.
fn id_request_letter(d: &Path) -> String {
    let id = open_case(d, "Jan Jansen");
    ok(d, &["case", "request-id", &id]);
    ok(d, &["case", "letter", &id, "id-request"])
}

#[test]
fn a_new_organisation_plans_work_in_its_own_two_sources_only() {
    let o = org(&[]);
    let d = &o.d;
    let out = init(&o);
    succeeded(&out);
    assert!(String::from_utf8_lossy(&out.stdout).contains("sources check"));
    let listed = ok(d, &["sources", "check"]);
    assert!(
        listed.contains("2 sources") && listed.contains("shop") && listed.contains("newsletter"),
        "{listed}"
    );

    let id = open_verified(d, &["erasure"], "Anna de Vries", "anna@example.nl");
    let plan = json(d, &["case", "plan", &id, "--json"]);
    let mut sources: Vec<&str> = plan["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["source"].as_str().unwrap())
        .collect();
    sources.sort_unstable();
    sources.dedup();
    assert_eq!(sources, ["newsletter", "shop"], "{plan}");

    // The letters speak for the organisation, its authority and its DPO.
    let letter = id_request_letter(d);
    for said in [
        "Acme Fietsen B.V.",
        "privacy@acme.example",
        "Information Commissioner's Office",
    ] {
        assert!(letter.contains(said), "{said}: {letter}");
    }
    assert!(!letter.contains("infotrode"), "{letter}");
    let settings = std::fs::read_to_string(d.join("settings.toml")).unwrap();
    assert!(
        settings.contains("dpo_contact = \"privacy@acme.example\""),
        "{settings}"
    );

    // Set up once: a second init is refused and changes nothing.
    let again = init(&o);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("set up already"));
}

#[test]
fn a_bad_catalogue_is_refused_by_its_line_and_nothing_is_written() {
    let o = org(&[]);
    let (d, file) = (&o.d, &o.file);
    // The second source is a marketing channel erased in place: refused.
    let bad = TWO_SOURCES.replace("erasure = \"suppression\"", "erasure = \"in-place\"");
    std::fs::write(file, &bad).unwrap();
    let out = init(&o);
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    let line = bad
        .lines()
        .position(|l| l.contains("id = \"newsletter\""))
        .unwrap(); // the [[source]] line, from 1
    assert!(
        said.contains(&format!("line {line}"))
            && said.contains("newsletter")
            && said.contains("suppression"),
        "{said}"
    );
    assert!(!d.join("settings.toml").exists() && !d.join("sources.toml").exists());

    // `sources check` names the same line in an edited file.
    let out = run(o.t.path(), &["sources", "check", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stderr).contains(&format!("line {line}")));
}

#[test]
fn an_organisation_counts_by_its_own_holiday_calendar() {
    // Berlin: International Women's Day is a public holiday there.
    let o = org(&[(
        "germany-berlin",
        "name = \"germany-berlin\"\ntitle = \"Berlin public holidays\"\nfirst_year = 2026\nlast_year = 2027\n\n[[holiday]]\ndate = \"2027-03-08\"\nname = \"Internationaler Frauentag\"\n",
    )]);
    let d = &o.d;
    succeeded(&init_as(
        &o,
        "Acme GmbH",
        "germany-berlin",
        "datenschutz@acme.example",
    ));
    // Received 8 Feb 2027: due 8 Mar, a holiday in Berlin, so the 9th.
    let due = json(d, &["deadline", "--received", "2027-02-08", "--json"]);
    assert_eq!(due["due"], "2027-03-09", "{due}");
    assert_eq!(due["calendar"], "germany-berlin");

    // A calendar that names no year it covers is refused, by its file.
    std::fs::write(d.join("holidays/germany-berlin.toml"), "name = \"x\"\n").unwrap();
    let out = run(d, &["case", "list"]);
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && said.contains("holidays/germany-berlin.toml"),
        "{said}"
    );
}

#[test]
fn an_erasure_closes_where_the_catalogue_lists_no_backup_set() {
    let o = org(&[]);
    let d = &o.d;
    succeeded(&init(&o));
    let id = open_verified(d, &["erasure"], "Anna de Vries", "anna@example.nl");
    ok(d, &["case", "plan", &id, "--accept"]);
    common::cli::work_every_task(d, &id, &|_, _| {
        ("done", "erased in the admin panel".to_string())
    });
    ok(d, &["case", "ready", &id]);
    let closed = ok(
        d,
        &[
            "case",
            "close",
            &id,
            "--outcome",
            "fulfilled",
            "--reason",
            "erased in both sources",
        ],
    );
    assert!(
        closed.contains("closed"),
        "no backup marks are asked for: {closed}"
    );
}

#[test]
fn init_writes_nothing_over_a_strange_path_or_a_store_with_cases() {
    let o = org(&[]);
    let (t, d) = (&o.t, &o.d);
    // A dangling symlink where settings.toml goes: refused, nothing written.
    std::os::unix::fs::symlink(t.path().join("nowhere"), d.join("settings.toml")).unwrap();
    let out = init(&o);
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && said.contains("not a plain file"),
        "{said}"
    );
    assert!(!said.contains("case cannot be opened"), "{said}");
    assert!(!d.join("sources.toml").exists(), "nothing half-written");
    assert!(
        !t.path().join("nowhere").exists(),
        "the link was not followed"
    );
    std::fs::remove_file(d.join("settings.toml")).unwrap();
    // A store that holds cases keeps the catalogue its cases were planned by.
    open_case(d, "Jan");
    let out = init(&o);
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && said.contains("holds cases already"),
        "{said}"
    );
    assert!(!d.join("sources.toml").exists());
}

#[test]
fn an_own_calendar_without_an_authority_never_names_another_countrys() {
    let o = org(&[(
        "netherlands",
        "name = \"netherlands\"\ntitle = \"Dutch public holidays\"\nfirst_year = 2026\nlast_year = 2030\n",
    )]);
    succeeded(&init_as(&o, "Acme B.V.", "netherlands", "dpo@acme.nl"));
    let letter = id_request_letter(&o.d);
    assert!(
        !letter.contains("dataprotection.ie") && letter.contains("where you live or work"),
        "{letter}"
    );
}

#[test]
fn init_killed_between_its_two_files_finishes_when_run_again() {
    let o = org(&[]);
    // A kill after the catalogue and before the settings: the catalogue is
    // there, the settings are not.
    std::fs::write(o.d.join("sources.toml"), TWO_SOURCES).unwrap();
    succeeded(&init(&o));
    let settings = std::fs::read_to_string(o.d.join("settings.toml")).unwrap();
    assert!(settings.contains("Acme Fietsen B.V."), "{settings}");
    // Another catalogue there is staff's: refused, left as it was.
    let o = org(&[]);
    std::fs::write(o.d.join("sources.toml"), "# ours\n").unwrap();
    let out = init(&o);
    assert!(!out.status.success());
    assert_eq!(
        std::fs::read_to_string(o.d.join("sources.toml")).unwrap(),
        "# ours\n"
    );
}

#[test]
fn staff_check_the_catalogue_the_team_service_works_by() {
    let o = org(&[]);
    succeeded(&init(&o));
    let socket = o.t.path().join("s.sock");
    let _service = common::cli::serve(&o.d, &socket, |_| {});
    // A staff member's own data directory has no catalogue of its own.
    let mine = o.t.path().join("mine");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_rightsdesk"))
        .args(["sources", "check"])
        .env("RIGHTSDESK_DATA_DIR", &mine)
        .env("RIGHTSDESK_SOCKET", &socket)
        .output()
        .unwrap();
    succeeded(&out);
    let listed = String::from_utf8_lossy(&out.stdout);
    assert!(
        listed.starts_with("2 sources") && listed.contains("shop"),
        "{listed}"
    );
}

#[test]
fn letters_end_with_the_organisations_own_sign_off_and_footer() {
    let o = org(&[]);
    succeeded(&init(&o));
    let settings = o.d.join("settings.toml");
    let text = std::fs::read_to_string(&settings).unwrap();
    let signed = text
        .replace(
            "letter_sign_off = \"\"",
            "letter_sign_off = \"Met vriendelijke groet,\\nHet privacyteam\"",
        )
        .replace(
            "letter_footer = \"\"",
            "letter_footer = \"Acme Fietsen B.V., KvK 12345678, Utrecht\"",
        );
    assert_ne!(signed, text, "init writes both settings: {text}");
    std::fs::write(&settings, &signed).unwrap();
    let letter = id_request_letter(&o.d);
    let lines: Vec<&str> = letter
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    assert_eq!(
        lines[lines.len() - 3..],
        [
            "Met vriendelijke groet,",
            "Het privacyteam",
            "Acme Fietsen B.V., KvK 12345678, Utrecht"
        ],
        "{letter}"
    );
    assert!(
        letter.contains("supervisory authority"),
        "the law's sentences stay: {letter}"
    );

    // A control character in them is refused, naming the field.
    std::fs::write(
        &settings,
        signed.replace("Het privacyteam", "Het \\u001b[2J team"),
    )
    .unwrap();
    let out = run(&o.d, &["case", "list"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("letter_sign_off"));
}

#[test]
fn letters_speak_in_the_organisations_own_sentences_and_keep_their_facts() {
    let o = org(&[]);
    succeeded(&init(&o));
    // The shipped sentences are the file to start from.
    let shipped = ok(&o.d, &["letters", "show"]);
    assert!(shipped.contains("[id_request]"), "{shipped}");
    let own = o.d.join("letters.toml");
    std::fs::write(
        &own,
        "[id_request]\n\
         title = \"{org}: bevestig uw identiteit (verzoek {case})\"\n\
         why_heading = \"Waarom wij dit vragen\"\n\
         time = \"Als wij {by} niets van u horen, kunnen wij het verzoek sluiten.\"\n\
         by_days = \"binnen {days} dagen na de datum van deze brief\"\n",
    )
    .unwrap();
    assert!(ok(&o.d, &["letters", "check"]).contains("every sentence reads"));
    let letter = id_request_letter(&o.d);
    assert!(
        letter.contains("bevestig uw identiteit (verzoek DSR-"),
        "{letter}"
    );
    assert!(letter.contains("Waarom wij dit vragen"), "{letter}");
    // The facts are filled in the organisation's sentence…
    let days = letter
        .lines()
        .find(|l| l.contains("Als wij"))
        .unwrap_or_else(|| panic!("{letter}"));
    assert!(days.contains("binnen 30 dagen na de datum"), "{days}");
    // …and a sentence it left alone keeps the shipped wording.
    assert!(
        letter.contains("we look at it and keep no copy"),
        "{letter}"
    );

    // A sentence that drops a fact is refused at every start, by line.
    std::fs::write(
        &own,
        "[id_request]\n\n\
         time = \"Als wij niets van u horen, kunnen wij het verzoek sluiten.\"\n",
    )
    .unwrap();
    let out = run(&o.d, &["case", "list"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("letters.toml line 3: id_request.time: {by} is missing"),
        "{err}"
    );
    let out = run(&o.d, &["letters", "check"]);
    assert_eq!(out.status.code(), Some(3));
    // The doctor names it too, as the problem that stops every start.
    let out = run(&o.d, &["doctor"]);
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(said.contains("id_request.time: {by} is missing"), "{said}");
}
