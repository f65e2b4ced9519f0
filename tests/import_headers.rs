//! A plain CSV whose header names its columns by their usual names, in
//! English or another EU language, imports without --map, and the shell says
//! the map it read; a header it cannot tell still asks for --map.

mod common;

use common::cli::{json, ok, run};

#[test]
fn a_plain_csv_is_read_by_its_header_and_the_map_is_said() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path().join("data");
    let plain = t.path().join("crm.csv");
    std::fs::write(
        &plain,
        "name,email,phone,company,source_key\nRosa Jiménez,rosa@example.es,+34 612 345 678,Jiménez SL,r-1\n",
    )
    .unwrap();
    let said = ok(&d, &["import", "customers", plain.to_str().unwrap()]);
    assert!(said.contains("(csv, UTF-8, comma-separated)"), "{said}");
    assert!(
        said.contains("--map key=source_key,company=company,name=name,email=email,phone=phone"),
        "{said}"
    );
    let hits = json(&d, &["lookup", "rosa", "--json"]);
    assert!(hits.to_string().contains("Rosa Jiménez"), "{hits}");

    // German, first and last name joined into one.
    let german = t.path().join("kunden.csv");
    std::fs::write(
        &german,
        "Vorname,Nachname,E-Mail,Telefon,Firma,Kundennummer\nJürgen,Müller,j.mueller@example.de,+49 30 1234567,Müller Logistik GmbH,K-77\n",
    )
    .unwrap();
    let said = ok(&d, &["import", "customers", german.to_str().unwrap()]);
    assert!(
        said.contains("first=Vorname") && said.contains("last=Nachname"),
        "{said}"
    );
    let hits = json(&d, &["lookup", "muller", "--json"]);
    assert!(hits.to_string().contains("Jürgen Müller"), "{hits}");

    // A header that names no person: --map is still asked for.
    let unknown = t.path().join("unknown.csv");
    std::fs::write(&unknown, "colour,size\nred,10\n").unwrap();
    let out = run(&d, &["import", "customers", unknown.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("--map"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn columns_the_header_map_leaves_unread_are_named() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path().join("data");
    let dutch = t.path().join("klanten.csv");
    std::fs::write(
        &dutch,
        "Naam;E-mailadres;Telefoonnummer;Notities\nSanne de Vries;sanne@example.nl;+31 20 123 4567;vaste klant\n",
    )
    .unwrap();
    let said = ok(&d, &["import", "customers", dutch.to_str().unwrap()]);
    assert!(said.contains("phone=Telefoonnummer"), "{said}");
    assert!(said.contains("columns not read: Notities"), "{said}");
    let r = json(
        &d,
        &["import", "customers", dutch.to_str().unwrap(), "--json"],
    );
    assert_eq!(r["unread_columns"], serde_json::json!(["Notities"]), "{r}");
}
