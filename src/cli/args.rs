//! The command line's shape (README, "Working a case from the shell").

use crate::domain::case::AuthorityKind;
use crate::domain::notice::Letter;
use crate::domain::{
    Channel, Outcome, Relation, Right, State, TaskStatus, VerificationMethod, VerificationOutcome,
};
use chrono::NaiveDate;
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "rightsdesk",
    version,
    about = "A terminal desk for answering data-subject-rights requests (GDPR Art. 15–21)"
)]
pub struct Cli {
    /// The data directory (store, settings, exports).
    #[arg(long, global = true, env = "RIGHTSDESK_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,

    /// Opens the desk on a throwaway store filled with demo cases.
    #[arg(long)]
    pub demo: bool,

    /// The privacy mailbox the desk's `m` reads: an mbox (a Takeout
    /// export), a Maildir or a folder of .eml files.
    #[arg(long, env = "RIGHTSDESK_INBOX", value_name = "MAILBOX")]
    pub inbox: Option<PathBuf>,

    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// The legal clock alone: due date and extended due date.
    Deadline {
        /// The day the request was received (YYYY-MM-DD).
        #[arg(long, value_parser = parse_date)]
        received: NaiveDate,
        /// Holiday calendar (default: the organisation's setting, else ireland).
        #[arg(long)]
        calendar: Option<String>,
        /// Print JSON instead of text (outside text escaped)
        #[arg(long)]
        json: bool,
    },
    /// Deadlines: open cases overdue or due within DAYS, most urgent first
    /// (exit 6 when any is overdue).
    Due {
        /// How many days ahead to list (up to 3660); overdue cases are always listed.
        #[arg(long, default_value_t = 7, value_name = "DAYS", value_parser = clap::value_parser!(u32).range(0..=3660))]
        within: u32,
        /// One line for a login banner ("rightsdesk: 2 OVERDUE, 3 due this
        /// week — run rightsdesk"), nothing when nothing is due or no store is here.
        #[arg(long, conflicts_with_all = ["json", "ics"])]
        login: bool,
        /// Writes every open case's due date to an iCalendar file for the
        /// team's calendar (titles name the case and its rights, never the person).
        #[arg(long, value_name = "FILE", conflicts_with = "json")]
        ics: Option<PathBuf>,
        /// Print JSON instead of text
        #[arg(long)]
        json: bool,
    },
    /// The requests in a mailbox (an mbox such as a Takeout export, a
    /// Maildir, a folder of .eml files or one .eml): the messages that look
    /// like rights requests and are not cases yet, with the rights and the
    /// words that matched; replies about cases, under each case.
    Inbox {
        mailbox: PathBuf,
        /// Print JSON instead of text
        #[arg(long)]
        json: bool,
    },
    /// Open, list, show and work cases.
    #[command(subcommand)]
    Case(CaseCommand),
    /// Prove or show the audit chain.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Imports one system's export into the lookup index (whole or not at all).
    Import {
        /// The catalogue source the export belongs to (e.g. web-forms, events).
        source: String,
        file: PathBuf,
        /// hubspot, eventbrite, mailchimp, flamingo, wpforms, mbox, zoom, csv, json
        /// (detected from the header when not given).
        #[arg(long)]
        format: Option<crate::import::Format>,
        /// For csv/json: which columns hold what, e.g.
        /// "key=ID,name=Full Name,email=E-mail,phone=Tel,company=Org,date=Updated".
        #[arg(long)]
        map: Option<crate::import::ColumnMap>,
        /// The charset of a file with no byte-order mark, e.g. windows-1252
        /// (default UTF-8; UTF-16 with a BOM, as Excel's "Unicode Text", is read as it says).
        #[arg(long)]
        encoding: Option<crate::import::text::Charset>,
        /// Print JSON instead of text (outside text escaped)
        #[arg(long)]
        json: bool,
    },
    /// Finds a person across every source (fuzzy, accents folded).
    Lookup {
        /// What to look for: a name, e-mail, phone (any format), company or key.
        query: Option<String>,
        /// Read one query a line from standard input (the index is loaded once).
        #[arg(long)]
        stdin: bool,
        /// Most subjects to show.
        #[arg(long, default_value_t = 10)]
        limit: usize,
        /// With --stdin: print latency per query (p50/p95) to stderr at the end.
        #[arg(long)]
        timings: bool,
        /// Print JSON instead of text (outside text escaped)
        #[arg(long)]
        json: bool,
    },
    /// Demo and scale data.
    #[command(subcommand)]
    Demo(DemoCommand),
    /// Writes the whole store as versioned JSON lines (independent of sled's format).
    Backup {
        /// The file to write (replaced whole; a folder the desk has to make is made 0700)
        #[arg(long)]
        out: PathBuf,
    },
    /// Rebuilds a store from a backup, into a data directory that has none yet.
    Restore {
        file: PathBuf,
        /// The chain key (`audit.key`) of the data directory the backup came
        /// from, when restoring into a new one: the backup's chain is sealed
        /// with it and cannot be proven without it.
        #[arg(long)]
        chain_key: Option<PathBuf>,
        /// Take a backup whose chain has no sealed entry (made before the
        /// chain key existed): it cannot be proven, and the report says so.
        #[arg(long)]
        unsealed: bool,
    },
    /// Rewrites the store so deleted and overwritten bytes are gone from disk.
    Rebuild,
    /// Sets up an organisation of your own: its name, holiday calendar,
    /// supervisory authority and DPO contact (asked for when not given and
    /// the terminal can answer), and a catalogue of sources to edit
    /// (`sources.toml`, from --sources or the shipped one).
    Init {
        #[arg(long)]
        organisation: Option<String>,
        /// Holiday calendar (the jurisdiction), e.g. ireland, england-and-wales.
        #[arg(long)]
        calendar: Option<String>,
        /// The supervisory authority letters name for a complaint (default:
        /// the calendar's jurisdiction's).
        #[arg(long)]
        authority: Option<String>,
        /// How the subject reaches your Data Protection Officer.
        #[arg(long)]
        dpo: Option<String>,
        /// A catalogue of sources to start from (checked before anything is written).
        #[arg(long, value_name = "FILE")]
        sources: Option<PathBuf>,
    },
    /// The catalogue of sources (the data map): check an edited one.
    #[command(subcommand)]
    Sources(SourcesCommand),
    /// The sentences of the letters to the subject: print them to start
    /// your own letters.toml, check an edited one.
    #[command(subcommand)]
    Letters(LettersCommand),
    /// Says what state the data directory is in (interrupted operations,
    /// modes, the chain key, free space), from its files alone: it opens no
    /// store and changes nothing.
    Doctor {
        /// Print JSON instead of text (outside text escaped)
        #[arg(long)]
        json: bool,
    },
    /// The access response package (password-protected PDF; portability zip).
    #[command(subcommand)]
    Export(ExportCommand),
    /// Backup exclusion marks: list them, or check a restored data set.
    #[command(subcommand)]
    Backups(BackupsCommand),
    /// The do-not-market list: export it, check a campaign list, take unsubscribes.
    #[command(subcommand)]
    Suppression(SuppressionCommand),
    /// The closure log: one row per closed case.
    #[command(subcommand)]
    Closures(ClosuresCommand),
    /// Owns the store and serves it to several staff over a Unix socket
    /// (default DATA_DIR/rightsdesk.sock, or RIGHTSDESK_SOCKET); the desk,
    /// `case`, `lookup`, `import`, `export access` and `closures export` then
    /// go through it. Stops on SIGTERM or Ctrl-C.
    Serve {
        #[arg(long, value_name = "PATH")]
        socket: Option<PathBuf>,
    },
    /// Reduces closed cases past the desk's retention (settings:
    /// retention_years) to their pseudonymised stub. Lists them only, unless
    /// --apply; then rebuilds the store so the removed bytes are gone.
    Purge {
        /// Carry it out (without it, only list what would be done)
        #[arg(long)]
        apply: bool,
        /// Print JSON instead of text (outside text escaped)
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum SourcesCommand {
    /// Checks a catalogue (default: the data directory's sources.toml, else
    /// the shipped one) and lists its sources; a bad one is refused naming
    /// the file and line.
    Check {
        file: Option<PathBuf>,
        /// Print JSON instead of text (outside text escaped)
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum LettersCommand {
    /// Prints the shipped sentences: the file to copy to letters.toml in
    /// the data directory and edit.
    Show,
    /// Checks a letters file (default: the data directory's letters.toml);
    /// a mistake is named by file, line and sentence (exit 3).
    Check { file: Option<PathBuf> },
}

#[derive(Debug, Subcommand)]
pub enum ClosuresCommand {
    /// Writes the closure log (cases responded to between --from and --to).
    Export {
        #[arg(long, value_parser = parse_date)]
        from: Option<NaiveDate>,
        #[arg(long, value_parser = parse_date)]
        to: Option<NaiveDate>,
        /// csv (cells safe for spreadsheets) or jsonl
        #[arg(long, default_value = "csv")]
        format: crate::service::records::LogFormat,
        /// Name the subjects instead of their pseudonyms (this is logged).
        #[arg(long)]
        with_subjects: bool,
        /// Where to write (default: standard output). Written 0600.
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
pub enum ExportCommand {
    /// Writes ID-access.pdf (AES-256) and, for portability, ID-portability.zip
    /// (AES-256 entries: data.json, data.csv) into DIR.
    Access {
        id: String,
        /// The folder to write the files into (made 0700 if missing; an existing one keeps its mode)
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        /// A file whose first line is the password (at least 10 characters).
        /// The password is never stored or logged.
        #[arg(long, value_name = "F")]
        password_file: PathBuf,
        /// Send the package although sources are still to search, for this
        /// reason; the package names the sources and states the reason
        #[arg(long, value_name = "TEXT")]
        unsearched_reason: Option<String>,
        /// Print JSON instead of text (outside text escaped)
        #[arg(long)]
        json: bool,
    },
}

/// How to read a file for a check (as for `import`).
#[derive(Debug, Args)]
pub struct ReadArgs {
    pub file: PathBuf,
    /// hubspot, eventbrite, mailchimp, flamingo, wpforms, mbox, zoom, csv, json
    #[arg(long)]
    pub format: Option<crate::import::Format>,
    /// For csv/json: which columns hold what (see `import --help`).
    #[arg(long)]
    pub map: Option<crate::import::ColumnMap>,
    /// The charset of a file with no byte-order mark (default UTF-8).
    #[arg(long)]
    pub encoding: Option<crate::import::text::Charset>,
    /// Print JSON instead of text (outside text escaped)
    #[arg(long)]
    pub json: bool,
}

impl ReadArgs {
    /// How the file is to be read, as the officer asked.
    pub fn how(&self) -> crate::import::ReadAs {
        crate::import::ReadAs {
            format: self.format,
            map: self.map.clone(),
            encoding: self.encoding,
        }
    }
}

#[derive(Debug, Subcommand)]
// Parsed once per run: a variant larger than another costs nothing.
#[allow(clippy::large_enum_variant)]
pub enum BackupsCommand {
    /// Every backup exclusion mark: case, set, until when.
    List {
        /// Print JSON instead of text (outside text escaped)
        #[arg(long)]
        json: bool,
    },
    /// Lists the rows of a restored data set that belong to erased people
    /// (exit 6 when there are any, so a restore script can stop).
    Check(ReadArgs),
}

#[derive(Debug, Subcommand)]
pub enum SuppressionCommand {
    /// Writes the list (keyed hashes) with the hashing recipe, for marketing tools.
    Export {
        /// Where to write (default: standard output).
        #[arg(long)]
        out: Option<PathBuf>,
        /// csv or json
        #[arg(long, default_value = "csv")]
        format: String,
    },
    /// Lists the rows of a campaign list that must not be sent to (exit 6 when any).
    Check(ReadArgs),
    /// Puts the unsubscribed and cleaned rows of a marketing export on the list.
    Import {
        /// The catalogue source the export comes from (e.g. marketing).
        source: String,
        file: PathBuf,
        /// The export's format (detected from its header when not given)
        #[arg(long)]
        format: Option<crate::import::Format>,
        /// The charset of a file with no byte-order mark, e.g. windows-1252
        /// (default UTF-8; UTF-16 with a BOM, as Excel's "Unicode Text", is read as it says).
        #[arg(long)]
        encoding: Option<crate::import::text::Charset>,
    },
}

#[derive(Debug, Subcommand)]
pub enum DemoCommand {
    /// Writes a synthetic HubSpot contacts export for scale tests.
    Generate {
        #[arg(long)]
        records: usize,
        /// The file to write (replaced whole; a folder the desk has to make is made 0700)
        #[arg(long)]
        out: PathBuf,
        /// Seed for the generator (the same seed gives the same data)
        #[arg(long, default_value_t = 7)]
        seed: u64,
    },
    /// Opens COUNT synthetic cases received over the past two years, closing
    /// (as withdrawn) those received more than 60 days ago, as a queue of
    /// that size looks: for measuring `due` and the login line at scale.
    #[command(hide = true)]
    Cases {
        #[arg(long)]
        count: usize,
        /// Seed for the generator (the same seed gives the same cases)
        #[arg(long, default_value_t = 7)]
        seed: u64,
    },
    /// Makes case changes until killed, printing `ack ID VERSION` after each
    /// one the desk acknowledged (the crash-safety harness drives this).
    #[command(hide = true)]
    Churn {
        /// Seed for the generator (the same seed gives the same data)
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
}

#[derive(Debug, Subcommand)]
pub enum CaseCommand {
    /// Opens a case; prints its id.
    Open(OpenArgs),
    /// The queue: open cases, most urgent first.
    List {
        /// Only cases in this state (received, awaiting-identity, in-progress,
        /// awaiting-clarification, ready-to-respond, closed).
        #[arg(long)]
        state: Option<State>,
        /// Only cases past their due date.
        #[arg(long)]
        overdue: bool,
        /// Include closed cases.
        #[arg(long)]
        all: bool,
        /// Print JSON instead of text (outside text escaped)
        #[arg(long)]
        json: bool,
    },
    /// One case in full.
    Show {
        id: String,
        /// Print JSON instead of text (outside text escaped)
        #[arg(long)]
        json: bool,
    },
    /// Asks the requester for more ID: the clock stops until it arrives.
    RequestId {
        id: String,
        /// The evidence or remark kept with the step
        #[arg(long, default_value = "")]
        note: String,
        #[command(flatten)]
        common: StepArgs,
    },
    /// Records an identity check (what was checked; never the document itself).
    Verify {
        id: String,
        /// known-details, reply-from-address, call-back, document-seen
        #[arg(long)]
        method: VerificationMethod,
        #[arg(long, default_value = "verified")]
        outcome: VerificationOutcome,
        /// The evidence or remark kept with the step
        #[arg(long, default_value = "")]
        note: String,
        #[command(flatten)]
        common: StepArgs,
    },
    /// Asks a reasonable fee before acting on a manifestly unfounded or
    /// excessive request (Art. 12(5)(a)): the clock waits until it is paid.
    Fee {
        id: String,
        /// The amount, e.g. "EUR 25"
        #[arg(long)]
        amount: String,
        /// Why the request is manifestly unfounded or excessive (the letter states it)
        #[arg(long)]
        reason: String,
        #[command(flatten)]
        common: StepArgs,
    },
    /// The fee was paid: the time to answer starts again from that day.
    FeePaid {
        id: String,
        #[command(flatten)]
        common: StepArgs,
    },
    /// Records that a notice went out: the request for identity, the request
    /// for clarification, the extension notice or the request for a fee
    /// (`--on` the day it was sent).
    Sent {
        id: String,
        /// id-request, clarification, extension, fee-request
        letter: Letter,
        /// How it went out: email, web-form, chatbot, phone, post, in-person
        #[arg(long)]
        via: Channel,
        #[command(flatten)]
        common: StepArgs,
    },
    /// Waits for clarification from the requester: the clock pauses.
    Pause {
        id: String,
        /// What the person is asked (the clarification letter puts this question to them)
        #[arg(long)]
        reason: String,
        #[command(flatten)]
        common: StepArgs,
    },
    /// The clarification arrived: the clock runs again.
    Resume {
        id: String,
        #[command(flatten)]
        common: StepArgs,
    },
    /// Extends by two further months (only before the first month ends).
    Extend {
        id: String,
        /// Why, in words (kept in the case; the letter states it where the person is told)
        #[arg(long)]
        reason: String,
        /// Print JSON instead of text (outside text escaped)
        #[arg(long)]
        json: bool,
    },
    /// Records work in one source of the catalogue.
    Task {
        id: String,
        source: String,
        /// pending, done, not-found, exempt (needs the legal basis as --note), dropped (needs the reason as --note)
        #[arg(long)]
        status: TaskStatus,
        /// Which of the source's tasks this completes, where it has several (default: its one task; for a new task, the first right's action, e.g. "erase")
        #[arg(long)]
        action: Option<String>,
        /// The evidence or remark kept with the step
        #[arg(long, default_value = "")]
        note: String,
        #[command(flatten)]
        common: StepArgs,
    },
    /// All work is done: the response can go out.
    Ready {
        id: String,
        /// Print JSON instead of text (outside text escaped)
        #[arg(long)]
        json: bool,
    },
    /// Records what was found in a source, written for the subject: it goes
    /// into the access package (notes and task notes stay internal).
    Finding {
        id: String,
        source: String,
        text: String,
        /// Print JSON instead of text (outside text escaped)
        #[arg(long)]
        json: bool,
    },
    /// Adds a note to the case (internal: never in the subject's copy).
    Note {
        id: String,
        text: String,
        /// Print JSON instead of text (outside text escaped)
        #[arg(long)]
        json: bool,
    },
    /// Closes the case with an outcome and reason.
    Close {
        id: String,
        /// fulfilled, partly-fulfilled, refused-unfounded, refused-excessive,
        /// refused-identity, refused-compelling-grounds, withdrawn
        #[arg(long)]
        outcome: Outcome,
        /// Why, in words (kept in the case; the letter states it where the person is told)
        #[arg(long)]
        reason: String,
        /// A reasonable fee charged for a manifestly unfounded or excessive
        /// request (Art. 12(5)), e.g. "EUR 25"; stated in the closing letter.
        #[arg(long)]
        fee: Option<String>,
        /// The day the response went out (default today).
        #[arg(long, value_parser = parse_date)]
        responded: Option<NaiveDate>,
        /// How it went out (default: the channel the request came by).
        #[arg(long)]
        via: Option<Channel>,
        /// Closing as (partly) fulfilled with work still open: KEY=REASON for
        /// each gap (keys like `web-forms/erase` or `backup-marks`; a refused
        /// close lists them). Repeatable.
        #[arg(long)]
        gap: Vec<String>,
        /// Erasure: keep the subject's e-mails and phones in the closed case as
        /// evidence (by default they are replaced by keyed hashes).
        #[arg(long)]
        keep_identifiers: bool,
        /// Print JSON instead of text (outside text escaped)
        #[arg(long)]
        json: bool,
    },
    /// Proposes the per-source tasks the case's rights require (from the
    /// catalogue and where the person was found); --accept records them.
    Plan {
        id: String,
        /// Record the proposed tasks (work the desk does itself — suppression,
        /// backup marks — is done at once).
        #[arg(long)]
        accept: bool,
        /// With --accept: leave out the tasks of this source (repeatable).
        #[arg(long = "skip", value_name = "SOURCE")]
        skip: Vec<String>,
        /// Print JSON instead of text (outside text escaped)
        #[arg(long)]
        json: bool,
    },
    /// Records a rectification: the field, old and new value, and why.
    Rectify {
        id: String,
        #[arg(long)]
        field: String,
        #[arg(long, default_value = "")]
        old: String,
        #[arg(long)]
        new: String,
        /// Why, in words (kept in the case; the letter states it where the person is told)
        #[arg(long)]
        reason: String,
        /// Print JSON instead of text (outside text escaped)
        #[arg(long)]
        json: bool,
    },
    /// Adds identities found to be the subject's to the case (audited): a
    /// record of the lookup, an e-mail, a phone. The plan, the erasure, the
    /// suppression list and the backup marks then cover them.
    Link {
        id: String,
        /// A record as the lookup shows it, SOURCE:KEY; its e-mails and
        /// phones come with it (repeatable).
        #[arg(long = "record", value_name = "SOURCE:KEY")]
        records: Vec<String>,
        /// Another e-mail of the person (repeatable).
        #[arg(long = "email")]
        emails: Vec<String>,
        /// Another phone of the person (repeatable).
        #[arg(long = "phone")]
        phones: Vec<String>,
        /// Why these are the same person (kept in the case).
        #[arg(long)]
        note: String,
        /// Print JSON instead of text (outside text escaped)
        #[arg(long)]
        json: bool,
    },
    /// Lifts a restriction; the subject must have been told first (Art. 18(3)).
    LiftRestriction {
        id: String,
        /// The day the subject was told.
        #[arg(long, value_parser = parse_date)]
        told_on: NaiveDate,
        /// How they were told (e.g. "letter of 3 March").
        #[arg(long)]
        how: String,
        /// Why the restriction ends (e.g. "accuracy verified: the address is right").
        #[arg(long)]
        reason: String,
        /// Print JSON instead of text (outside text escaped)
        #[arg(long)]
        json: bool,
    },
    /// A letter as the person reads it: the response that closes the case
    /// (for a refused case, the Art. 12(4) refusal), or a notice on the way.
    Letter {
        id: String,
        /// response (default), id-request, clarification, extension, fee-request
        #[arg(default_value = "response")]
        letter: Letter,
        /// Also write it as a PDF (every name as stored; not encrypted: it
        /// is for sending; 0600, written whole)
        #[arg(long, value_name = "FILE")]
        pdf: Option<PathBuf>,
        /// Print JSON instead of text (outside text escaped)
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Args)]
pub struct StepArgs {
    /// The day this happened, if not today (e.g. ID that arrived by post yesterday).
    #[arg(long, value_parser = parse_date)]
    pub on: Option<NaiveDate>,
    /// Print JSON instead of text (outside text escaped)
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct OpenArgs {
    /// A right requested; repeat for several (access, rectification, erasure,
    /// restriction, portability, objection, withdraw-consent). With
    /// --from-message: default, the rights the message's words name.
    #[arg(long = "right", required_unless_present = "from_message")]
    pub rights: Vec<Right>,
    /// The data subject's name (with --from-message: default, the sender's,
    /// or Reply-To's for a website form's notification).
    #[arg(long, required_unless_present = "from_message")]
    pub name: Option<String>,
    /// An e-mail address of the subject; repeat for several
    #[arg(long = "email")]
    pub emails: Vec<String>,
    /// A phone number of the subject, in any format; repeat for several
    #[arg(long = "phone")]
    pub phones: Vec<String>,
    /// email, web-form, chatbot, phone, post, in-person (with --from-message: email)
    #[arg(long, required_unless_present = "from_message")]
    pub channel: Option<Channel>,
    /// Opens the request an e-mail makes: the mailbox holding it (an mbox,
    /// a Maildir, a folder of .eml files or one .eml), with --message-id. It
    /// is received on the organisation's day of its Date; its address is the
    /// subject's; the case keeps the message's id, and a second case of the
    /// same message is refused (exit 3).
    #[arg(long, value_name = "MAILBOX", requires = "message_id")]
    pub from_message: Option<PathBuf>,
    /// The Message-ID of the e-mail in --from-message (as `rightsdesk inbox` lists it).
    #[arg(long, value_name = "ID", requires = "from_message")]
    pub message_id: Option<String>,
    /// The day it was received (default today; with --from-message, the message's day).
    #[arg(long, value_parser = parse_date)]
    pub received: Option<NaiveDate>,
    /// Who asked: subject, parent, authorised-agent.
    #[arg(long, default_value = "subject")]
    pub requester: Relation,
    /// The requester's name, when not the subject.
    #[arg(long)]
    pub requester_name: Option<String>,
    /// The authority seen for a parent or agent, in words (e.g. "letter of 3 March").
    #[arg(long)]
    pub authority: Option<String>,
    /// Its kind: signed-authorisation or power-of-attorney (agent),
    /// parental-responsibility (parent), court-order (either).
    #[arg(long)]
    pub authority_kind: Option<AuthorityKind>,
    /// The subject is a child.
    #[arg(long)]
    pub child: bool,
    /// Print JSON instead of text (outside text escaped)
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Proves the hash chain and every case against it; names the first bad entry.
    Verify {
        /// Print JSON instead of text (outside text escaped)
        #[arg(long)]
        json: bool,
        /// A head written down earlier (`SEQ:HASH` from `audit head`): the
        /// chain must still hold it, or it was rolled back or rewritten.
        #[arg(long, value_name = "SEQ:HASH")]
        against: Option<String>,
    },
    /// The chain's head (`SEQ:HASH`): write it where staff cannot edit it
    /// (e.g. `rightsdesk audit head | logger -t rightsdesk`), and check
    /// later with `audit verify --against`.
    Head {
        /// Print JSON instead of text (outside text escaped)
        #[arg(long)]
        json: bool,
    },
    /// Shows the chain (one JSON object a line with --json).
    Log {
        /// Only this case's entries
        #[arg(long)]
        case: Option<String>,
        /// Print JSON instead of text (outside text escaped)
        #[arg(long)]
        json: bool,
    },
}

pub fn parse_date(s: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
        .map_err(|_| format!("'{s}' is not a date (YYYY-MM-DD)"))
}

#[cfg(test)]
mod tests {
    use super::Cli;
    use clap::CommandFactory;

    /// Every command that prints data takes `--json`, as the README says;
    /// those that write a file (or serve) are named here, with why.
    #[test]
    fn every_command_that_prints_data_takes_json() {
        const WRITES_A_FILE: &[&str] = &[
            "serve",              // runs the team service
            "backup",             // writes the backup file
            "restore",            // writes a data directory
            "rebuild",            // rewrites the store
            "suppression export", // its own --format json
            "suppression import", // writes the list; says how many
            "closures export",    // its own --format jsonl
            "demo churn",         // the crash harness's child
            "demo cases",         // opens synthetic cases for measuring
            "demo generate",      // writes a CSV
            "init",               // writes settings.toml and sources.toml
            "letters show",       // prints the TOML file itself
            "letters check",      // a verdict on a file, its mistake on stderr
            "help",
        ];
        fn leaves(cmd: &clap::Command, path: String, out: &mut Vec<(String, bool)>) {
            let subs: Vec<&clap::Command> = cmd.get_subcommands().collect();
            if subs.is_empty() {
                let json = cmd.get_arguments().any(|a| a.get_long() == Some("json"));
                out.push((path.clone(), json));
            }
            for s in subs {
                let p = if path.is_empty() {
                    s.get_name().to_string()
                } else {
                    format!("{path} {}", s.get_name())
                };
                leaves(s, p, out);
            }
        }
        let mut all = Vec::new();
        leaves(&Cli::command(), String::new(), &mut all);
        let missing: Vec<&str> = all
            .iter()
            .filter(|(p, json)| {
                !json && !WRITES_A_FILE.iter().any(|w| p == w || p.ends_with(" help"))
            })
            .map(|(p, _)| p.as_str())
            .collect();
        assert!(missing.is_empty(), "no --json: {missing:?}");
        assert!(all.len() > 30, "{all:?}");
    }
}
