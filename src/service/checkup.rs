//! `rightsdesk doctor`'s checks of the setup, beyond the data directory's
//! files: the settings, the holiday calendar's reach, the team socket and
//! the PDF font. Like the rest of the doctor it reads and changes nothing.

use crate::store::doctor::{advice, ok, problem, Finding};
use chrono::{Datelike, NaiveDate};
use std::path::Path;

/// Names in the scripts the organisation's people write in: every one must
/// reach a PDF as itself.
const SCRIPTS: &str =
    "Müller Ó Súilleabháin Łukasz Čapek Đặng Øyvind Şahin İlkay Ελένη Дмитрий Ярослава";

pub fn setup(data_dir: &Path, today: NaiveDate) -> Vec<Finding> {
    let mut out = Vec::new();
    let file = data_dir.join(super::paths::SETTINGS_FILE);
    let settings = match std::fs::read_to_string(&file) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            out.push(advice(format!(
                "{} is not there yet: the first start writes it with the shipped organisation's name; edit it then",
                file.display()
            )));
            Some(crate::domain::Settings::default())
        }
        Err(e) => {
            out.push(problem(format!("{} cannot be read: {e}", file.display())));
            None
        }
        Ok(text) => match crate::domain::Settings::parse(&file.display().to_string(), &text) {
            Ok(s) => {
                out.push(ok(format!(
                    "{} reads (organisation: {})",
                    file.display(),
                    crate::domain::text::inert(&s.organisation)
                )));
                Some(s)
            }
            Err(e) => {
                out.push(problem(e.to_string()));
                None
            }
        },
    };
    if let Some(settings) = settings {
        named_and_dated(&settings, data_dir, today, &mut out);
    }
    match super::paths::load_catalogue(data_dir) {
        Ok(c) => out.push(ok(format!(
            "the catalogue of sources reads: {} sources ({})",
            c.sources.len(),
            if data_dir.join(super::paths::SOURCES_FILE).exists() {
                "the organisation's sources.toml"
            } else {
                "the shipped one"
            }
        ))),
        Err(e) => out.push(problem(e.to_string())),
    }
    // Every start stops at a letters file that does not read: say so here.
    if std::fs::symlink_metadata(data_dir.join(super::paths::LETTERS_FILE)).is_ok() {
        match super::paths::load_letters(data_dir) {
            Ok(_) => out.push(ok(
                "the organisation's letters.toml reads: every sentence keeps its facts",
            )),
            Err(e) => out.push(problem(e.to_string())),
        }
    }
    let socket = crate::remote::socket_path(data_dir);
    match std::fs::symlink_metadata(&socket) {
        Err(_) => out.push(ok(format!(
            "no team service socket at {}: the desk and commands open the store themselves",
            socket.display()
        ))),
        Ok(m) if !std::os::unix::fs::FileTypeExt::is_socket(&m.file_type()) => out.push(problem(
            format!("{} is not a socket: remove it or set RIGHTSDESK_SOCKET", socket.display()),
        )),
        Ok(_) => match std::os::unix::net::UnixStream::connect(&socket) {
            Ok(_) => out.push(ok(format!(
                "a team service answers on {}: the desk and commands go through it",
                socket.display()
            ))),
            // Commands open the store themselves meanwhile: worth a look,
            // not a failure.
            Err(e) => out.push(advice(format!(
                "{} is there but nothing answers ({e}): start `rightsdesk serve` (or its systemd unit) if the team works through it, or remove the stale socket",
                socket.display()
            ))),
        },
    }
    let missing = super::pdf::missing_glyphs(SCRIPTS);
    if missing.is_empty() {
        out.push(ok(
            "the PDF font (DejaVu Sans, built in) has Latin, Greek and Cyrillic names as themselves",
        ));
    } else {
        out.push(problem(format!(
            "the PDF font lacks {}: names with them would not print",
            missing.iter().collect::<String>()
        )));
    }
    out
}

/// The organisation's name, and whether the calendar reaches far enough.
fn named_and_dated(
    settings: &crate::domain::Settings,
    data_dir: &Path,
    today: NaiveDate,
    out: &mut Vec<Finding>,
) {
    if settings.organisation == crate::domain::Settings::default().organisation {
        out.push(advice(format!(
            "letters and packages go out in the name of '{}', the shipped example: set `organisation` in {}",
            settings.organisation,
            data_dir.join(super::paths::SETTINGS_FILE).display()
        )));
    }
    // A case received today may be due three months on (an extension):
    // the calendar must know that year's holidays.
    match super::paths::load_calendar(data_dir, &settings.calendar) {
        Err(e) => out.push(problem(e.to_string())),
        Ok(cal) => {
            let far = today + chrono::Months::new(3);
            if cal.covers(far) {
                out.push(ok(format!(
                    "the holiday calendar '{}' knows {} to {}",
                    settings.calendar, cal.first_year, cal.last_year
                )));
            } else {
                out.push(problem(format!(
                    "the holiday calendar '{}' ends in {}: due dates in {} would ignore its holidays; install a rightsdesk with a newer calendar",
                    settings.calendar,
                    cal.last_year,
                    far.year()
                )));
            }
        }
    }
}
