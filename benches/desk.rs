//! Speed of the desk's hot paths. Run: `cargo bench --bench desk`.
//!
//! - the legal clock for one case;
//! - loading the queue of 10,000 cases from the store;
//! - drawing one queue frame of 10,000 cases at 80×24 and 120×40;
//! - one `j` keypress plus the frame after it;
//! - parsing a 10,000-row HubSpot export;
//! - lookups over 100,000 records (a mix of names, folded names, partial
//!   names, e-mails, phones and companies).

use chrono::{Days, NaiveDate, TimeZone, Utc};
use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use rightsdesk::domain::calendar::HolidayCalendar;
use rightsdesk::domain::clock::due_date;
use rightsdesk::domain::{
    Channel, NewCase, Requester, Right, Step, Subject, VerificationMethod, VerificationOutcome,
};
use rightsdesk::service::{Desk, Now};
use rightsdesk::tui::app::{App, Msg};
use std::hint::black_box;

/// Cases in the queue benches; `RIGHTSDESK_BENCH_CASES=100000` for the large run.
fn cases() -> usize {
    std::env::var("RIGHTSDESK_BENCH_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000)
}

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 29).unwrap()
}

/// A store of `n` cases received over the last 60 days, half of them verified.
fn store(n: usize) -> (tempfile::TempDir, Desk) {
    let t = tempfile::tempdir().unwrap();
    let mut desk = Desk::open(t.path()).unwrap();
    desk.set_now(Now::Fixed(
        Utc.from_utc_datetime(&today().and_hms_opt(12, 0, 0).unwrap()),
    ));
    for i in 0..n {
        let c = desk
            .open_case(NewCase {
                rights: vec![Right::ALL[i % Right::ALL.len()]],
                channel: Channel::ALL[i % Channel::ALL.len()],
                received: today() - Days::new((i % 60) as u64),
                requester: Requester::subject(),
                child: false,
                subject: Subject {
                    name: format!("Subject Number{i}"),
                    emails: vec![format!("s{i}@example.com")],
                    phones: vec![],
                },
                records: vec![],
                message: None,
            })
            .unwrap();
        if i % 2 == 0 {
            let step = Step::Verify {
                method: VerificationMethod::KnownDetails,
                outcome: VerificationOutcome::Verified,
                note: String::new(),
            };
            desk.step(c.id, step, None).unwrap();
        }
    }
    (t, desk)
}

fn benches(c: &mut Criterion) {
    let cal = HolidayCalendar::builtin("england-and-wales").unwrap();
    c.bench_function("clock: due date", |b| {
        b.iter(|| due_date(black_box(today()), 1, 3, &cal))
    });

    let n = cases();
    let (_t, desk) = store(n);
    c.bench_function(&format!("load queue: {n} cases"), |b| {
        b.iter(|| black_box(desk.queue().unwrap().len()))
    });

    let mut app = App::new(
        desk,
        Default::default(),
        rightsdesk::tui::view::theme::Theme { mono: false },
        &Default::default(),
    )
    .unwrap();
    for (w, h) in [(80u16, 24u16), (120, 40)] {
        let mut term = Terminal::new(TestBackend::new(w, h)).unwrap();
        app.update(Msg::Resize {
            width: w,
            height: h,
        });
        c.bench_function(&format!("queue frame: {n} cases at {w}x{h}"), |b| {
            b.iter(|| {
                term.draw(|f| f.render_widget(&app, f.area())).unwrap();
            })
        });
    }
    let mut term = Terminal::new(TestBackend::new(80, 24)).unwrap();
    c.bench_function(&format!("j keypress + frame: {n} cases at 80x24"), |b| {
        b.iter_batched(
            || (),
            |_| {
                app.update(Msg::Key(KeyEvent::new(
                    KeyCode::Char('j'),
                    KeyModifiers::NONE,
                )));
                term.draw(|f| f.render_widget(&app, f.area())).unwrap();
            },
            BatchSize::SmallInput,
        )
    });
}

fn import_and_lookup(c: &mut Criterion) {
    let mut csv = Vec::new();
    rightsdesk::service::synth::write_hubspot(&mut csv, 10_000, 7).unwrap();
    c.bench_function("import parse: 10k HubSpot rows", |b| {
        b.iter(|| {
            rightsdesk::import::parse("bench.csv", black_box(&csv), "web-forms", None, None)
                .unwrap()
                .1
                .len()
        })
    });

    let mut big = Vec::new();
    rightsdesk::service::synth::write_hubspot(&mut big, 100_000, 7).unwrap();
    let (_, records) =
        rightsdesk::import::parse("bench.csv", &big, "web-forms", None, None).unwrap();
    let index =
        rightsdesk::lookup::Index::build(records, &Default::default(), &Default::default(), "353");
    let m = rightsdesk::lookup::matcher();
    let queries = [
        "muller",
        "Jürgen Müller",
        "lukasz nowak",
        "gall",
        "sarah.kelly",
        "+353 1 100 7919",
        "(01) 100-7919",
        "brightwave",
        "Søren",
        "o'connor",
    ];
    let mut i = 0;
    c.bench_function("lookup: 100k records, query mix", |b| {
        b.iter(|| {
            i = (i + 1) % queries.len();
            index.lookup(&m, black_box(queries[i]), 10).len()
        })
    });
}

criterion_group! {
    name = desk;
    config = Criterion::default().sample_size(30);
    targets = benches, import_and_lookup
}
criterion_main!(desk);
