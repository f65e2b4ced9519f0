//! One suppression list: whoever the desk shows DO NOT MARKET, a campaign
//! check catches — a marketing tool's unsubscribed row (which the import
//! puts on the list itself), an objection still open, and a record linked
//! to either.

mod common;

use common::cli::{flagged_keys, json, ok};
use std::path::Path;

fn dnm(d: &Path, query: &str) -> bool {
    let hits = json(d, &["lookup", query, "--json"]);
    hits[0]["flags"]["do-not-market"] == true
}

#[test]
fn what_the_lookup_shows_do_not_market_the_campaign_check_catches() {
    let t = tempfile::tempdir().unwrap();
    let d = &t.path().join("data");
    let files = t.path();
    // Ingrid unsubscribed in Mailchimp; her phone also sits on a CRM row
    // under her work address, which the lookup links to her.
    let mailchimp = files.join("members_unsubscribed.csv");
    std::fs::write(
        &mailchimp,
        "Email Address,First Name,Last Name,Phone Number,LAST_CHANGED,LEID,UNSUB_TIME\n\
         ingrid@example.se,Ingrid,Straße,+46 70 123 45 67,2024-04-01 12:00:00,222,2024-04-01 12:00:00\n",
    )
    .unwrap();
    let crm = files.join("crm.csv");
    std::fs::write(
        &crm,
        "id,name,email,phone\nc-1,Ingrid Straße,ingrid.strasse@work.example,+46701234567\nc-2,Ana García,ana@example.es,\nc-3,Tomás Ó Briain,tomas@example.ie,\nc-4,Per Svensson,per@work.example,+46701234567\n",
    )
    .unwrap();
    let said = ok(d, &["import", "marketing", mailchimp.to_str().unwrap()]);
    assert!(
        said.contains(
            "2 identifier(s) of unsubscribed or cleaned rows put on the suppression list"
        ),
        "{said}"
    );
    ok(d, &["import", "customers", crm.to_str().unwrap()]);
    assert!(dnm(d, "ingrid.strasse@work.example"));

    // The list itself holds the unsubscribed row: marketing tools get it.
    let list = json(d, &["suppression", "export", "--format", "json"]);
    assert_eq!(list["entries"].as_array().unwrap().len(), 2, "{list}");

    // An objection opened today, its plan not yet accepted.
    let id = ok(
        d,
        &[
            "case",
            "open",
            "--right",
            "objection",
            "--name",
            "Tomás Ó Briain",
            "--email",
            "tomas@example.ie",
            "--channel",
            "email",
        ],
    )
    .trim()
    .to_string();
    assert!(!id.is_empty());
    assert!(dnm(d, "tomas@example.ie"));

    let campaign = files.join("campaign.csv");
    std::fs::write(
        &campaign,
        "key,email\n1,ingrid@example.se\n2,ingrid.strasse@work.example\n3,ana@example.es\n4,tomas@example.ie\n5,per@work.example\n",
    )
    .unwrap();
    // Per shares only the office phone with Ingrid: a colleague on the
    // switchboard is not unsubscribed.
    assert_eq!(
        flagged_keys(
            d,
            &["suppression", "check", campaign.to_str().unwrap(), "--json"]
        ),
        ["1", "2", "4"]
    );
    assert!(!dnm(d, "ana@example.es"));
}
