//! Standard output for commands. A closed pipe (`rightsdesk audit log | head`)
//! is the reader saying it has enough: the command stops at once, silently,
//! with the status a shell gives a tool ended by SIGPIPE (128 + 13), instead
//! of `println!`'s panic and backtrace.

use std::io::Write;

/// Status of a command whose reader closed the pipe.
pub const CLOSED_PIPE: i32 = 128 + libc::SIGPIPE;

pub fn line(args: std::fmt::Arguments<'_>) {
    let mut o = std::io::stdout().lock();
    finish(writeln!(o, "{args}").and_then(|()| o.flush()));
}

pub fn text(args: std::fmt::Arguments<'_>) {
    let mut o = std::io::stdout().lock();
    finish(o.write_fmt(args).and_then(|()| o.flush()));
}

fn finish(r: std::io::Result<()>) {
    match r {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => std::process::exit(CLOSED_PIPE),
        Err(e) => {
            crate::errln!("rightsdesk: cannot write the output: {e}");
            std::process::exit(super::exit::FAILED);
        }
    }
}
