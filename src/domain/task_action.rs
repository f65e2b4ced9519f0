//! The task actions the desk carries out itself (it writes a register for
//! them): named here, apart from the plan that proposes them and the
//! closure that checks them.

/// Actions the desk carries out itself when the plan is accepted.
pub const ACTION_MARK_BACKUP: &str = "mark backup for re-erasure on restore";
pub const ACTION_SUPPRESS: &str = "add to suppression list";

/// Art. 21(1): the source's processing on legitimate interests is weighed
/// against the objection. Done: it stopped; exempt: it goes on, with the
/// compelling legitimate grounds in the note (stated to the person).
pub const ACTION_WEIGH: &str = "weigh the objection: stop unless compelling grounds";
