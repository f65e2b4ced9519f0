//! Terminal duties: a guard that undoes exactly what it enabled, on every exit
//! path including panics; OSC 52 for the clipboard.

use ratatui::crossterm::cursor::{Hide, Show};
use ratatui::crossterm::event::{DisableBracketedPaste, EnableBracketedPaste};
use ratatui::crossterm::execute;
use ratatui::crossterm::terminal::{
    disable_raw_mode, enable_raw_mode, EnterAlternateScreen, LeaveAlternateScreen,
};
use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, Ordering};

/// Whether the desk holds the terminal (raw mode, alternate screen). Restoring
/// twice is not harmless: a second "leave the alternate screen" restores the
/// cursor saved on entry, so after a panic the shell's prompt would overwrite
/// the panic message. Only the first restore acts.
static TAKEN: AtomicBool = AtomicBool::new(false);

/// Raw mode + alternate screen + hidden cursor while alive.
pub struct TerminalGuard {
    active: bool,
}

impl TerminalGuard {
    pub fn enter() -> io::Result<TerminalGuard> {
        enable_raw_mode()?;
        // Bracketed paste: a pasted line arrives whole, not as key presses
        // (its line break would otherwise submit a form).
        if let Err(e) = execute!(
            io::stdout(),
            EnterAlternateScreen,
            Hide,
            EnableBracketedPaste
        ) {
            let _ = disable_raw_mode();
            return Err(e);
        }
        TAKEN.store(true, Ordering::SeqCst);
        Ok(TerminalGuard { active: true })
    }

    /// Gives the terminal back (Ctrl-Z); `resume` takes it again.
    pub fn suspend(&mut self) {
        if self.active {
            restore();
            self.active = false;
        }
    }

    pub fn resume(&mut self) -> io::Result<()> {
        if !self.active {
            enable_raw_mode()?;
            execute!(
                io::stdout(),
                EnterAlternateScreen,
                Hide,
                EnableBracketedPaste
            )?;
            TAKEN.store(true, Ordering::SeqCst);
            self.active = true;
        }
        Ok(())
    }

    /// The terminal is gone (hangup): touch nothing on the way out.
    pub fn abandon(mut self) {
        self.active = false;
        TAKEN.store(false, Ordering::SeqCst);
    }
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        if self.active {
            restore();
        }
    }
}

/// Leaves the alternate screen, shows the cursor and ends raw mode; errors are
/// ignored because this runs on the way out.
pub fn restore() {
    if TAKEN.swap(false, Ordering::SeqCst) {
        let _ = execute!(
            io::stdout(),
            DisableBracketedPaste,
            LeaveAlternateScreen,
            Show
        );
        let _ = disable_raw_mode();
    }
}

/// Restores the terminal before the panic message prints, so it is readable.
pub fn install_panic_hook() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        restore();
        previous(info);
    }));
}

/// The OSC 52 sequence that puts `text` on the clipboard of the terminal the
/// staff member sits at, even over SSH. Only our own case ids go through it.
pub fn osc52(text: &str) -> String {
    format!("\u{1b}]52;c;{}\u{7}", base64(text.as_bytes()))
}

pub fn write_osc52(out: &mut impl Write, text: &str) -> io::Result<()> {
    out.write_all(osc52(text).as_bytes())?;
    out.flush()
}

fn base64(bytes: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(T[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn base64_matches_rfc4648_vectors() {
        for (i, o) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(super::base64(i.as_bytes()), o);
        }
        assert_eq!(
            super::osc52("DSR-2026-0001"),
            "\u{1b}]52;c;RFNSLTIwMjYtMDAwMQ==\u{7}"
        );
    }
}
