//! The domain: pure types and rules. No I/O, no store, no terminal.

pub mod audit;
pub mod calendar;
pub mod case;
pub mod change;
pub mod clock;
pub mod closure;
pub mod closure_log;
pub mod deadline;
pub mod fold;
pub mod guide;
pub mod identifier;
pub mod ids;
pub mod letter_text;
pub mod lifecycle;
mod named;
pub mod notice;
pub mod plan;
pub mod pseudonym;
pub mod record;
pub mod register;
pub mod request_words;
pub mod response;
pub mod right;
pub mod settings;
pub mod source;
pub mod task_action;
#[cfg(test)]
pub(crate) mod testkit;
pub mod text;

pub use calendar::HolidayCalendar;
pub use case::{
    Action, Case, CaseEvent, Channel, Closure, Outcome, Relation, Requester, State, Subject, Task,
    TaskStatus, VerificationMethod, VerificationOutcome,
};
pub use clock::Clock;
pub use ids::CaseId;
pub use lifecycle::{NewCase, PlannedRef, Refusal, Step, StepContext};
pub use right::Right;
pub use settings::Settings;
pub use source::Catalogue;
