use clap::Parser;
use rightsdesk::cli::{self, args::Cli, exit};
use rightsdesk::remote::backend::{Backend, Link};
use rightsdesk::service::{demo, Desk};

// Imports and the lookup index's writing are allocation-bound (glibc's
// malloc was a third of an import's time, threads contending on its
// arenas); mimalloc's per-thread heaps take most of that away.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    // The desk's files hold personal data: whatever the caller's umask, nothing
    // it creates is readable by others.
    // SAFETY: umask only changes this process's file-creation mask.
    unsafe {
        libc::umask(0o077);
    }
    let args = Cli::parse();
    let code = match &args.command {
        Some(command) => match cli::run(&args, command) {
            Ok(()) => exit::OK,
            Err(f) => {
                report(&f);
                f.code
            }
        },
        None => match open_desk(&args) {
            Ok(()) => exit::OK,
            Err(f) => {
                report(&f);
                f.code
            }
        },
    };
    std::process::exit(code);
}

/// A failure on stderr. Messages quote file names and cells from outside
/// (an import refusal names the file and shows the bad cell): inert here,
/// whatever produced them.
fn report(f: &cli::Failure) {
    rightsdesk::errln!(
        "rightsdesk: {}",
        rightsdesk::domain::text::inert_lines(&f.message)
    );
}

/// `rightsdesk` opens the desk on the real store; `--demo` on a throwaway one.
fn open_desk(args: &Cli) -> Result<(), cli::Failure> {
    let failed = |e: &dyn std::fmt::Display| cli::Failure {
        code: exit::FAILED,
        message: e.to_string(),
    };
    let _demo_dir;
    let dir = cli::data_dir(args);
    rightsdesk::store::files::keep_outputs_out_of(&dir);
    let door = if args.demo {
        rightsdesk::remote::Door::Store
    } else {
        rightsdesk::remote::door(&dir).map_err(|e| failed(&e))?
    };
    let desk: Backend = if let rightsdesk::remote::Door::Service(socket) = door {
        // `rightsdesk serve` owns the store: work through it (other officers'
        // changes then show up here as they are made).
        // This officer's own directory: preferences, key bindings, exports.
        // The officer's own directory: --data-dir / RIGHTSDESK_DATA_DIR when
        // given, else the platform default.
        let home = dir.clone();
        let _ = rightsdesk::store::ensure_private_dir(&home);
        Link::connect(&socket, &home)?.into()
    } else if args.demo {
        let dir = tempfile::Builder::new()
            .prefix("rightsdesk-demo-")
            .tempdir()
            .map_err(|e| failed(&e))?;
        let mut desk = Desk::open(dir.path())?;
        let today = desk.today();
        demo::seed(&mut desk, today).map_err(|e| failed(&e))?;
        _demo_dir = dir;
        desk.into()
    } else {
        Desk::open(&dir)?.into()
    };
    if !std::io::IsTerminal::is_terminal(&std::io::stdout()) {
        return Err(cli::Failure {
            code: exit::USAGE,
            message: "the desk needs a terminal; use a subcommand (see --help) from scripts".into(),
        });
    }
    rightsdesk::tui::run(desk, args.demo, args.inbox.clone())
        .map(|_| ())
        .map_err(|e| failed(&e))
}
