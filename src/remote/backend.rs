//! What the desk works on: the store itself (one officer, zero setup) or the
//! shared service that owns it (`rightsdesk serve`, several officers). Both
//! answer the same calls, so the desk's flows do not know which it has.
//!
//! Through the service the desk computes each case's clock itself (the
//! calendar comes with the service's settings), so a case travels as data and
//! every desk shows it as the regulator counts it on that day.

use super::client::{Client, ClientError, Subscription};
use super::{Request, Response};
use crate::domain::audit::AuditEntry;
use crate::domain::calendar::HolidayCalendar;
use crate::domain::plan::PlannedTask;
use crate::domain::record::SourceRecord;
use crate::domain::response::Report;
use crate::domain::settings::Settings;
use crate::domain::source::Catalogue;
use crate::domain::{Case, CaseId, NewCase, Step};
use crate::service::{CaseView, Desk, DeskError, Now, PlanProposal};
use chrono::{Local, NaiveDate};
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// The store the desk works on.
// One per desk (and one per worker), never stored in bulk: boxing the larger
// variant would buy nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Clone)]
pub enum Backend {
    /// This process owns the store.
    Local(Desk),
    /// `rightsdesk serve` owns it; every change goes through its socket.
    Service(Link),
}

impl From<Desk> for Backend {
    fn from(d: Desk) -> Self {
        Backend::Local(d)
    }
}

impl From<Link> for Backend {
    fn from(l: Link) -> Self {
        Backend::Service(l)
    }
}

/// A connection to the service, with the settings it runs by. Cloning gives
/// a new connection (made on first use), so a worker thread never waits on
/// the input thread's requests.
pub struct Link {
    socket: PathBuf,
    client: Mutex<Option<Client>>,
    actor: String,
    settings: Settings,
    catalogue: Catalogue,
    calendar: HolidayCalendar,
    /// This officer's own directory: desk preferences and key bindings.
    home: PathBuf,
    now: Now,
}

/// The service's lookup index, as a desk sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IndexState {
    pub building: bool,
    pub ready: bool,
    pub builds: u64,
    pub records: usize,
    pub subjects: usize,
}

impl Clone for Link {
    fn clone(&self) -> Self {
        Link {
            socket: self.socket.clone(),
            client: Mutex::new(None),
            actor: self.actor.clone(),
            settings: self.settings.clone(),
            catalogue: self.catalogue.clone(),
            calendar: self.calendar.clone(),
            home: self.home.clone(),
            now: self.now,
        }
    }
}

/// Bytes of records per import part: well inside a frame.
const IMPORT_PART: usize = 1 << 20;

fn unexpected() -> DeskError {
    DeskError::Service(ClientError::Unexpected)
}

impl Link {
    /// Connects, says hello and fetches the service's settings.
    pub fn connect(socket: &Path, home: &Path) -> Result<Link, DeskError> {
        let mut client = Client::connect(socket)?;
        let Response::Settings { settings } = client.call(&Request::Settings)? else {
            return Err(unexpected());
        };
        let calendar = HolidayCalendar::builtin(&settings.calendar)?;
        Ok(Link {
            socket: socket.to_path_buf(),
            actor: client.actor.clone(),
            client: Mutex::new(Some(client)),
            settings,
            catalogue: Catalogue::builtin(),
            calendar,
            home: home.to_path_buf(),
            now: Now::System,
        })
    }

    /// One request; a broken connection is dropped so the next call makes a
    /// new one (the service may have been restarted).
    /// A request the service never saw (its idle connection was closed) is
    /// sent once more on a new connection; one it may have seen is not.
    fn call(&self, request: &Request) -> Result<Response, DeskError> {
        let mut slot = self.client.lock().unwrap_or_else(|p| p.into_inner());
        let mut fresh = false;
        loop {
            if slot.is_none() {
                *slot = Some(Client::connect(&self.socket)?);
                fresh = true;
            }
            let client = slot.as_mut().expect("connected above");
            match client.call(request) {
                Ok(r) => return Ok(r),
                Err(e) => {
                    let broken = matches!(
                        e,
                        ClientError::Frame(_) | ClientError::NotSent(_) | ClientError::Unexpected
                    );
                    if broken {
                        *slot = None;
                    }
                    if !matches!(e, ClientError::NotSent(_)) || fresh {
                        return Err(e.into());
                    }
                }
            }
        }
    }

    /// A lookup in the service's index.
    pub fn lookup(
        &self,
        query: &str,
        limit: usize,
    ) -> Result<Vec<crate::lookup::Group>, DeskError> {
        match self.call(&Request::Lookup {
            query: query.to_string(),
            limit,
        })? {
            Response::Lookup { groups, .. } => Ok(groups.into_iter().map(Into::into).collect()),
            _ => Err(unexpected()),
        }
    }

    pub fn subject(&self, id: &str) -> Result<Option<crate::lookup::SubjectView>, DeskError> {
        match self.call(&Request::Subject { id: id.to_string() })? {
            Response::Subject { view } => Ok(view),
            _ => Err(unexpected()),
        }
    }

    pub fn index_state(&self) -> Result<IndexState, DeskError> {
        match self.call(&Request::IndexState)? {
            Response::IndexState {
                building,
                ready,
                builds,
                records,
                subjects,
                ..
            } => Ok(IndexState {
                building,
                ready,
                builds,
                records,
                subjects,
            }),
            _ => Err(unexpected()),
        }
    }

    /// Asks the service to build its index again (flags changed).
    pub fn reload_index(&self) -> Result<(), DeskError> {
        self.call(&Request::ReloadIndex).map(|_| ())
    }

    fn case_of(&self, r: Response) -> Result<Case, DeskError> {
        match r {
            Response::Case { case, .. } => Ok(*case),
            _ => Err(unexpected()),
        }
    }
}

impl Backend {
    /// The desk itself, when this process owns the store.
    pub fn local(&self) -> Option<&Desk> {
        match self {
            Backend::Local(d) => Some(d),
            Backend::Service(_) => None,
        }
    }

    /// Forgets a connection the service dropped (it went away): the next
    /// call connects afresh instead of failing on the dead one.
    pub fn reconnect(&self) {
        if let Backend::Service(l) = self {
            *l.client.lock().unwrap_or_else(|p| p.into_inner()) = None;
        }
    }

    pub fn is_shared(&self) -> bool {
        matches!(self, Backend::Service(_))
    }

    /// Who the store records as the actor of this desk's changes.
    pub fn actor(&self) -> &str {
        match self {
            Backend::Local(d) => d.actor(),
            Backend::Service(l) => &l.actor,
        }
    }

    pub fn set_now(&mut self, now: Now) {
        match self {
            Backend::Local(d) => d.set_now(now),
            Backend::Service(l) => l.now = now,
        }
    }

    pub fn today(&self) -> NaiveDate {
        match self {
            Backend::Local(d) => d.today(),
            Backend::Service(l) => l.now.resolve().with_timezone(&Local).date_naive(),
        }
    }

    pub fn settings(&self) -> &Settings {
        match self {
            Backend::Local(d) => d.settings(),
            Backend::Service(l) => &l.settings,
        }
    }

    pub fn catalogue(&self) -> &Catalogue {
        match self {
            Backend::Local(d) => d.catalogue(),
            Backend::Service(l) => &l.catalogue,
        }
    }

    pub fn calendar(&self) -> &HolidayCalendar {
        match self {
            Backend::Local(d) => d.calendar(),
            Backend::Service(l) => &l.calendar,
        }
    }

    pub fn default_cc(&self) -> &'static str {
        crate::domain::identifier::default_country_code(&self.settings().calendar)
    }

    /// The data directory (local), or this officer's own directory (shared):
    /// where preferences, key bindings and the desk's exports go.
    pub fn data_dir(&self) -> &Path {
        match self {
            Backend::Local(d) => d.data_dir(),
            Backend::Service(l) => &l.home,
        }
    }

    pub fn view(&self, case: Case) -> CaseView {
        let clock = case.clock(self.calendar(), self.today());
        CaseView { case, clock }
    }

    pub fn case(&self, id: CaseId) -> Result<CaseView, DeskError> {
        match self {
            Backend::Local(d) => d.case(id),
            Backend::Service(l) => {
                let case = l.case_of(l.call(&Request::Case { id })?)?;
                Ok(self.view(case))
            }
        }
    }

    /// Every case, most urgent first.
    pub fn queue(&self) -> Result<Vec<CaseView>, DeskError> {
        match self {
            Backend::Local(d) => d.queue(),
            Backend::Service(l) => {
                let mut views: Vec<CaseView> = Vec::new();
                let mut after = None;
                loop {
                    let Response::Cases { cases, next } = l.call(&Request::Cases { after })? else {
                        return Err(unexpected());
                    };
                    views.extend(cases.into_iter().map(|c| self.view(c)));
                    match next {
                        Some(id) => after = Some(id),
                        None => break,
                    }
                }
                crate::service::sort_queue(&mut views);
                Ok(views)
            }
        }
    }

    pub fn open_case(&self, new: NewCase) -> Result<Case, DeskError> {
        match self {
            Backend::Local(d) => d.open_case(new),
            Backend::Service(l) => l.case_of(l.call(&Request::Open { new })?),
        }
    }

    /// Takes a step if the case is still at `expected` (the version the
    /// officer saw): another officer's change in between is a conflict.
    pub fn step(
        &self,
        id: CaseId,
        step: Step,
        on: Option<NaiveDate>,
        expected: Option<u64>,
    ) -> Result<Case, DeskError> {
        match self {
            Backend::Local(d) => d.step_expecting(id, step, on, expected),
            Backend::Service(l) => l.case_of(l.call(&Request::Step {
                id,
                step,
                on,
                expected_version: expected,
            })?),
        }
    }

    pub fn propose_plan(&self, id: CaseId) -> Result<PlanProposal, DeskError> {
        match self {
            Backend::Local(d) => d.propose_plan(id),
            Backend::Service(l) => match l.call(&Request::ProposePlan { id })? {
                Response::Plan { proposal } => Ok(proposal),
                _ => Err(unexpected()),
            },
        }
    }

    pub fn accept_plan(
        &self,
        id: CaseId,
        tasks: &[PlannedTask],
        expected: Option<u64>,
    ) -> Result<Case, DeskError> {
        match self {
            Backend::Local(d) => {
                d.check_version(id, expected)?;
                d.accept_plan(id, tasks)
            }
            Backend::Service(l) => l.case_of(l.call(&Request::AcceptPlan {
                id,
                tasks: tasks.to_vec(),
                expected_version: expected,
            })?),
        }
    }

    pub fn closing_letter(&self, id: CaseId) -> Result<Report, DeskError> {
        match self {
            Backend::Local(d) => d.closing_letter(id),
            Backend::Service(l) => match l.call(&Request::Letter { id })? {
                Response::Letter { report } => Ok(report),
                _ => Err(unexpected()),
            },
        }
    }

    pub fn audit_tail(
        &self,
        case: Option<CaseId>,
        limit: usize,
    ) -> Result<Vec<AuditEntry>, DeskError> {
        match self {
            Backend::Local(d) => d.audit_tail(case, limit),
            Backend::Service(l) => match l.call(&Request::AuditTail { case, limit })? {
                Response::Audit { entries } => Ok(entries),
                _ => Err(unexpected()),
            },
        }
    }

    /// (entries, cases) of an intact chain, or what is wrong with it.
    pub fn verify_audit(&self) -> Result<(u64, u64), String> {
        match self {
            Backend::Local(d) => d
                .verify_audit()
                .map(|r| (r.entries, r.cases))
                .map_err(|e| e.to_string()),
            Backend::Service(l) => match l.call(&Request::VerifyAudit) {
                Ok(Response::Verified { entries, cases }) => Ok((entries, cases)),
                Ok(_) => Err(unexpected().to_string()),
                Err(e) => Err(e.to_string()),
            },
        }
    }

    pub fn hashed_flags(&self) -> Result<crate::lookup::HashedFlags, DeskError> {
        match self {
            Backend::Local(d) => d.hashed_flags(),
            Backend::Service(l) => match l.call(&Request::HashedFlags)? {
                Response::HashedFlags {
                    key,
                    do_not_market,
                    erased,
                } => {
                    let key = crate::domain::pseudonym::unhex32(&key).ok_or_else(unexpected)?;
                    let pseudo =
                        crate::domain::pseudonym::Pseudonymiser::new(&key, self.default_cc());
                    Ok(crate::lookup::HashedFlags::new(
                        pseudo,
                        do_not_market.iter().map(String::as_str),
                        erased.iter().map(String::as_str),
                    ))
                }
                _ => Err(unexpected()),
            },
        }
    }

    pub fn split_record(&self, source: &str, key: &str) -> Result<(), DeskError> {
        match self {
            Backend::Local(d) => d.split_record(source, key),
            Backend::Service(l) => {
                l.call(&Request::SplitRecord {
                    source: source.into(),
                    key: key.into(),
                })?;
                Ok(())
            }
        }
    }

    /// Imports one export whole or not at all. Through the service, the file
    /// is read and checked here (it is the officer's), its records sent in
    /// parts on a connection of their own, and written by the service in one
    /// transaction when the last part is in.
    pub fn import(
        &self,
        source: &str,
        path: &Path,
        format: Option<crate::import::Format>,
        map: Option<&crate::import::ColumnMap>,
        progress: &mut dyn FnMut(&str, usize),
    ) -> Result<crate::service::ImportReport, DeskError> {
        let link = match self {
            Backend::Local(d) => return d.import(source, path, format, map, progress),
            Backend::Service(l) => l,
        };
        if self.catalogue().get(source).is_none() {
            return Err(DeskError::UnknownSource {
                id: source.to_string(),
                known: self.catalogue().ids().join(", "),
            });
        }
        let parsed = crate::service::ParsedImport::read(source, path, format, map, progress)?;
        let mut client = Client::connect(&link.socket)?;
        let total = parsed.records.len();
        let mut part = Vec::new();
        let mut bytes = 0;
        let mut sent = 0;
        let mut send = |part: &mut Vec<SourceRecord>| -> Result<(), DeskError> {
            sent += part.len();
            client.call(&Request::ImportPart {
                records: std::mem::take(part),
            })?;
            progress("sent", sent);
            Ok(())
        };
        for r in parsed.records {
            let n = serde_json::to_vec(&r).map(|v| v.len()).unwrap_or(0);
            if bytes + n > IMPORT_PART && !part.is_empty() {
                send(&mut part)?;
                bytes = 0;
            }
            bytes += n;
            part.push(r);
        }
        send(&mut part)?;
        debug_assert_eq!(sent, total);
        match client.call(&Request::ImportCommit {
            source: source.to_string(),
            file: parsed.file,
            format: parsed.format.as_str().to_string(),
            sha256: parsed.sha256,
        })? {
            Response::Imported { report } => Ok(report),
            _ => Err(unexpected()),
        }
    }

    /// Writes the access package (PDF, and the portability zip when asked)
    /// into `out_dir`. Through the service, the service reads the records and
    /// logs their release to this officer; the encryption and the files happen
    /// here, so the password never leaves this process.
    pub fn export_access(
        &self,
        id: CaseId,
        out_dir: &Path,
        password: &crate::service::package::Password,
    ) -> Result<crate::service::AccessExport, DeskError> {
        // Both files' places are checked before the service logs the release.
        crate::service::AccessPackage::prepare(id, out_dir)?;
        match self {
            Backend::Local(d) => d.export_access(id, out_dir, password),
            Backend::Service(l) => match l.call(&Request::AccessPackage { id })? {
                Response::AccessPackage { package } => package.write(out_dir, password),
                _ => Err(unexpected()),
            },
        }
    }

    /// The closure log's rows; the export is logged (with whether names were in).
    pub fn closure_log(
        &self,
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
        with_subjects: bool,
    ) -> Result<Vec<crate::domain::closure_log::ClosureRow>, DeskError> {
        match self {
            Backend::Local(d) => d.closure_log(from, to, with_subjects),
            Backend::Service(l) => match l.call(&Request::ClosureLog {
                from,
                to,
                with_subjects,
            })? {
                Response::ClosureLog { rows } => Ok(rows),
                _ => Err(unexpected()),
            },
        }
    }

    /// Writes the closure log to `path` where this desk runs (0600).
    pub fn write_closure_log(
        &self,
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
        with_subjects: bool,
        format: crate::service::records::LogFormat,
        path: &Path,
    ) -> Result<usize, DeskError> {
        if let Backend::Local(d) = self {
            return d.write_closure_log(from, to, with_subjects, format, path);
        }
        // Through the service the rows' release to this officer is logged
        // there, when they are handed over.
        crate::service::records::prepare_log_file(path)?;
        let rows = self.closure_log(from, to, with_subjects)?;
        crate::service::records::write_log_file(&rows, format, path)
    }

    /// Checks a restored data set (against the backup marks) or a campaign
    /// list (against the suppression list). Through the service the file is
    /// read here and only the keyed hashes of its identifiers are sent.
    pub fn check_file(
        &self,
        restore: bool,
        path: &Path,
        format: Option<crate::import::Format>,
    ) -> Result<Vec<crate::service::CheckHit>, DeskError> {
        if let Backend::Local(d) = self {
            return d.check_file(restore, path, format);
        }
        let flags = self.hashed_flags()?;
        let source = if restore { "restore" } else { "campaign" };
        let parsed =
            crate::service::ParsedImport::read(source, path, format, None, &mut |_, _| {})?;
        let hashes: HashSet<String> = parsed
            .records
            .iter()
            .flat_map(|r| flags.pseudo.all(&r.emails, &r.phones))
            .map(|(_, h)| h)
            .collect();
        let Backend::Service(l) = self else {
            unreachable!("local returned above")
        };
        match l.call(&Request::CheckHashes {
            restore,
            hashes: hashes.into_iter().collect(),
        })? {
            Response::CheckTable { table } => Ok(crate::service::check_rows(
                &flags.pseudo,
                &parsed.records,
                &table,
            )),
            _ => Err(unexpected()),
        }
    }

    /// Makes what the desk said was saved durable (the service flushes each change).
    pub fn flush(&self) -> Result<(), DeskError> {
        match self {
            Backend::Local(d) => d.flush(),
            Backend::Service(_) => Ok(()),
        }
    }
}

/// What the service pushed: a case changed (with the case as it now is), or
/// the lookup's records changed (an import, a split).
#[derive(Debug, Clone)]
pub enum Change {
    Case { view: Box<CaseView>, by: String },
    Records { by: String },
}

/// The service's change pushes, each with the case as it now is.
pub struct Feed {
    sub: Subscription,
    /// Its own connection, to fetch each changed case.
    backend: Backend,
}

impl Feed {
    pub fn open(link: &Link) -> Result<Feed, DeskError> {
        let sub = Client::connect(&link.socket)?.subscribe()?;
        Ok(Feed {
            sub,
            backend: Backend::Service(link.clone()),
        })
    }

    /// Waits for the next change; an error means the service is gone.
    pub fn next_change(&mut self) -> Result<Change, DeskError> {
        loop {
            match self.sub.next_change()? {
                Response::Changed { id, by, .. } => {
                    let view = Box::new(self.backend.case(id)?);
                    return Ok(Change::Case { view, by });
                }
                Response::RecordsChanged { by } => return Ok(Change::Records { by }),
                _ => {}
            }
        }
    }

    pub fn set_timeout(&self, t: Option<std::time::Duration>) {
        self.sub.set_timeout(t);
    }
}
