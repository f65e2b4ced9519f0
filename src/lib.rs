//! rightsdesk: a terminal desk for answering data-subject-rights requests.
//!
//! Layers (design.md §2), each knowing only those below it:
//! [`domain`] (pure rules) → [`store`] (sled) → [`service`] (what staff do) →
//! the faces ([`cli`], [`tui`]).

pub mod cli;
pub mod domain;
pub mod import;
pub mod lookup;
pub mod remote;
pub mod service;
pub mod store;
pub mod tui;
