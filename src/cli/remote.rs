//! `case` commands through the shared service (`rightsdesk serve`).

use super::args::CaseCommand;
use super::{exit, fail, parse_id, print_json, Failure};
use crate::domain::Step;
use crate::remote::client::{Client, ClientError};
use crate::remote::{ErrorKind, Request, Response};

impl From<ClientError> for Failure {
    fn from(e: ClientError) -> Self {
        Failure::from_client(&e)
    }
}

impl Failure {
    /// The service's answer as an exit code: refused 3, conflict 7, else 1.
    pub(crate) fn from_client(e: &ClientError) -> Self {
        let code = match e {
            ClientError::Service {
                kind: ErrorKind::Refused,
                ..
            } => exit::REFUSED,
            ClientError::Service {
                kind: ErrorKind::Conflict,
                ..
            } => exit::CONFLICT,
            _ => exit::FAILED,
        };
        fail(code, e.to_string())
    }
}

fn show(view: &serde_json::Value, json: bool) {
    if json {
        print_json(view);
    } else {
        println!(
            "{}: {} — {}",
            view["id"].as_str().unwrap_or(""),
            view["state"].as_str().unwrap_or(""),
            crate::domain::text::inert(view["clock"].as_str().unwrap_or(""))
        );
    }
}

pub fn run_case(
    mut client: Client,
    cmd: &CaseCommand,
    socket: &std::path::Path,
    home: &std::path::Path,
) -> Result<(), Failure> {
    let mut step = |id: &str, step: Step, on, json: bool| -> Result<(), Failure> {
        let r = client.call(&Request::Step {
            id: parse_id(id)?,
            step,
            on,
            expected_version: None,
        })?;
        if let Response::Case { view, .. } = r {
            show(&view, json);
        }
        Ok(())
    };
    if let Some((id, s, on, json)) = super::as_step(cmd)? {
        return step(id, s, on, json);
    }
    match cmd {
        CaseCommand::Open(a) => {
            // The service's day, when not given (both run on one server).
            let new = super::new_case_from(a, chrono::Local::now().date_naive());
            let Response::Case { case, view } = client.call(&Request::Open { new })? else {
                return Err(fail(
                    exit::FAILED,
                    "the service answered something unexpected",
                ));
            };
            if a.json {
                print_json(&view);
            } else {
                println!("{}", case.id);
            }
            Ok(())
        }
        CaseCommand::Show { id, json } => {
            let Response::Case { view, .. } = client.call(&Request::Case { id: parse_id(id)? })?
            else {
                return Err(fail(
                    exit::FAILED,
                    "the service answered something unexpected",
                ));
            };
            show(&view, *json);
            Ok(())
        }
        CaseCommand::List { json, all, .. } => {
            // Pages of cases; each clock computed here with the service's calendar.
            let backend = crate::remote::backend::Backend::from(
                crate::remote::backend::Link::connect(socket, home)?,
            );
            let views: Vec<_> = backend
                .queue()?
                .iter()
                .filter(|v| *all || v.case.state.is_open())
                .map(crate::cli::json::case_json)
                .collect();
            if *json {
                print_json(&views);
            } else {
                for v in &views {
                    show(v, false);
                }
            }
            Ok(())
        }
        CaseCommand::Plan {
            id,
            accept,
            skip,
            json,
        } => {
            let backend = crate::remote::backend::Backend::from(
                crate::remote::backend::Link::connect(socket, home)?,
            );
            super::rights::plan(&backend, &parse_id(id)?, *accept, skip, *json)
        }
        CaseCommand::Letter { id } => {
            let Response::Letter { report } =
                client.call(&Request::Letter { id: parse_id(id)? })?
            else {
                return Err(fail(
                    exit::FAILED,
                    "the service answered something unexpected",
                ));
            };
            print!("{}", crate::domain::text::inert(&report.to_text()));
            Ok(())
        }
        _ => unreachable!("every step command was taken by as_step above"),
    }
}
