//! The real binary run as a command on a data directory, as a shell would.

use std::path::Path;
use std::process::{Command, Output};

pub fn run(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rightsdesk"))
        .args(args)
        .env("RIGHTSDESK_DATA_DIR", dir)
        .env_remove("RIGHTSDESK_SOCKET")
        .env_remove("RUST_BACKTRACE")
        .output()
        .expect("run rightsdesk")
}

/// A command that must have worked; its stderr says why not.
pub fn succeeded(out: &Output) {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Runs a command that must work; its standard output.
pub fn ok(dir: &Path, args: &[&str]) -> String {
    let out = run(dir, args);
    assert!(
        out.status.success(),
        "{args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

pub fn json(dir: &Path, args: &[&str]) -> serde_json::Value {
    serde_json::from_str(&ok(dir, args)).expect("valid JSON")
}

/// Every file under `dir` holding `needle` (ASCII letters in any case):
/// what is left on disk after erasure, purge or rebuild.
pub fn files_holding(dir: &Path, needle: &[u8]) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if std::fs::read(&p)
                .unwrap_or_default()
                .windows(needle.len())
                .any(|w| w.eq_ignore_ascii_case(needle))
            {
                out.push(p.display().to_string());
            }
        }
    }
    out
}
