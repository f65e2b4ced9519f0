//! Crash safety: a child makes case changes and prints each one the desk
//! acknowledged; it is killed with SIGKILL at a random moment, round after
//! round. After each kill the store must open, hold every acknowledged change,
//! prove its audit chain, and hold no half-applied change (`verify` checks each
//! case against the hash its last audit entry bound, so a case written without
//! its entry, or an entry without its case, fails).

use rightsdesk::domain::CaseId;
use rightsdesk::service::Desk;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

const ROUNDS: u64 = 50;

#[test]
fn sigkill_at_random_moments_loses_no_acknowledged_change() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path();
    let mut rng: u64 = 0x9E37_79B9_7F4A_7C15;
    let (mut acked_total, mut verified, mut losses) = (0usize, 0u64, 0usize);
    for round in 1..=ROUNDS {
        let mut child = Command::new(env!("CARGO_BIN_EXE_rightsdesk"))
            .args(["demo", "churn", "--seed", &round.to_string()])
            .env("RIGHTSDESK_DATA_DIR", dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let reader = std::thread::spawn(move || {
            BufReader::new(stdout)
                .lines()
                .map_while(Result::ok)
                .collect::<Vec<String>>()
        });
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        // Between 20 and 300 ms: sometimes before the first change, mostly mid-stream.
        std::thread::sleep(Duration::from_millis(20 + rng % 280));
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        let lines = reader.join().unwrap();

        let desk = Desk::open(dir).unwrap_or_else(|e| {
            panic!("round {round}: the store does not open after SIGKILL: {e}")
        });
        let report = desk
            .verify_audit()
            .unwrap_or_else(|e| panic!("round {round}: {e}"));
        verified += 1;
        for l in &lines {
            let mut parts = l.split_whitespace();
            let (Some("ack"), Some(id), Some(version)) = (parts.next(), parts.next(), parts.next())
            else {
                continue;
            };
            let id: CaseId = id.parse().unwrap();
            let version: u64 = version.parse().unwrap();
            acked_total += 1;
            match desk.case(id) {
                Ok(v) if v.case.version >= version => {}
                _ => losses += 1,
            }
        }
        assert_eq!(
            report.cases as usize,
            desk.queue().unwrap().len(),
            "round {round}: every case is bound by the chain"
        );
    }
    eprintln!("crash harness: {ROUNDS} rounds, {acked_total} acknowledged changes checked, {losses} lost, {verified}/{ROUNDS} chain verifications passed");
    assert_eq!(losses, 0);
    assert!(
        acked_total > ROUNDS as usize,
        "the child made progress ({acked_total} acks)"
    );
}
