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

pub fn run_case(mut client: Client, cmd: &CaseCommand) -> Result<(), Failure> {
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
                return Err(fail(exit::FAILED, "the service answered something unexpected"));
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
                return Err(fail(exit::FAILED, "the service answered something unexpected"));
            };
            show(&view, *json);
            Ok(())
        }
        CaseCommand::List { json, all, .. } => {
            let Response::Cases { views, .. } = client.call(&Request::Queue)? else {
                return Err(fail(exit::FAILED, "the service answered something unexpected"));
            };
            let views: Vec<_> = views
                .into_iter()
                .filter(|v| *all || v["state"] != "closed")
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
        _ => Err(fail(
            exit::FAILED,
            "this case command does not go through `rightsdesk serve` yet (list, show, open and the steps do); run it as the service's user with the service stopped",
        )),
    }
}
