//! `rightsdesk lookup`: one query, or many from stdin with the index loaded once.

use super::{exit, fail, print_json, Failure};
use crate::domain::text::inert;
use crate::lookup::Group;
use crate::remote::backend::Backend;
use std::io::BufRead;
use std::time::Instant;

/// One lookup through the desk's one handle (the store's index, or the
/// service's): the groups as the faces show them.
fn find(desk: &Backend, q: &str, limit: usize) -> Result<Vec<Group>, Failure> {
    Ok(desk
        .lookup(q.to_string(), limit)?
        .groups
        .into_iter()
        .map(Into::into)
        .collect())
}

pub fn run(
    desk: &Backend,
    query: Option<&str>,
    stdin: bool,
    limit: usize,
    timings: bool,
    json: bool,
) -> Result<(), Failure> {
    let t0 = Instant::now();
    // The index is built when first asked for (the service builds its own
    // when it starts): wait for it, or hear why it cannot be built.
    let state = desk.wait_for_index()?;
    let loaded = t0.elapsed();
    if !stdin {
        let q = query.ok_or_else(|| fail(exit::USAGE, "give a QUERY, or --stdin"))?;
        let groups = find(desk, q, limit)?;
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
        let groups = find(desk, &q, limit)?;
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
        let (records, subjects) = (state.records, state.subjects);
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
            // The record as `case link --record` takes it.
            outln!(
                "  {:<20} {:<30} {} (last activity {last})  [{}:{}]",
                h.source,
                inert(&h.name),
                inert(&h.emails.join(", ")),
                h.source,
                inert(&h.record)
            );
            if let Some(m) = &h.mentions {
                outln!(
                    "  {:<20} MENTIONS (found in its title, not a record of theirs): {}",
                    "",
                    inert(m)
                );
            }
        }
    }
}
