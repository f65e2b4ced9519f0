//! `rightsdesk lookup`: one query, or many from stdin with the index loaded once.

use super::{exit, fail, print_json, Failure};
use crate::domain::text::inert;
use crate::lookup::{matcher, Group};
use std::io::BufRead;
use std::time::Instant;

/// Where the queries go: an index loaded here, or the service's.
enum Finder {
    Own(
        Box<crate::lookup::Index>,
        Box<fuzzy_matcher::skim::SkimMatcherV2>,
    ),
    Service(Box<crate::remote::backend::Link>),
}

impl Finder {
    fn open(desk: &crate::remote::backend::Backend) -> Result<Finder, Failure> {
        match desk {
            crate::remote::backend::Backend::Local(d) => {
                Ok(Finder::Own(Box::new(d.load_index()?), Box::new(matcher())))
            }
            crate::remote::backend::Backend::Service(l) => {
                // The service builds its index when it starts: wait for it.
                while !l.index_state()?.ready {
                    std::thread::sleep(std::time::Duration::from_millis(200));
                }
                Ok(Finder::Service(Box::new(l.clone())))
            }
        }
    }

    fn lookup(&self, q: &str, limit: usize) -> Result<Vec<Group>, Failure> {
        Ok(match self {
            Finder::Own(index, m) => index.lookup(m, q, limit),
            Finder::Service(l) => l.lookup(q, limit)?,
        })
    }

    fn size(&self) -> Result<(usize, usize), Failure> {
        Ok(match self {
            Finder::Own(index, _) => (index.len(), index.subjects()),
            Finder::Service(l) => {
                let s = l.index_state()?;
                (s.records, s.subjects)
            }
        })
    }
}

pub fn run(
    desk: &crate::remote::backend::Backend,
    query: Option<&str>,
    stdin: bool,
    limit: usize,
    timings: bool,
    json: bool,
) -> Result<(), Failure> {
    let t0 = Instant::now();
    let finder = Finder::open(desk)?;
    let loaded = t0.elapsed();
    if !stdin {
        let q = query.ok_or_else(|| fail(exit::USAGE, "give a QUERY, or --stdin"))?;
        let groups = finder.lookup(q, limit)?;
        show(q, &groups, json, false);
        return Ok(());
    }
    let mut times = Vec::new();
    for line in std::io::stdin().lock().lines() {
        let q = line.map_err(|e| fail(exit::FAILED, format!("stdin: {e}")))?;
        if q.trim().is_empty() {
            continue;
        }
        let t = Instant::now();
        let groups = finder.lookup(&q, limit)?;
        times.push(t.elapsed());
        show(&q, &groups, json, true);
    }
    if timings {
        times.sort();
        let pct = |p: f64| {
            times
                .get(((times.len() as f64 - 1.0) * p).round() as usize)
                .map(|d| d.as_secs_f64() * 1000.0)
                .unwrap_or(0.0)
        };
        let (records, subjects) = finder.size()?;
        crate::errln!(
            "lookup: {records} records, {subjects} subjects, index loaded in {:.2}s; {} queries: p50 {:.2} ms, p95 {:.2} ms, max {:.2} ms",
            loaded.as_secs_f64(),
            times.len(),
            pct(0.5),
            pct(0.95),
            pct(1.0)
        );
    }
    Ok(())
}

fn show(q: &str, groups: &[Group], json: bool, stream: bool) {
    if json {
        let hits: Vec<_> = groups.iter().flat_map(|g| g.hits.iter()).collect();
        if stream {
            outln!(
                "{}",
                crate::domain::text::json_inert(
                    &serde_json::json!({ "query": q, "hits": hits }),
                    false
                )
            );
        } else {
            print_json(&hits);
        }
        return;
    }
    if groups.is_empty() {
        outln!("{}: no match", inert(q));
    }
    for g in groups {
        let flags = g.flags.words().join(" ");
        outln!("{} {}", g.subject, flags);
        for h in &g.hits {
            let last = h
                .last_activity
                .map(|d| d.to_string())
                .unwrap_or_else(|| "-".into());
            outln!(
                "  {:<20} {:<30} {} (last activity {last})",
                h.source,
                inert(&h.name),
                inert(&h.emails.join(", "))
            );
        }
    }
}
