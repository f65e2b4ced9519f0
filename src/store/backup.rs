//! The long-term backup and migration path, independent of sled's format:
//! every tree as JSON lines, with a header and a trailer that holds the count
//! and SHA-256 of the lines before it.

use super::{Store, StoreError};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::io::{BufRead, Write};

pub const FORMAT: &str = "rightsdesk-backup";
pub const VERSION: u32 = 1;
/// The shape of the rows a backup holds. The store keeps its records in
/// blocks (store schema 2 and later), but a backup still holds one row per record in
/// `records`, as every desk since schema 1 reads it: blocks are how one
/// store keeps them, not what a backup carries.
const BACKUP_SCHEMA: u32 = 1;
/// The tree a backup names for the source records.
const RECORDS: &str = "records";
const TREES: &[&str] = &[
    "meta",
    "cases",
    "audit",
    "records",
    "splits",
    "suppression",
    "marks",
];

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if s.len() % 2 != 0 {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("{0}")]
    Store(#[from] StoreError),
    #[error("backup {file}: {why}")]
    Bad { file: String, why: String },
    #[error("backup {file}: {source}")]
    Io {
        file: String,
        source: std::io::Error,
    },
}

impl Store {
    /// Writes every tree as JSON lines; returns the number of records written.
    pub fn write_backup(&self, out: &mut impl Write, created: &str) -> Result<u64, std::io::Error> {
        let mut hasher = Sha256::new();
        let mut n = 0u64;
        let line = |out: &mut dyn Write, v: Value, hasher: &mut Sha256| -> std::io::Result<()> {
            // Names and notes arrive as they were typed: controls and bidi
            // marks are escaped (\u202e), so the file is inert to read and
            // the JSON reader still gets the exact bytes back.
            let s = crate::domain::text::json_inert(&v, false);
            hasher.update(s.as_bytes());
            hasher.update(b"\n");
            writeln!(out, "{s}")
        };
        line(
            out,
            json!({ "format": FORMAT, "version": VERSION, "schema": BACKUP_SCHEMA, "created": created }),
            &mut hasher,
        )?;
        for name in TREES {
            let tree = self.db.open_tree(name).map_err(std::io::Error::other)?;
            let rows: Box<dyn Iterator<Item = sled::Result<super::record_blocks::Row>>> =
                match *name {
                    RECORDS => Box::new(self.records.iter()),
                    _ => Box::new(
                        tree.iter()
                            .map(|kv| kv.map(|(k, v)| (k.to_vec(), v.to_vec()))),
                    ),
                };
            for kv in rows {
                let (k, mut v) = kv.map_err(std::io::Error::other)?;
                // The store keeps records in blocks (schema 2 on); the backup
                // holds the rows every desk since 1 reads, and says so here
                // as in its header, so an older desk restores it and can
                // open what it restored.
                if *name == "meta" && k.as_slice() == super::KEY_SCHEMA {
                    v = BACKUP_SCHEMA.to_string().into_bytes();
                }
                // Values are kept byte for byte (the audit chain binds each case
                // document's exact bytes): as text when UTF-8, else as hex.
                let value = match std::str::from_utf8(&v) {
                    Ok(text) => json!({ "text": text }),
                    Err(_) => json!({ "hex": hex(&v) }),
                };
                line(
                    out,
                    json!({ "tree": name, "key": hex(&k), "value": value }),
                    &mut hasher,
                )?;
                n += 1;
            }
        }
        let digest = hex(&hasher.finalize());
        writeln!(
            out,
            "{}",
            json!({ "end": true, "records": n, "sha256": digest })
        )?;
        out.flush()?;
        Ok(n)
    }

    /// Fills an empty store from a backup; refuses a damaged or foreign file
    /// before writing anything. The file is read twice — checked whole
    /// first, then written in batches — so memory does not grow with it
    /// (holding every row made a rebuild of a million records take 11 GB).
    /// The store being filled is a new one beside the old (`store.rebuilding`,
    /// `store.restoring`) that appears only once whole: a kill between
    /// batches leaves nothing anyone opens.
    pub fn read_backup<R: BufRead + std::io::Seek>(
        &self,
        file: &str,
        mut input: R,
    ) -> Result<u64, BackupError> {
        let bad = |why: String| BackupError::Bad {
            file: file.to_string(),
            why,
        };
        if !self.cases.is_empty() || !self.audit.is_empty() || !self.records.is_empty() {
            return Err(bad(
                "the target store is not empty: restore into a new data directory".into(),
            ));
        }
        let checked = each_row(file, &mut input, &mut |_, _, _| Ok(()))?;
        input.rewind().map_err(|source| BackupError::Io {
            file: file.to_string(),
            source,
        })?;
        let mut trees: Vec<(sled::Tree, sled::Batch, usize)> = Vec::new();
        for name in TREES {
            let tree = self.db.open_tree(name).map_err(|e| self.sled_err(e))?;
            trees.push((tree, sled::Batch::default(), 0));
        }
        // Records go into blocks (in the backup's order, which is the
        // key order they were written in: each block is written once).
        let mut records: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
        let put = |rows: Vec<(Vec<u8>, Vec<u8>)>| {
            let rows = rows.into_iter().map(|r| (r, ())).collect();
            self.records
                .put(rows, &|_, _: &()| true)
                .map(|_| ())
                .map_err(|e| BackupError::Store(self.sled_err(e)))
        };
        let written = each_row(file, &mut input, &mut |tree, k, v| {
            if tree == RECORDS {
                records.push((k, v));
                if records.len() == RESTORE_BATCH {
                    put(std::mem::take(&mut records))?;
                }
                return Ok(());
            }
            let at = TREES.iter().position(|t| *t == tree).expect("checked");
            let (t, batch, n) = &mut trees[at];
            batch.insert(k, v);
            *n += 1;
            if *n == RESTORE_BATCH {
                t.apply_batch(std::mem::take(batch))
                    .map_err(|e| BackupError::Store(self.sled_err(e)))?;
                *n = 0;
            }
            Ok(())
        })?;
        // The file changed between the two reads: what was written is not
        // what was checked.
        if written != checked {
            return Err(bad("the file changed while it was read".into()));
        }
        for (t, batch, _) in trees {
            t.apply_batch(batch).map_err(|e| self.sled_err(e))?;
        }
        put(records)?;
        // The rows came as schema 1; the records are now in blocks, which
        // only a desk of this schema reads.
        self.meta
            .insert(
                super::KEY_SCHEMA,
                super::SCHEMA_VERSION.to_string().as_bytes(),
            )
            .map_err(|e| self.sled_err(e))?;
        // The cases came in around the deadlines tree: the next desk
        // rebuilds it.
        self.forget_deadlines()?;
        self.flush()?;
        Ok(checked.0)
    }
}

/// What takes each row of a backup: (tree, key, value).
type RowSink<'a> = dyn FnMut(&str, Vec<u8>, Vec<u8>) -> Result<(), BackupError> + 'a;

/// Rows written to the store at a time during a restore or rebuild.
const RESTORE_BATCH: usize = 10_000;

/// Reads a backup's lines, checking the header, each row and the trailer
/// (count and SHA-256 of the lines before it), and hands each row (tree,
/// key, value) to `row`. Returns the count and the digest.
fn each_row<R: BufRead>(
    file: &str,
    input: &mut R,
    row: &mut RowSink<'_>,
) -> Result<(u64, String), BackupError> {
    let bad = |why: String| BackupError::Bad {
        file: file.to_string(),
        why,
    };
    let mut hasher = Sha256::new();
    let mut rows = 0u64;
    let mut trailer = None;
    for (i, line) in input.lines().enumerate() {
        let line = line.map_err(|source| BackupError::Io {
            file: file.to_string(),
            source,
        })?;
        if trailer.is_some() {
            return Err(bad(format!("line {}: data after the end marker", i + 1)));
        }
        let v: Value = serde_json::from_str(&line)
            .map_err(|e| bad(format!("line {}: not JSON ({e})", i + 1)))?;
        if i == 0 {
            if v["format"] != FORMAT || v["version"] != VERSION {
                return Err(bad(
                    "line 1: not a rightsdesk backup of a version this desk reads".into(),
                ));
            }
            if v["schema"] != BACKUP_SCHEMA {
                return Err(bad(format!(
                    "line 1: store schema {} (this desk reads {BACKUP_SCHEMA})",
                    v["schema"]
                )));
            }
        } else if v.get("end").is_some() {
            trailer = Some(v);
            continue;
        } else {
            let tree = v["tree"]
                .as_str()
                .filter(|t| TREES.contains(t))
                .ok_or_else(|| bad(format!("line {}: unknown tree", i + 1)))?;
            let key = v["key"]
                .as_str()
                .and_then(unhex)
                .ok_or_else(|| bad(format!("line {}: bad key", i + 1)))?;
            let value = match (v["value"]["text"].as_str(), v["value"]["hex"].as_str()) {
                (Some(t), _) => t.as_bytes().to_vec(),
                (None, Some(h)) => {
                    unhex(h).ok_or_else(|| bad(format!("line {}: bad value", i + 1)))?
                }
                _ => return Err(bad(format!("line {}: no value", i + 1))),
            };
            rows += 1;
            row(tree, key, value)?;
        }
        hasher.update(line.as_bytes());
        hasher.update(b"\n");
    }
    let trailer = trailer.ok_or_else(|| bad("no end marker: the file is truncated".into()))?;
    let digest = hex(&hasher.finalize());
    if trailer["records"].as_u64() != Some(rows)
        || trailer["sha256"].as_str() != Some(digest.as_str())
    {
        return Err(bad(
            "the content does not match its end marker (altered or truncated)".into(),
        ));
    }
    Ok((rows, digest))
}
