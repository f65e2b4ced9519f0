//! rightsdesk: a terminal desk for answering data-subject-rights requests.
//!
//! Layers (ARCHITECTURE.md), each knowing only those below it:
//! [`domain`] (pure rules) → [`store`] (sled) → [`service`] (what staff do) →
//! the faces ([`cli`], [`tui`]).

/// `eprintln!` that never panics: a diagnostic to a closed or full stderr
/// (`2>&1 | head`, a journal gone away) is dropped, and the work goes on.
#[macro_export]
macro_rules! errln {
    ($($t:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr().lock(), $($t)*);
    }};
}

pub mod cli;
pub mod domain;
pub mod import;
pub mod inbox;
pub mod lookup;
pub mod remote;
pub mod service;
pub mod store;
pub mod tui;
