//! Dates as exports write them: Eventbrite's two-digit years are this
//! century, and a date outside 1990–2100 refuses the import with its line
//! and column instead of landing as year 26.

mod common;

use common::cli::{json, ok, run};

const HEADER: &str = "Order #,Order Date,First Name,Last Name,Email,Quantity,Ticket Type,Attendee #,Event Name,Company,Cell Phone,Attendee Status\n";

#[test]
fn eventbrite_dates_are_read_in_this_century_and_odd_years_refused() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path().join("data");
    let good = t.path().join("eventbrite.csv");
    std::fs::write(
        &good,
        format!(
            "{HEADER}1,8/25/26 10:00 AM,Rosa,Jiménez,rosa@example.es,1,GA,1,Meetup,,,Attending\n"
        ),
    )
    .unwrap();
    ok(&d, &["import", "events", good.to_str().unwrap()]);
    let hits = json(&d, &["lookup", "rosa", "--json"]);
    assert!(hits.to_string().contains("2026-08-25"), "{hits}");
    assert!(!hits.to_string().contains("0026"), "{hits}");

    let bad = t.path().join("eventbrite-bad.csv");
    std::fs::write(
        &bad,
        format!("{HEADER}2,2024-05-02 10:11:12+00:00,Ann,Lee,ann@example.ie,1,GA,2,Meetup,,,Attending\n3,0026-08-25 10:00:00+00:00,Bo,Li,bo@example.ie,1,GA,3,Meetup,,,Attending\n"),
    )
    .unwrap();
    let out = run(&d, &["import", "events", bad.to_str().unwrap()]);
    assert!(!out.status.success());
    let why = String::from_utf8_lossy(&out.stderr);
    assert!(
        why.contains("line 3") && why.contains("Order Date") && why.contains("outside 1990–2100"),
        "{why}"
    );
    // Whole or not at all: Ann from the refused file is not there.
    let hits = json(&d, &["lookup", "ann@example.ie", "--json"]);
    assert_eq!(hits.as_array().map(Vec::len), Some(0), "{hits}");
}
