use clap::{CommandFactory, Parser};
use rightsdesk::cli::{self, args::Cli, exit};

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
                eprintln!("rightsdesk: {}", f.message);
                f.code
            }
        },
        None => {
            let _ = Cli::command().print_help();
            exit::USAGE
        }
    };
    std::process::exit(code);
}
