//! What the lookup worker reports, and cases opened from a person found.

use super::*;

impl App {
    /// Applies what the lookup worker reports.
    pub(super) fn lookup_event(&mut self, ev: LookupEvent) {
        match ev {
            LookupEvent::Loading => self.index.loading = true,
            LookupEvent::Failed(why) => {
                self.index.loading = false;
                self.index.failed = Some(why);
                // What an earlier query found is not an answer to this one.
                if let Some(Popup::Lookup { groups, .. }) = self
                    .popups
                    .iter_mut()
                    .rev()
                    .find(|p| matches!(p, Popup::Lookup { .. }))
                {
                    groups.clear();
                }
            }
            LookupEvent::Loaded {
                records,
                subjects,
                millis,
            } => {
                self.index = IndexInfo {
                    loading: false,
                    records,
                    subjects,
                    millis,
                    failed: None,
                };
                // Re-run an open query against the fresh index.
                if let (Some(Popup::Lookup { query, .. }), Some(tx)) = (
                    self.popups
                        .iter()
                        .rev()
                        .find(|p| matches!(p, Popup::Lookup { .. })),
                    &self.lookup_tx,
                ) {
                    if !query.trim().is_empty() {
                        self.lookup_gen += 1;
                        let _ = tx.send(LookupRequest::Query {
                            gen: self.lookup_gen,
                            text: query.clone(),
                        });
                    }
                }
                if let Some(Popup::Lookup { gen, .. }) = self
                    .popups
                    .iter_mut()
                    .rev()
                    .find(|p| matches!(p, Popup::Lookup { .. }))
                {
                    *gen = self.lookup_gen;
                }
            }
            LookupEvent::Results {
                gen,
                groups,
                micros,
            } => {
                // Only the answer to what is typed now; older answers are stale.
                if let Some(Popup::Lookup {
                    gen: want,
                    groups: g,
                    selected,
                    micros: m,
                    query,
                }) = self
                    .popups
                    .iter_mut()
                    .rev()
                    .find(|p| matches!(p, Popup::Lookup { .. }))
                {
                    if *want == gen && !query.trim().is_empty() {
                        self.index.failed = None;
                        *g = groups;
                        *selected = 0;
                        *m = Some(micros);
                    }
                }
            }
            LookupEvent::Subject(Some(view)) => {
                if matches!(self.popups.last(), Some(Popup::Lookup { .. })) {
                    self.popups.push(Popup::Subject { view, selected: 0 });
                }
            }
            LookupEvent::Subject(None) => {
                self.say("that person's records are gone from the index (erased, or linked anew)")
            }
        }
    }

    /// Asks the lookup worker to read the index again (after records
    /// changed: an import, a split); flags need no reload, the index follows
    /// every change where the store is held.
    pub(super) fn refresh_index(&mut self) {
        if let Some(tx) = &self.lookup_tx {
            let _ = tx.send(LookupRequest::Refresh);
        }
    }

    /// The lookup's flags, from the cases the desk already holds in memory.
    pub fn flag_sets(&self) -> crate::lookup::FlagSets {
        let mut f = crate::service::flag_sets_of(
            self.queue.views.iter().map(|v| &v.case),
            self.desk.default_cc(),
        );
        // The registers are small (one row per suppressed identifier or mark).
        f.hashed = self.desk.hashed_flags().ok();
        f
    }

    /// Opens intake with the subject's identifiers filled in and its records attached.
    /// The form that adds a record of the lookup to the case on screen as
    /// the same person's; with no case open, says how to get one.
    pub(super) fn link_form(&mut self, record: &crate::domain::record::SourceRecord) {
        let open = match self.screen {
            Screen::Case(id) => self
                .case
                .as_ref()
                .filter(|v| v.case.id == id && v.case.state.is_open())
                .map(|_| id),
            Screen::Queue => None,
        };
        let Some(id) = open else {
            self.say("to add a record to a case, open the case (Enter in the queue), then / to find the record");
            return;
        };
        let mut form = Form::new(
            format!("Add to {id} as the same person"),
            vec![
                Field::text(
                    "record",
                    "Record",
                    &format!("{}:{}", record.source, record.key),
                    "SOURCE:KEY as the lookup shows it",
                ),
                Field::text(
                    "note",
                    "Why",
                    "",
                    "why this is the same person (kept in the case, audited)",
                ),
            ],
        );
        form.intro = vec![
            {
                use crate::tui::view::mask;
                let emails: Vec<String> = record
                    .emails
                    .iter()
                    .map(|e| mask::shown(self.masked, e, mask::email))
                    .collect();
                format!(
                    "{} · {}",
                    mask::shown(self.masked, record.display_name(), mask::name),
                    emails.join(", ")
                )
            },
            "Its e-mails and phones join the case: the plan, the erasure, the".into(),
            "suppression list and the backup marks will cover them.".into(),
        ];
        form.focus = 1;
        self.popups.push(Popup::Form {
            form,
            purpose: Purpose::LinkIdentity(id),
        });
    }

    pub(super) fn intake_for(&mut self, view: &SubjectView) {
        let mut form = intake_form(self.desk.today());
        // The name most records give; on a tie, the one with its accents (a
        // system that strips them is the usual reason for two spellings).
        let mut counts: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
        for n in view.records.iter().flat_map(|r| r.names.first()) {
            *counts.entry(n.as_str()).or_default() += 1;
        }
        let name = counts
            .into_iter()
            .max_by_key(|(n, c)| {
                (
                    *c,
                    n.chars().filter(|ch| !ch.is_ascii()).count(),
                    std::cmp::Reverse(*n),
                )
            })
            .map(|(n, _)| n.to_string())
            .unwrap_or_default();
        let mut emails: Vec<String> = Vec::new();
        let mut phones: Vec<String> = Vec::new();
        for r in &view.records {
            for e in &r.emails {
                if let Ok(e) = normalise_email(e) {
                    if !emails.contains(&e) {
                        emails.push(e);
                    }
                }
            }
            for p in &r.phones {
                if let Ok(p) = normalise_phone(p) {
                    if !phones.contains(&p) {
                        phones.push(p);
                    }
                }
            }
        }
        form.get_mut("name").text = name;
        form.get_mut("emails").text = emails.join(", ");
        form.get_mut("phones").text = phones.join(", ");
        self.intake_message = None;
        self.intake_records = view
            .records
            .iter()
            .map(|r| format!("{}:{}", r.source, r.key))
            .collect();
        self.popups.clear();
        self.popups.push(Popup::Form {
            form,
            purpose: Purpose::Intake,
        });
    }
}
