//! The scriptable face: every step staff take, from a shell (README, "Working a case from the shell").
//!
//! Data subcommands take `--json` and then print JSON on stdout; errors go to
//! stderr with a non-zero exit code (see [`ExitCode`]).

/// `println!` for command output: a reader that went away (`| head`) ends
/// the command quietly, as it ends any Unix tool, instead of a panic.
macro_rules! outln {
    ($($t:tt)*) => { $crate::cli::out::line(format_args!($($t)*)) };
}
/// `print!` with the same care.
macro_rules! out {
    ($($t:tt)*) => { $crate::cli::out::text(format_args!($($t)*)) };
}

pub mod args;
mod due;
mod human;
mod inbox;
pub(crate) mod json;
mod lookup;
pub(crate) mod out;
mod rights;

use crate::domain::{CaseId, NewCase, Requester, Step, Subject};
use crate::remote::ErrorKind;
use crate::service::{paths, Desk, DeskError};
use crate::store::StoreError;
use args::{AuditCommand, CaseCommand, Cli, Command, LettersCommand, SourcesCommand};
use std::path::PathBuf;

/// Exit codes, so scripts can tell failures apart.
pub mod exit {
    pub const OK: i32 = 0;
    /// Anything else (I/O, damaged store, not found).
    pub const FAILED: i32 = 1;
    /// Bad command line (clap's own code).
    pub const USAGE: i32 = 2;
    /// The rules refused the step (illegal transition, invalid field, unknown source).
    pub const REFUSED: i32 = 3;
    /// Another process holds the store.
    pub const BUSY: i32 = 4;
    /// `audit verify` found a bad entry.
    pub const AUDIT_BROKEN: i32 = 5;
    /// `backups check` / `suppression check` found rows that must not go on.
    pub const ROWS_FOUND: i32 = 6;
    /// `due` found an open case past its due date (the same code: a check
    /// that found something a person must act on).
    pub const OVERDUE: i32 = 6;
    /// Through the shared service: someone else changed the case first.
    pub const CONFLICT: i32 = 7;
    /// Through the shared service: only its administrators may do this.
    pub const FORBIDDEN: i32 = 8;
}

/// An error to print on stderr, with its exit code.
#[derive(Debug)]
pub struct Failure {
    pub code: i32,
    pub message: String,
}

impl From<DeskError> for Failure {
    fn from(e: DeskError) -> Self {
        let code = match &e {
            DeskError::Store(StoreError::Busy { .. }) => exit::BUSY,
            DeskError::Refused(_)
            | DeskError::Invalid(_)
            | DeskError::SetUp(_)
            | DeskError::UnknownSource { .. }
            | DeskError::NoSuchRecord { .. }
            | DeskError::Store(StoreError::MessageTaken { .. }) => exit::REFUSED,
            DeskError::Remote { kind, .. } => match kind {
                ErrorKind::Refused => exit::REFUSED,
                ErrorKind::Conflict => exit::CONFLICT,
                ErrorKind::Forbidden => exit::FORBIDDEN,
                _ => exit::FAILED,
            },
            _ => exit::FAILED,
        };
        let mut message = e.to_string();
        if let DeskError::Store(StoreError::Busy { path }) = &e {
            // Busy because the shared service holds it: say what does work.
            if let Some(dir) = path.parent() {
                let socket = crate::remote::socket_path(dir);
                if std::os::unix::net::UnixStream::connect(&socket).is_ok() {
                    message = served_message(path, &socket);
                }
            }
        }
        Failure { code, message }
    }
}

/// What `case close` says, as the domain takes it (local or through the service).
fn closing_from_args(
    outcome: crate::domain::Outcome,
    reason: &str,
    fee: &Option<String>,
    responded: Option<chrono::NaiveDate>,
    via: Option<crate::domain::Channel>,
    gap: &[String],
) -> Result<crate::domain::closure::Closing, Failure> {
    let mut closing = crate::domain::closure::Closing::new(outcome, reason.to_string());
    closing.fee = fee.clone();
    closing.responded_on = responded;
    closing.via = via;
    for g in gap {
        let (k, r) = g.split_once('=').ok_or_else(|| {
            fail(
                exit::USAGE,
                format!(
                    "--gap '{g}': give KEY=REASON (the keys are listed when closing is refused)"
                ),
            )
        })?;
        closing
            .gap_reasons
            .push((k.trim().to_string(), r.trim().to_string()));
    }
    Ok(closing)
}

/// The intake `case open` describes (`received` defaults to `today`).
/// The intake the arguments make: from a message when given one (its
/// intake, with what the arguments say on top), else from the arguments.
pub(crate) fn new_case_from(
    a: &args::OpenArgs,
    today: chrono::NaiveDate,
    settings: &crate::domain::Settings,
    dir: &std::path::Path,
) -> Result<NewCase, Failure> {
    let mut new = match (&a.from_message, &a.message_id) {
        (Some(mailbox), Some(id)) => {
            let table = paths::request_phrases(dir)?;
            let mail = crate::inbox::find(mailbox, id, &table, settings).map_err(|e| {
                let code = match e {
                    crate::inbox::InboxError::Ambiguous { .. } => exit::REFUSED,
                    _ => exit::FAILED,
                };
                fail(code, e.to_string())
            })?;
            if mail.received.is_none() && a.received.is_none() {
                crate::errln!(
                    "warning: the message has no readable Date: the case is received today ({today}); give --received DAY if it came earlier"
                );
            }
            if let (Some(note), None) = (&mail.date_note, a.received) {
                crate::errln!("warning: {}", crate::domain::text::inert(note));
            }
            // What the message is decides whether it may become a case:
            // staff who say which rights take the decision themselves.
            match (mail.not_a_request(), a.rights.is_empty()) {
                (Some(why), true) => {
                    return Err(fail(
                        exit::REFUSED,
                        format!("{why}; if it asks for something, say which rights with --right"),
                    ))
                }
                (Some(why), false) => {
                    crate::errln!("warning: {why}; opened because --right says so")
                }
                (None, _) => {}
            }
            let mut new = mail.intake(today);
            if !a.emails.is_empty() {
                new.subject.emails.extend(a.emails.iter().cloned());
            }
            new
        }
        _ => NewCase {
            rights: Vec::new(),
            channel: crate::domain::Channel::Email,
            received: today,
            requester: Requester::subject(),
            child: false,
            subject: Subject {
                name: String::new(),
                emails: a.emails.clone(),
                phones: Vec::new(),
            },
            records: vec![],
            message: None,
        },
    };
    if !a.rights.is_empty() {
        new.rights = a.rights.clone();
    }
    if let Some(c) = a.channel {
        new.channel = c;
    }
    if let Some(r) = a.received {
        new.received = r;
    }
    if let Some(n) = &a.name {
        new.subject.name = n.clone();
    }
    new.subject.phones.extend(a.phones.iter().cloned());
    new.requester = Requester {
        relation: a.requester,
        name: a.requester_name.clone(),
        authority: a.authority.clone(),
        authority_kind: a.authority_kind,
    };
    new.child = a.child;
    Ok(new)
}

pub(crate) fn fail(code: i32, message: impl Into<String>) -> Failure {
    Failure {
        code,
        message: message.into(),
    }
}

pub fn data_dir(cli: &Cli) -> PathBuf {
    cli.data_dir.clone().unwrap_or_else(paths::default_data_dir)
}

pub(crate) fn parse_id(s: &str) -> Result<CaseId, Failure> {
    s.parse()
        .map_err(|e: crate::domain::ids::BadCaseId| fail(exit::USAGE, e.to_string()))
}

/// One JSON document on stdout; outside text in it is escaped (`\\u001b`).
pub(crate) fn print_json(v: &impl serde::Serialize) {
    outln!("{}", crate::domain::text::json_inert(v, true));
}

/// The shared service when it answers on its socket, else the store itself
/// (see [`crate::remote::door`]: a configured team socket that does not
/// answer is an error, never a private store).
fn backend(dir: &std::path::Path) -> Result<crate::remote::backend::Backend, Failure> {
    match crate::remote::door(dir).map_err(|e| fail(exit::FAILED, e.to_string()))? {
        crate::remote::Door::Service(socket) => {
            Ok(crate::remote::backend::Link::connect(&socket, dir)?.into())
        }
        crate::remote::Door::Store => Ok(warned(Desk::open(dir)?).into()),
    }
}

/// The store itself, for the commands that need it (backup, audit, purge…).
/// With a team socket configured they refuse rather than open a private
/// store the officer did not mean: busy when the service answers, an error
/// naming the socket when it does not.
fn local_desk(dir: &std::path::Path) -> Result<Desk, Failure> {
    match crate::remote::door(dir).map_err(|e| fail(exit::FAILED, e.to_string()))? {
        crate::remote::Door::Service(socket) => Err(fail(exit::BUSY, served_message(dir, &socket))),
        crate::remote::Door::Store => Ok(warned(Desk::open(dir)?)),
    }
}

/// Says on stderr, at every command, what the store's chain shows that
/// must not go unnoticed (a rollback).
fn warned(desk: Desk) -> Desk {
    if let Some(w) = desk.chain_warning() {
        crate::errln!("rightsdesk: {w}");
    }
    desk
}

fn served_message(store: &std::path::Path, socket: &std::path::Path) -> String {
    format!(
        "the store {} is served by `rightsdesk serve` ({}): every command reaches it through that socket, but this one needs the store to itself — run it as the service's user with the service stopped",
        store.display(),
        socket.display()
    )
}

/// Runs one subcommand; `Ok` carries what to print on stdout.
pub fn run(cli: &Cli, command: &Command) -> Result<(), Failure> {
    let dir = data_dir(cli);
    crate::store::files::keep_outputs_out_of(&dir);
    match command {
        Command::Deadline {
            received,
            calendar,
            json,
        } => {
            let name = match calendar {
                Some(c) => c.clone(),
                None => paths::peek_settings(&dir)
                    .map_err(|e| fail(exit::FAILED, e.to_string()))?
                    .map(|s| s.calendar)
                    .unwrap_or_else(|| crate::domain::calendar::DEFAULT_CALENDAR.to_string()),
            };
            let cal =
                paths::load_calendar(&dir, &name).map_err(|e| fail(exit::USAGE, e.to_string()))?;
            let due = crate::domain::clock::due_date(*received, 1, 0, &cal);
            let extended_due = crate::domain::clock::due_date(*received, 3, 0, &cal);
            if *json {
                print_json(&json::DeadlineJson {
                    received: *received,
                    calendar: &cal.name,
                    due,
                    extended_due,
                });
            } else {
                let clock = crate::domain::Clock::compute(
                    &[crate::domain::clock::ClockEvent::Received(*received)],
                    &cal,
                    *received,
                );
                outln!("{due}");
                outln!("extended due {extended_due}");
                outln!("{} ({})", clock.explain(), cal.title);
            }
            Ok(())
        }
        Command::Inbox { mailbox, json } => {
            let desk = backend(&dir)?;
            let table = paths::request_phrases(&dir)?;
            let found = crate::service::mailbox::read(&*desk, mailbox, &table, desk.settings())?;
            inbox::run(&found, *json)
        }
        Command::Due {
            within,
            login,
            ics,
            json,
        } => due::run(&dir, *within, *login, ics.as_deref(), *json, || {
            backend(&dir)
        }),
        // With `rightsdesk serve` running, cases go through it (the store is
        // its alone); otherwise the store is opened directly. One code path.
        Command::Case(c) => run_case(&backend(&dir)?, c, &dir),
        Command::Serve { socket } => {
            // The service opens the store itself whatever the socket says,
            // and says what its chain shows (a rollback) in its own log.
            let desk = warned(Desk::open(&dir)?);
            let socket = socket
                .clone()
                .unwrap_or_else(|| crate::remote::socket_path(&dir));
            let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
            for sig in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT] {
                signal_hook::flag::register(sig, stop.clone())
                    .map_err(|e| fail(exit::FAILED, e.to_string()))?;
            }
            let on = if std::env::var_os("LISTEN_FDS").is_some() {
                "the socket systemd passed".to_string()
            } else {
                socket.display().to_string()
            };
            crate::errln!("rightsdesk: serving {} on {on}", dir.display());
            crate::remote::server::serve(desk, &socket, stop)
                .map_err(|e| fail(exit::FAILED, format!("{}: {e}", socket.display())))
        }
        Command::Import {
            source,
            file,
            format,
            map,
            encoding,
            json,
        } => {
            // Through the service when it runs: the file is read here (it is
            // the caller's), the records written there.
            let desk = backend(&dir)?;
            let started = std::time::Instant::now();
            let mut progress = |stage: &str, rows: usize| {
                if !*json {
                    crate::errln!(
                        "import: {stage} {rows} rows ({:.1}s)",
                        started.elapsed().as_secs_f64()
                    );
                }
            };
            let how = crate::import::ReadAs {
                format: *format,
                map: map.clone(),
                encoding: *encoding,
            };
            let report = desk.import(source, file, &how, &mut progress)?;
            if *json {
                print_json(&report);
            } else {
                outln!(
                    "imported {} from {} ({}) into {}: {} new, {} updated{}{}",
                    crate::domain::text::counted(report.rows, "row", "rows"),
                    crate::domain::text::inert(&report.file),
                    report.read_as(),
                    report.source,
                    report.new,
                    report.updated,
                    crate::service::ImportReport::kept_words(report.older, report.undated),
                    report.skipped_words()
                );
            }
            Ok(())
        }
        Command::Lookup { limit, .. } if !(1..=crate::service::MAX_LOOKUP).contains(limit) => {
            Err(fail(
                exit::USAGE,
                format!(
                    "--limit {limit}: from 1 to {} (the lookup ranks that many people at most)",
                    crate::service::MAX_LOOKUP
                ),
            ))
        }
        Command::Lookup {
            query,
            stdin,
            limit,
            timings,
            json,
        } => lookup::run(
            &backend(&dir)?,
            query.as_deref(),
            *stdin,
            *limit,
            *timings,
            *json,
        ),
        Command::Backup { out } => {
            // Through the service when it runs: one consistent snapshot while
            // other desks' writes wait; the file is written here.
            let (n, head) = backend(&dir)?.backup(out)?;
            outln!(
                "wrote {} to {}",
                crate::domain::text::counted(
                    usize::try_from(n).unwrap_or(usize::MAX),
                    "record",
                    "records"
                ),
                out.display()
            );
            if let Some(h) = head {
                // The head leaves with every backup, for a record staff cannot edit.
                crate::errln!("rightsdesk: audit chain head {h} (keep it apart from the backup; check with `audit verify --against`)");
            }
            Ok(())
        }
        Command::Init {
            organisation,
            calendar,
            authority,
            dpo,
            sources,
        } => {
            let ask = |what: &str,
                       given: &Option<String>,
                       default: Option<&str>,
                       check: &dyn Fn(&str) -> Result<(), String>| {
                init_value(what, given.as_deref(), default, check)
            };
            // One line of plain text: it goes into every letter's header.
            let line = |v: &str| -> Result<(), String> {
                if v.trim().is_empty() {
                    Err("must not be empty".into())
                } else if v.chars().any(char::is_control) {
                    Err("must be one line, without control characters".into())
                } else {
                    Ok(())
                }
            };
            let any_line = |v: &str| -> Result<(), String> {
                if v.chars().any(char::is_control) {
                    Err("must be one line, without control characters".into())
                } else {
                    Ok(())
                }
            };
            let calendar_known = |v: &str| -> Result<(), String> {
                paths::load_calendar(&dir, v)
                    .map(|_| ())
                    .map_err(|e| e.to_string())
            };
            let d = crate::domain::Settings::default();
            let mut s = crate::domain::Settings {
                organisation: ask("organisation's name", organisation, None, &line)?,
                calendar: ask(
                    &format!(
                        "jurisdiction's holiday calendar ({})",
                        crate::domain::calendar::builtin_names().join(", ")
                    ),
                    calendar,
                    Some(&d.calendar),
                    &calendar_known,
                )?,
                supervisory_authority: ask(
                    "supervisory authority for complaints (empty: the calendar's jurisdiction's)",
                    authority,
                    Some(""),
                    &any_line,
                )?,
                dpo_contact: ask("Data Protection Officer's contact", dpo, None, &line)?,
                ..d
            };
            s.organisation = s.organisation.trim().to_string();
            let catalogue = match sources {
                Some(f) => std::fs::read_to_string(f)
                    .map_err(|e| fail(exit::USAGE, format!("{}: {e}", f.display())))?,
                None => crate::domain::source::BUILTIN_CATALOGUE.to_string(),
            };
            crate::service::paths::init_organisation(&dir, &s, &catalogue)?;
            outln!(
                "{} is set up for {}: settings.toml and sources.toml written.\nNext: edit sources.toml (one [[source]] per place personal data lives), then `rightsdesk sources check`.",
                dir.display(),
                crate::domain::text::inert(&s.organisation)
            );
            Ok(())
        }
        Command::Letters(LettersCommand::Show) => {
            outln!("{}", crate::domain::letter_text::SHIPPED.trim_end());
            Ok(())
        }
        Command::Letters(LettersCommand::Check { file }) => {
            let path = file
                .clone()
                .unwrap_or_else(|| dir.join(crate::service::paths::LETTERS_FILE));
            match crate::service::paths::letters_from(&path) {
                Ok(Some(_)) => {}
                Ok(None) => {
                    return Err(fail(
                        exit::USAGE,
                        format!("{}: no such file", path.display()),
                    ))
                }
                Err(e @ crate::service::DeskError::Letters(_)) => {
                    return Err(fail(exit::REFUSED, e.to_string()))
                }
                Err(e) => return Err(fail(exit::USAGE, e.to_string())),
            }
            outln!(
                "{}: every sentence reads, with the facts it must state",
                crate::domain::text::inert(&path.display().to_string())
            );
            Ok(())
        }
        Command::Sources(SourcesCommand::Check { file, json }) => {
            let c = match file {
                Some(f) => {
                    let text = std::fs::read_to_string(f)
                        .map_err(|e| fail(exit::USAGE, format!("{}: {e}", f.display())))?;
                    crate::domain::Catalogue::parse(&f.display().to_string(), &text)
                        .map_err(|e| fail(exit::REFUSED, e.to_string()))?
                }
                // Staff on a team server check the catalogue the service
                // works by, not one of their own data directory.
                None => match crate::remote::door(&dir) {
                    Ok(crate::remote::Door::Service(_)) => backend(&dir)?.catalogue().clone(),
                    _ => crate::service::paths::load_catalogue(&dir)
                        .map_err(|e| fail(exit::REFUSED, e.to_string()))?,
                },
            };
            if *json {
                print_json(&c);
            } else {
                outln!("{} sources, each valid:", c.sources.len());
                for s in &c.sources {
                    outln!("  {:<22} {}", s.id, crate::domain::text::inert(&s.name));
                }
            }
            Ok(())
        }
        Command::Doctor { json } => {
            use crate::store::doctor::{examine, Finding, Level};
            let mut findings = examine(&dir);
            findings.extend(crate::service::checkup::setup(
                &dir,
                chrono::Local::now().date_naive(),
            ));
            findings.sort_by_key(Finding::rank);
            if *json {
                print_json(&findings);
            } else {
                outln!("{}", dir.display());
                for f in &findings {
                    let tag = match f.level {
                        Level::Ok => "ok     ",
                        Level::Recoverable => "resumes",
                        Level::Problem => "PROBLEM",
                        Level::Advice => "advice ",
                    };
                    outln!("  {tag} {}", f.what);
                }
            }
            if findings.iter().any(|f| f.level == Level::Problem) {
                return Err(fail(
                    exit::FAILED,
                    "the data directory needs attention (see above)",
                ));
            }
            Ok(())
        }
        Command::Rebuild => {
            // Through the service when it runs (it pauses, closes the store,
            // rebuilds and opens it again); else on the data directory.
            let r =
                match crate::remote::door(&dir).map_err(|e| fail(exit::FAILED, e.to_string()))? {
                    crate::remote::Door::Service(socket) => crate::remote::backend::Backend::from(
                        crate::remote::backend::Link::connect(&socket, &dir)?,
                    )
                    .rebuild()?,
                    crate::remote::Door::Store => crate::service::rebuild(&dir)?,
                };
            outln!(
                "rebuilt the store: {} records, {} bytes before, {} after",
                r.records,
                r.bytes_before,
                r.bytes_after
            );
            Ok(())
        }
        Command::Restore {
            file,
            chain_key,
            unsealed,
        } => {
            // A restore makes a new store in its own data directory, never
            // through a service: it refuses a directory that holds a store
            // (the team's included), whatever socket is configured.
            let r = crate::service::restore(&dir, file, chain_key.as_deref(), *unsealed)?;
            if let Some(seen) = r.older_than_seen {
                crate::errln!(
                    "rightsdesk: this data directory had seen the audit chain reach #{seen}; the restored chain ends at #{}",
                    r.report.entries
                );
            }
            if r.unsealed {
                crate::errln!("rightsdesk: the restored chain is NOT sealed: it could have been rewritten by anyone who could edit the backup; check it against a head written down elsewhere (`rightsdesk audit verify --against SEQ:HASH`)");
            }
            outln!(
                "restored {} records into {}: audit chain intact ({} entries, {} cases){}",
                r.records,
                dir.display(),
                r.report.entries,
                r.report.cases,
                if r.unsealed { ", unsealed" } else { "" }
            );
            Ok(())
        }
        Command::Demo(args::DemoCommand::Churn { seed }) => churn(&local_desk(&dir)?, *seed),
        Command::Demo(args::DemoCommand::Cases { count, seed }) => {
            let desk = backend(&dir)?;
            let (open, closed) = crate::service::synth::open_cases(&*desk, *count, *seed)?;
            outln!("opened {open} open and {closed} closed cases");
            Ok(())
        }
        Command::Demo(args::DemoCommand::Generate { records, out, seed }) => {
            // Written as every output is: 0600 from birth, exclusively,
            // renamed over the target; never through a planted symlink.
            let io = |e: std::io::Error| fail(exit::FAILED, format!("{}: {e}", out.display()));
            crate::store::files::prepare_officer_output(out).map_err(io)?;
            crate::store::files::write_whole(out, |w| {
                let mut w = std::io::BufWriter::new(w);
                crate::service::synth::write_hubspot(&mut w, *records, *seed)?;
                std::io::Write::flush(&mut w)
            })
            .map_err(io)?;
            outln!("wrote {records} HubSpot contact rows to {}", out.display());
            Ok(())
        }
        Command::Audit(a) => run_audit(&backend(&dir)?, a),
        Command::Export(e) => rights::export(&backend(&dir)?, e),
        Command::Backups(b) => rights::backups(&backend(&dir)?, b),
        Command::Suppression(s) => rights::suppression(&backend(&dir)?, s),
        Command::Purge { apply, json } => {
            let desk = backend(&dir)?;
            let shared = desk.is_shared();
            let report = if *apply {
                desk.purge()?
            } else {
                desk.purge_due()?
            };
            // The removed bytes leave sled's files by a rebuild: through the
            // service, which closes the store for it; here, once this
            // process has let go of the store.
            let rebuilt = if *apply && report.reduced > 0 {
                if shared {
                    Some(desk.rebuild()?)
                } else {
                    drop(desk);
                    // sled lets go of the store a moment after the last handle.
                    Some(crate::service::once_released(|| {
                        crate::service::rebuild(&dir)
                    })?)
                }
            } else {
                None
            };
            if *json {
                print_json(&serde_json::json!({
                    "retention_years": report.retention_years,
                    "due": report.due.iter().map(|c| c.to_string()).collect::<Vec<_>>(),
                    "reduced": report.reduced,
                    "rebuilt": rebuilt.is_some(),
                }));
            } else {
                for id in &report.due {
                    outln!("{id}");
                }
                if *apply {
                    outln!(
                        "{} past {} years reduced to their stub{}",
                        crate::domain::text::counted(report.reduced, "case", "cases"),
                        report.retention_years,
                        if rebuilt.is_some() {
                            "; store rebuilt, removed bytes gone"
                        } else {
                            ""
                        }
                    );
                } else {
                    outln!(
                        "{} past {} years would be reduced (dry run: add --apply)",
                        crate::domain::text::counted(report.due.len(), "case", "cases"),
                        report.retention_years
                    );
                }
            }
            Ok(())
        }
        Command::Closures(args::ClosuresCommand::Export {
            from,
            to,
            format,
            with_subjects,
            out,
        }) => {
            let desk = backend(&dir)?;
            match out {
                Some(path) => {
                    let n = desk.write_closure_log(*from, *to, *with_subjects, *format, path)?;
                    crate::errln!("wrote {n} closed cases to {}", path.display());
                }
                None => {
                    let rows = desk.closure_rows(*from, *to, *with_subjects)?;
                    let bytes = crate::service::records::write_log(&rows, *format)
                        .map_err(|e| fail(exit::FAILED, e))?;
                    // Cells are spreadsheet-safe; a terminal still gets them inert.
                    let text = String::from_utf8_lossy(&bytes);
                    out!("{}", crate::domain::text::inert_lines(&text));
                    desk.log_closures_export(*from, *to, *with_subjects)?;
                }
            }
            Ok(())
        }
    }
}

/// The case commands that are one step of the state machine, as that step:
/// (case id, step, the day it counts from, --json). One mapping for the local
/// store and for the shared service.
pub(crate) fn as_step(cmd: &CaseCommand) -> Result<Option<CommandStep<'_>>, Failure> {
    fn to_step(
        id: &str,
        step: Step,
        on: Option<chrono::NaiveDate>,
        json: bool,
    ) -> Result<Option<CommandStep<'_>>, Failure> {
        Ok(Some((id, step, on, json)))
    }
    match cmd {
        // Closing is a step too: the service's `step` routes it to `Desk::close`.
        CaseCommand::Close {
            id,
            outcome,
            reason,
            fee,
            responded,
            via,
            gap,
            keep_identifiers,
            json,
        } => {
            let mut closing = closing_from_args(*outcome, reason, fee, *responded, *via, gap)?;
            closing.keep_identifiers = *keep_identifiers;
            to_step(id, Step::Close(closing), None, *json)
        }
        CaseCommand::RequestId { id, note, common } => to_step(
            id,
            Step::RequestId { note: note.clone() },
            common.on,
            common.json,
        ),
        CaseCommand::Verify {
            id,
            method,
            outcome,
            note,
            common,
        } => to_step(
            id,
            Step::Verify {
                method: *method,
                outcome: *outcome,
                note: note.clone(),
            },
            common.on,
            common.json,
        ),
        CaseCommand::Pause { id, reason, common } => to_step(
            id,
            Step::Pause {
                reason: reason.clone(),
            },
            common.on,
            common.json,
        ),
        CaseCommand::Resume { id, common } => to_step(id, Step::Resume, common.on, common.json),
        CaseCommand::Fee {
            id,
            amount,
            reason,
            common,
        } => to_step(
            id,
            Step::RequestFee {
                amount: amount.clone(),
                reason: reason.clone(),
            },
            common.on,
            common.json,
        ),
        CaseCommand::FeePaid { id, common } => to_step(id, Step::FeePaid, common.on, common.json),
        CaseCommand::Sent {
            id,
            letter,
            via,
            common,
        } => to_step(
            id,
            Step::NoticeSent {
                letter: *letter,
                via: *via,
            },
            common.on,
            common.json,
        ),
        CaseCommand::Extend { id, reason, json } => to_step(
            id,
            Step::Extend {
                reason: reason.clone(),
            },
            None,
            *json,
        ),
        CaseCommand::Task {
            id,
            source,
            status,
            action,
            note,
            common,
        } => to_step(
            id,
            Step::RecordTask {
                source: source.clone(),
                action: action.clone(),
                status: *status,
                note: note.clone(),
            },
            common.on,
            common.json,
        ),
        CaseCommand::Ready { id, json } => to_step(id, Step::MarkReady, None, *json),
        CaseCommand::Finding {
            id,
            source,
            text,
            json,
        } => to_step(
            id,
            Step::Finding {
                source: source.clone(),
                text: text.clone(),
            },
            None,
            *json,
        ),
        CaseCommand::Note { id, text, json } => {
            to_step(id, Step::Note { text: text.clone() }, None, *json)
        }
        CaseCommand::Rectify {
            id,
            field,
            old,
            new,
            reason,
            json,
        } => to_step(
            id,
            Step::Rectify {
                field: field.clone(),
                old: old.clone(),
                new: new.clone(),
                reason: reason.clone(),
            },
            None,
            *json,
        ),
        CaseCommand::Link {
            id,
            records,
            emails,
            phones,
            note,
            json,
        } => to_step(
            id,
            Step::LinkIdentity {
                emails: emails.clone(),
                phones: phones.clone(),
                records: records.clone(),
                note: note.clone(),
            },
            None,
            *json,
        ),
        CaseCommand::LiftRestriction {
            id,
            told_on,
            how,
            reason,
            json,
        } => to_step(
            id,
            Step::LiftRestriction {
                told_on: *told_on,
                how: how.clone(),
                reason: reason.clone(),
            },
            None,
            *json,
        ),
        _ => Ok(None),
    }
}

/// A case command as one step: (case id, step, the day it counts from, --json).
pub(crate) type CommandStep<'a> = (&'a str, Step, Option<chrono::NaiveDate>, bool);

fn run_case(
    desk: &crate::remote::backend::Backend,
    cmd: &CaseCommand,
    dir: &std::path::Path,
) -> Result<(), Failure> {
    let show = |case: crate::domain::Case, json: bool| {
        let v = desk.view(case);
        if json {
            print_json(&json::case_json(&v));
        } else {
            outln!("{}: {} — {}", v.case.id, v.case.state, v.clock.explain());
        }
    };
    let step =
        |id: &str, step: Step, on: Option<chrono::NaiveDate>, json: bool| -> Result<(), Failure> {
            let closing = matches!(step, Step::Close(_));
            let asking_id = matches!(step, Step::RequestId { .. });
            let case = desk.take_step(parse_id(id)?, step, on, None)?;
            if asking_id {
                // Taken, and said: asked late, the month restarts only when the
                // ID arrives (no personal data in the words).
                if let Some(w) = case.late_id_request(on.unwrap_or(desk.today())) {
                    crate::errln!("warning: {w}");
                }
            }
            if closing {
                // Closed all the same: a missing notice is a warning, not a bar.
                for owed in crate::domain::notice::notices_owed(&case, desk.calendar()) {
                    crate::errln!("warning: {owed}");
                }
            }
            show(case, json);
            Ok(())
        };
    if let Some((id, s, on, json)) = as_step(cmd)? {
        return step(id, s, on, json);
    }
    match cmd {
        CaseCommand::Open(a) => {
            let new = new_case_from(a, desk.today(), desk.settings(), dir)?;
            let case = desk.open_case(new)?;
            if a.json {
                print_json(&json::case_json(&desk.view(case)));
            } else {
                outln!("{}", case.id);
            }
            Ok(())
        }
        CaseCommand::List {
            state,
            overdue,
            all,
            json,
        } => {
            let views: Vec<_> = desk
                .queue()?
                .into_iter()
                .filter(|v| match state {
                    Some(s) => v.case.state == *s,
                    None => *all || v.case.state.is_open(),
                })
                .filter(|v| !*overdue || (v.case.state.is_open() && v.clock.is_overdue()))
                .collect();
            if *json {
                print_json(&views.iter().map(json::case_json).collect::<Vec<_>>());
            } else {
                out!("{}", human::queue_table(&views));
            }
            Ok(())
        }
        CaseCommand::Show { id, json } => {
            let v = desk.case(parse_id(id)?)?;
            let g = v.case.guide(desk.calendar(), desk.today());
            if *json {
                let mut j = json::case_json(&v);
                j["next"] = json::next_json(&g);
                print_json(&j);
            } else {
                out!("{}", human::case_detail(&v, &g));
            }
            Ok(())
        }
        CaseCommand::Plan {
            id,
            accept,
            skip,
            json,
        } => rights::plan(desk, &parse_id(id)?, *accept, skip, *json),
        CaseCommand::Letter {
            id,
            letter,
            pdf,
            json,
        } => {
            let letter = desk.letter(parse_id(id)?, *letter)?;
            if let Some(path) = pdf {
                let io = |e: std::io::Error| fail(exit::FAILED, format!("{}: {e}", path.display()));
                crate::store::files::prepare_officer_output(path).map_err(io)?;
                crate::service::package::write_pdf(&letter, None, path).map_err(io)?;
                crate::errln!("wrote {}", path.display());
            }
            if *json {
                print_json(&letter);
            } else {
                out!("{}", crate::domain::text::inert_lines(&letter.to_text()));
            }
            Ok(())
        }
        _ => unreachable!("every step command was taken by as_step above"),
    }
}

fn run_audit(desk: &crate::remote::backend::Backend, cmd: &AuditCommand) -> Result<(), Failure> {
    use crate::service::ops::AuditCheck;
    match cmd {
        AuditCommand::Head { json } => {
            let head = desk.chain_head()?;
            if *json {
                print_json(&serde_json::json!({
                    "seq": head.as_ref().map_or(0, |h| h.seq),
                    "hash": head.as_ref().map(|h| h.hash.clone()),
                }));
            } else {
                match head {
                    Some(h) => outln!("{h}"),
                    None => outln!("0: the chain is empty"),
                }
            }
            Ok(())
        }
        AuditCommand::Verify { json, against } => {
            let against = against
                .as_deref()
                .map(|a| a.parse::<crate::store::chain::ChainHead>())
                .transpose()
                .map_err(|e| fail(exit::USAGE, format!("--against: {e}")))?;
            match desk.verify_audit(against)? {
                AuditCheck::Intact {
                    entries,
                    cases,
                    unsealed,
                } => {
                    if *json {
                        print_json(
                            &serde_json::json!({"ok": true, "entries": entries, "cases": cases, "unsealed": unsealed}),
                        );
                    } else {
                        outln!(
                            "audit chain intact: {entries} entries; every case matches its last entry ({cases})"
                        );
                        if unsealed > 0 {
                            outln!(
                                "{unsealed} of the entries are not sealed with the chain key (written before it existed, or restored with --unsealed): only a head written down elsewhere proves them"
                            );
                        }
                    }
                    Ok(())
                }
                AuditCheck::Broken { entry, error } => {
                    if *json {
                        print_json(
                            &serde_json::json!({"ok": false, "entry": entry, "error": error}),
                        );
                    }
                    Err(fail(
                        exit::AUDIT_BROKEN,
                        format!("audit chain broken: {}", crate::domain::text::inert(&error)),
                    ))
                }
            }
        }
        AuditCommand::Log { case, json } => {
            let case = case.as_deref().map(parse_id).transpose()?;
            for e in desk.audit_log(case)? {
                if *json {
                    outln!("{}", crate::domain::text::json_inert(&e, false));
                } else {
                    outln!("{}", human::audit_line(&e));
                }
            }
            Ok(())
        }
    }
}

/// The crash-safety harness's child: an endless series of case changes, each
/// reported on stdout only after the desk has acknowledged (flushed) it.
fn churn(desk: &Desk, seed: u64) -> Result<(), Failure> {
    use crate::domain::{
        Channel, Outcome, Right, TaskStatus, VerificationMethod, VerificationOutcome,
    };
    use std::io::Write;
    let mut rng = seed.max(1);
    let mut next = move || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    let out = std::io::stdout();
    let sources = desk
        .catalogue()
        .ids()
        .into_iter()
        .map(str::to_string)
        .collect::<Vec<_>>();
    loop {
        let case = desk.open_case(NewCase {
            rights: vec![Right::ALL[(next() % Right::ALL.len() as u64) as usize]],
            channel: Channel::Email,
            received: desk.today(),
            requester: Requester::subject(),
            child: false,
            subject: Subject {
                name: format!("Churn Subject {}", next() % 100_000),
                emails: vec![format!("c{}@example.com", next() % 100_000)],
                phones: vec![],
            },
            records: vec![],
            message: None,
        })?;
        let ack = |id, version| {
            let mut o = out.lock();
            let _ = writeln!(o, "ack {id} {version}");
            let _ = o.flush();
        };
        ack(case.id, case.version);
        let steps = [
            Step::Verify {
                method: VerificationMethod::KnownDetails,
                outcome: VerificationOutcome::Verified,
                note: String::new(),
            },
            Step::RecordTask {
                source: sources[(next() % sources.len() as u64) as usize].clone(),
                action: None,
                status: TaskStatus::Done,
                note: "churn".into(),
            },
            Step::Note {
                text: format!("note {}", next()),
            },
            Step::Pause {
                reason: "clarify".into(),
            },
            Step::Resume,
            Step::Close(crate::domain::closure::Closing::new(
                Outcome::Withdrawn,
                "churn",
            )),
        ];
        let upto = 1 + (next() % steps.len() as u64) as usize;
        for step in steps.into_iter().take(upto) {
            let c = desk.step(case.id, step, None)?;
            ack(c.id, c.version);
        }
    }
}

/// A value for `init`: given on the command line, else asked for on the
/// terminal (the default shown in brackets) until `check` takes it; from a
/// script, a missing one that has no default is an error naming it.
fn init_value(
    what: &str,
    given: Option<&str>,
    default: Option<&str>,
    check: &dyn Fn(&str) -> Result<(), String>,
) -> Result<String, Failure> {
    let bad = |why: String| fail(exit::USAGE, format!("init: the {what}: {why}"));
    if let Some(v) = given {
        check(v).map_err(bad)?;
        return Ok(v.to_string());
    }
    if !std::io::IsTerminal::is_terminal(&std::io::stdin()) {
        return default.map(str::to_string).ok_or_else(|| {
            fail(
                exit::USAGE,
                format!("init: give the {what} (see `rightsdesk init --help`)"),
            )
        });
    }
    use std::io::Write as _;
    let mut err = std::io::stderr();
    loop {
        let _ = write!(
            err,
            "{what}{}: ",
            default
                .filter(|d| !d.is_empty())
                .map(|d| format!(" [{d}]"))
                .unwrap_or_default()
        );
        let _ = err.flush();
        let mut line = String::new();
        let n = std::io::stdin()
            .read_line(&mut line)
            .map_err(|e| fail(exit::FAILED, e.to_string()))?;
        if n == 0 {
            return Err(fail(exit::USAGE, format!("init: the {what} is needed")));
        }
        let v = line.trim();
        let v = match (v.is_empty(), default) {
            (true, Some(d)) => d.to_string(),
            (true, None) => {
                let _ = writeln!(err, "  (needed: letters carry it)");
                continue;
            }
            _ => v.to_string(),
        };
        // Asked again at once, never after the other questions.
        match check(&v) {
            Ok(()) => return Ok(v),
            Err(why) => {
                let _ = writeln!(err, "  {}", crate::domain::text::inert(&why));
            }
        }
    }
}
