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
        let (first_tx, first_rx) = std::sync::mpsc::channel();
        let reader = std::thread::spawn(move || {
            let mut lines = Vec::new();
            for l in BufReader::new(stdout).lines().map_while(Result::ok) {
                if lines.is_empty() {
                    let _ = first_tx.send(());
                }
                lines.push(l);
            }
            lines
        });
        // The child is under way once it has acknowledged its first change
        // (waited for, however slow the machine); the kill then lands at a
        // random moment up to 280 ms into its stream of changes.
        first_rx
            .recv_timeout(Duration::from_secs(60))
            .unwrap_or_else(|_| panic!("round {round}: the child acknowledged nothing"));
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        std::thread::sleep(Duration::from_millis(rng % 280));
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
}
