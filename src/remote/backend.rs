//! What a face works on: one handle, `Backend`, that derefs to the
//! operations (`service::ops::Operations`). Behind it is the store itself
//! (one officer, zero setup) or the team service that owns it (`rightsdesk
//! serve`); faces never learn which. The few things that are not operations
//! — the face's own context (settings, calendar, today) and the work done
//! where the officer is (reading an export, writing a package) — are here,
//! each written once over the operations.
//!
//! Through the service the desk computes each case's clock itself (the
//! calendar comes with the service's settings), so a case travels as data and
//! every desk shows it as the regulator counts it on that day.

use super::client::{Client, ClientError, Subscription};
use super::Response;
use crate::domain::calendar::HolidayCalendar;
use crate::domain::settings::Settings;
use crate::domain::source::Catalogue;
use crate::domain::{Case, CaseId};
use crate::service::ops::{Call, ErrorKind, Operations, Transport};
use crate::service::{CaseView, Desk, DeskError, Now};
use chrono::NaiveDate;
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// The one handle a face holds. Cloning gives a worker its own (a new
/// connection, made on first use, through the service).
#[derive(Clone)]
pub struct Backend {
    held: Held,
}

// One per desk (and one per worker), never stored in bulk: boxing the larger
// variant would buy nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Clone)]
enum Held {
    /// This process owns the store.
    Store(Desk),
    /// `rightsdesk serve` owns it; every operation goes through its socket.
    Service(Link),
}

impl From<Desk> for Backend {
    fn from(d: Desk) -> Self {
        Backend {
            held: Held::Store(d),
        }
    }
}

impl From<Link> for Backend {
    fn from(l: Link) -> Self {
        Backend {
            held: Held::Service(l),
        }
    }
}

impl std::ops::Deref for Backend {
    type Target = dyn Operations;
    fn deref(&self) -> &(dyn Operations + 'static) {
        match &self.held {
            Held::Store(d) => d,
            Held::Service(l) => l,
        }
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

impl Link {
    /// Connects, says hello and fetches the service's settings.
    pub fn connect(socket: &Path, home: &Path) -> Result<Link, DeskError> {
        let client = Client::connect(socket)?;
        let mut link = Link {
            socket: socket.to_path_buf(),
            actor: client.actor.clone(),
            client: Mutex::new(Some(client)),
            settings: Settings::default(),
            catalogue: Catalogue::builtin(),
            calendar: HolidayCalendar::builtin(crate::domain::calendar::DEFAULT_CALENDAR)?,
            home: home.to_path_buf(),
            now: Now::System,
        };
        link.settings = Operations::settings(&link)?;
        link.catalogue = Operations::catalogue(&link)?;
        // The service's own calendar (perhaps the organisation's), not a
        // shipped one looked up by name.
        link.calendar = Operations::holiday_calendar(&link)?;
        Ok(link)
    }
}

impl Transport for Link {
    /// One call; a broken connection is dropped so the next call makes a
    /// new one (the service may have been restarted). A call the service
    /// never saw (its idle connection was closed) is sent once more on a new
    /// connection; one it may have seen is not.
    fn call(&self, call: Call) -> Result<serde_json::Value, DeskError> {
        let mut slot = self.client.lock().unwrap_or_else(|p| p.into_inner());
        let mut fresh = false;
        loop {
            if slot.is_none() {
                *slot = Some(Client::connect(&self.socket)?);
                fresh = true;
            }
            let client = slot.as_mut().expect("connected above");
            match client.call(call.clone()) {
                Ok(v) => return Ok(v),
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
}

impl Backend {
    /// The store this process holds, when it holds one: for tests and the
    /// demo's data, which look beneath the operations. Faces never call it.
    #[doc(hidden)]
    pub fn local(&self) -> Option<&Desk> {
        match &self.held {
            Held::Store(d) => Some(d),
            Held::Service(_) => None,
        }
    }

    /// Forgets a connection the service dropped (it went away): the next
    /// call connects afresh instead of failing on the dead one.
    pub fn reconnect(&self) {
        if let Held::Service(l) = &self.held {
            *l.client.lock().unwrap_or_else(|p| p.into_inner()) = None;
        }
    }

    /// Whether other desks share this store (through the team service).
    pub fn is_shared(&self) -> bool {
        matches!(self.held, Held::Service(_))
    }

    /// The service's pushes, each with the case as it now is; `None` when
    /// this process holds the store (nobody else changes it).
    pub fn subscribe(&self) -> Result<Option<Feed>, DeskError> {
        match &self.held {
            Held::Store(_) => Ok(None),
            Held::Service(l) => {
                let sub = Client::connect(&l.socket)?.subscribe()?;
                Ok(Some(Feed {
                    sub,
                    backend: Backend::from(l.clone()),
                }))
            }
        }
    }

    /// Who the store records as the actor of this desk's changes.
    pub fn actor(&self) -> &str {
        match &self.held {
            Held::Store(d) => d.actor(),
            Held::Service(l) => &l.actor,
        }
    }

    pub fn set_now(&mut self, now: Now) {
        match &mut self.held {
            Held::Store(d) => d.set_now(now),
            Held::Service(l) => l.now = now,
        }
    }

    pub fn today(&self) -> NaiveDate {
        match &self.held {
            Held::Store(d) => d.today(),
            Held::Service(l) => l.settings.day_at(l.now.resolve()),
        }
    }

    pub fn settings(&self) -> &Settings {
        match &self.held {
            Held::Store(d) => d.settings(),
            Held::Service(l) => &l.settings,
        }
    }

    pub fn catalogue(&self) -> &Catalogue {
        match &self.held {
            Held::Store(d) => d.catalogue(),
            Held::Service(l) => &l.catalogue,
        }
    }

    /// The domain's answer to a step before it is confirmed: the same rules
    /// (`Case::apply`) on a copy of the case, today, as this desk's officer.
    /// The case as it would be, or why the step is refused. Nothing is
    /// written: the step itself still goes through `take_step`.
    pub fn dry_run(
        &self,
        case: &crate::domain::Case,
        step: &crate::domain::Step,
        on: Option<NaiveDate>,
    ) -> Result<crate::domain::Case, String> {
        let at = match &self.held {
            Held::Store(d) => d.now(),
            Held::Service(l) => l.now.resolve(),
        };
        let on =
            crate::domain::change::recorded_on(case, step, on, self.today()).map_err(|r| r.why)?;
        let cx = crate::domain::lifecycle::StepContext {
            actor: self.actor(),
            at,
            on,
            calendar: self.calendar(),
        };
        let mut after = case.clone();
        after
            .apply(step.clone(), &cx)
            .map(|_| ())
            .map_err(|r| r.why.clone())?;
        Ok(after)
    }

    pub fn calendar(&self) -> &HolidayCalendar {
        match &self.held {
            Held::Store(d) => d.calendar(),
            Held::Service(l) => &l.calendar,
        }
    }

    pub fn default_cc(&self) -> &'static str {
        crate::domain::identifier::default_country_code(&self.settings().calendar)
    }

    /// This officer's own directory: the data directory they named (or the
    /// default), also through the service. Preferences, key bindings and
    /// the desk's exports go there.
    pub fn data_dir(&self) -> &Path {
        match &self.held {
            Held::Store(d) => d.data_dir(),
            Held::Service(l) => &l.home,
        }
    }

    /// Makes what the desk said was saved durable (every change is flushed
    /// before it is acknowledged; this is for a hang-up).
    pub fn flush(&self) -> Result<(), DeskError> {
        match &self.held {
            Held::Store(d) => d.flush(),
            Held::Service(_) => Ok(()),
        }
    }

    pub fn view(&self, case: Case) -> CaseView {
        CaseView::of(case, self.calendar(), self.today())
    }

    /// A case with its clock as of today.
    pub fn case(&self, id: CaseId) -> Result<CaseView, DeskError> {
        Ok(self.view(self.load_case(id)?))
    }

    /// Every case, most urgent first.
    pub fn queue(&self) -> Result<Vec<CaseView>, DeskError> {
        let mut views: Vec<CaseView> = Vec::new();
        let mut after = None;
        loop {
            let page = self.cases_page(after)?;
            views.extend(page.cases.into_iter().map(|c| self.view(c)));
            match page.next {
                Some(id) => after = Some(id),
                None => break,
            }
        }
        crate::service::sort_queue(&mut views);
        Ok(views)
    }

    /// The keyed-hash registers with the key that made them.
    pub fn hashed_flags(&self) -> Result<crate::lookup::HashedFlags, DeskError> {
        let lists = self.hashed_flag_lists()?;
        let key = crate::domain::pseudonym::unhex32(&lists.key).ok_or(DeskError::Remote {
            kind: ErrorKind::Protocol,
            message: "the pseudonym key is not 32 bytes of hex".into(),
        })?;
        let pseudo = crate::domain::pseudonym::Pseudonymiser::new(&key, self.default_cc());
        Ok(crate::lookup::HashedFlags::new(
            pseudo,
            lists.do_not_market.iter().map(String::as_str),
            lists.erased.iter().map(String::as_str),
        ))
    }

    /// Imports one export whole or not at all: the file is read and checked
    /// here (it is the officer's), and written by the store's holder in one
    /// transaction with its audit entry.
    pub fn import(
        &self,
        source: &str,
        path: &Path,
        how: &crate::import::ReadAs,
        progress: &mut dyn FnMut(&str, usize),
    ) -> Result<crate::service::ImportReport, DeskError> {
        crate::service::files_at_hand::import_file(
            &**self,
            self.catalogue(),
            source,
            path,
            how,
            progress,
        )
    }

    /// Puts a marketing tool's unsubscribed and cleaned rows on the
    /// suppression list: (rows taken, new entries).
    pub fn suppress_file(
        &self,
        source: &str,
        path: &Path,
        how: &crate::import::ReadAs,
    ) -> Result<crate::service::ops::Suppressed, DeskError> {
        let parsed = crate::service::ParsedImport::read(source, path, how, &mut |_, _| {})?;
        self.suppress_unsubscribed(source.to_string(), parsed.records)
    }

    /// Writes the access package (PDF, and the portability zip when asked)
    /// into `out_dir`, then logs it. The store's holder reads the records;
    /// the encryption and the files happen here, so the password never
    /// leaves this process.
    pub fn export_access(
        &self,
        id: CaseId,
        out_dir: &Path,
        password: &crate::service::package::Password,
        unsearched_reason: Option<&str>,
    ) -> Result<crate::service::AccessExport, DeskError> {
        // Both files' places are checked before anything is read.
        crate::service::AccessPackage::prepare(id, out_dir)?;
        let package = self.access_package(id, unsearched_reason.map(str::to_string))?;
        let written = package.write(out_dir, password)?;
        // Logged once the files are there: never a package that did not leave.
        self.record_package_sent(id, unsearched_reason.map(str::to_string))?;
        Ok(written)
    }

    /// Writes the closure log to `path` where this desk runs (0600), then
    /// logs the export.
    pub fn write_closure_log(
        &self,
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
        with_subjects: bool,
        format: crate::service::records::LogFormat,
        path: &Path,
    ) -> Result<usize, DeskError> {
        crate::service::records::prepare_log_file(path)?;
        let rows = self.closure_rows(from, to, with_subjects)?;
        let n = crate::service::records::write_log_file(&rows, format, path)?;
        self.log_closures_export(from, to, with_subjects)?;
        Ok(n)
    }

    /// Writes a backup of the whole store to `path` (0600, written whole),
    /// then logs it: a consistent snapshot taken while other desks' writes
    /// wait. Returns (records, the chain head it ends at).
    pub fn backup(
        &self,
        path: &Path,
    ) -> Result<(u64, Option<crate::store::chain::ChainHead>), DeskError> {
        crate::service::files_at_hand::backup_file(&**self, path)
    }

    /// Checks a restored data set (against the backup marks) or a campaign
    /// list (against the suppression list). The file is read here and only
    /// the keyed hashes of its identifiers are sent.
    pub fn check_file(
        &self,
        restore: bool,
        path: &Path,
        how: &crate::import::ReadAs,
    ) -> Result<Vec<crate::service::CheckHit>, DeskError> {
        let flags = self.hashed_flags()?;
        let source = if restore { "restore" } else { "campaign" };
        let parsed = crate::service::ParsedImport::read(source, path, how, &mut |_, _| {})?;
        let hashes: HashSet<String> = parsed
            .records
            .iter()
            .flat_map(|r| flags.pseudo.all(&r.emails, &r.phones))
            .map(|(_, h)| h)
            .collect();
        let table = self.check_hashes(restore, hashes.into_iter().collect())?;
        Ok(crate::service::check_rows(
            &flags.pseudo,
            &parsed.records,
            &table,
        ))
    }

    /// Waits until the lookup index is built (its first build starts here),
    /// or says why it cannot be.
    pub fn wait_for_index(&self) -> Result<crate::service::ops::IndexState, DeskError> {
        loop {
            let s = self.index_state()?;
            if let Some(why) = s.failed.clone().filter(|_| !s.ready) {
                return Err(DeskError::Remote {
                    kind: ErrorKind::Failed,
                    message: format!("the lookup index cannot be built: {why}"),
                });
            }
            if s.ready {
                return Ok(s);
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
    }
}

/// What the service pushed: a case changed (with the case as it now is), or
/// records and registers changed (an import, a split, a purge).
#[derive(Debug, Clone)]
pub enum Change {
    Case {
        view: Box<CaseView>,
        by: String,
    },
    Records {
        by: String,
    },
    /// The store is closed a moment for maintenance (`what`, e.g. rebuild):
    /// calls wait, then carry on; `done` once it is open again.
    Maintenance {
        what: String,
        by: String,
        done: bool,
    },
}

/// The service's change pushes, each with the case as it now is.
pub struct Feed {
    sub: Subscription,
    /// Its own connection, to fetch each changed case.
    backend: Backend,
}

impl Feed {
    /// Waits for the next change; an error means the service is gone.
    pub fn next_change(&mut self) -> Result<Change, DeskError> {
        loop {
            match self.sub.next_change()? {
                Response::Changed { id, by, .. } => {
                    let view = Box::new(self.backend.case(id)?);
                    return Ok(Change::Case { view, by });
                }
                Response::RecordsChanged { by } => return Ok(Change::Records { by }),
                Response::Maintenance { what, by, done } => {
                    return Ok(Change::Maintenance { what, by, done })
                }
                _ => {}
            }
        }
    }

    pub fn set_timeout(&self, t: Option<std::time::Duration>) {
        self.sub.set_timeout(t);
    }
}
