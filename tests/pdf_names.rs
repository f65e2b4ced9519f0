//! The access package shows every name exactly as stored, in every language
//! the EU writes: a text extractor returns the very characters (the font is
//! shipped with the desk and embedded as a subset with a ToUnicode map).

mod common;

use std::process::Command;

/// Names and text from the people the desk serves; each must come back out
/// of the PDF as it went in.
const NAMES: &[(&str, &str)] = &[
    ("Łukasz Wróbel", "lukasz@example.pl"),
    ("Małgorzata Wróblewska-Nowak", "malgorzata@example.pl"),
    ("Tomáš Dvořák", "tomas@example.cz"),
    ("Işıl Öztürk", "isil@example.com.tr"),
    ("Søren Østergaard", "soren@example.dk"),
    ("Seán O’Brien", "sean@example.ie"),
    ("Γιώργος Παπαδόπουλος", "giorgos@example.gr"),
    ("Дмитрий Иванов", "dmitry@example.bg"),
];

const PASSWORD: &str = "a long enough password";

/// The PDF's text, by pdftotext where the machine has it (CI installs it),
/// and by lopdf always; both must agree on what is there.
fn texts(pdf: &std::path::Path) -> Vec<String> {
    let mut out = Vec::new();
    if let Ok(o) = Command::new("pdftotext")
        .args(["-upw", PASSWORD, "-enc", "UTF-8"])
        .arg(pdf)
        .arg("-")
        .output()
    {
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        out.push(String::from_utf8(o.stdout).unwrap());
    } else {
        eprintln!("pdftotext is not installed: the PDF is read with lopdf only");
    }
    let bytes = std::fs::read(pdf).unwrap();
    let doc =
        lopdf::Document::load_mem_with_options(&bytes, lopdf::LoadOptions::with_password(PASSWORD))
            .unwrap();
    let pages: Vec<u32> = doc.get_pages().keys().copied().collect();
    out.push(doc.extract_text(&pages).unwrap());
    out
}

#[test]
fn every_name_comes_out_of_the_pdf_exactly_as_stored() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join("d");
    // A record whose text has typographic punctuation and a currency sign.
    let csv = t.path().join("contacts.csv");
    std::fs::write(
        &csv,
        "\"Record ID\",\"First Name\",\"Last Name\",\"Email\",\"Company Name\"\n\
         \"9001\",\"Łukasz\",\"Wróbel\",\"lukasz@example.pl\",\"€ 10 – fee\"\n",
    )
    .unwrap();
    common::cli::ok(&dir, &["import", "web-forms", csv.to_str().unwrap()]);
    let pass = t.path().join("pass");
    std::fs::write(&pass, format!("{PASSWORD}\n")).unwrap();
    for (name, email) in NAMES {
        let id = common::cli::open_verified(&dir, &["access"], name, email);
        let out = t.path().join(format!("out-{id}"));
        common::cli::ok(
            &dir,
            &common::cli::export_access_args(
                &id,
                &out,
                &pass,
                &[
                    "--unsearched-reason",
                    "test: the sources are not the point here",
                ],
            ),
        );
        let pdf = out.join(format!("{id}-access.pdf"));
        for text in texts(&pdf) {
            assert!(text.contains(name), "{name} is not in:\n{text}");
            if *name == "Łukasz Wróbel" {
                assert!(text.contains("€ 10 – fee"), "the record's text:\n{text}");
            }
        }
    }
}

#[test]
fn the_closing_letter_comes_as_json_and_as_a_pdf_with_every_name_as_stored() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path().join("d");
    let id = common::cli::open_verified(
        &dir,
        &["access"],
        "Małgorzata Wróblewska-Nowak",
        "m@example.pl",
    );
    // Ready once the work is recorded: every planned source searched.
    common::cli::ok(&dir, &["case", "plan", &id, "--accept"]);
    common::cli::work_every_task(&dir, &id, &|_, _| {
        ("not-found", "searched by name and e-mail".to_string())
    });
    common::cli::ok(&dir, &["case", "ready", &id]);
    let letter = common::cli::json(&dir, &["case", "letter", &id, "--json"]);
    let headings: Vec<&str> = letter["sections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["heading"].as_str().unwrap())
        .collect();
    assert!(headings.contains(&"Our decision"), "{letter}");
    let pdf = t.path().join("letter.pdf");
    common::cli::ok(
        &dir,
        &["case", "letter", &id, "--pdf", pdf.to_str().unwrap()],
    );
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&pdf).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let bytes = std::fs::read(&pdf).unwrap();
    let doc = lopdf::Document::load_mem(&bytes).unwrap();
    let pages: Vec<u32> = doc.get_pages().keys().copied().collect();
    let text = doc.extract_text(&pages).unwrap();
    assert!(text.contains("Małgorzata Wróblewska-Nowak"), "{text}");
}
