//! The lookup index on disk: one file, written whole beside the store and
//! put in place by a rename, then opened by memory map — a start reads its
//! trailer, not the records. What it holds, in order:
//!
//! | section      | what                                                     |
//! |--------------|----------------------------------------------------------|
//! | records      | each record, compact (`compact.rs`), with its identifiers |
//! | rec_offsets  | where record i starts (u64 LE, n + 1)                    |
//! | rec_subject  | the subject of record i (u32 LE)                         |
//! | postings     | per token: a varint count, then record numbers (u32 LE)  |
//! | tokens       | an `fst` map: folded token → where its postings start    |
//! | subj_ids     | each subject's id, 16 hex digits                         |
//! | subj_dnm     | one byte per subject: a record's own status stops marketing |
//! | subj_start   | subject s's records are members[start[s]..start[s+1]]    |
//! | members      | record numbers grouped by subject (u32 LE)               |
//! | subjects     | an `fst` map: subject id → subject number                |
//! | trailer      | magic, version, counts, the store's records stamp, the   |
//! |              | country code, where each section is                      |
//!
//! Building takes bounded memory whatever the number of records: records
//! stream to the file as they come; tokens are sorted in runs spilled to
//! unnamed temporary files (gone with the process, even if it is killed)
//! and merged into the `fst`; linking keeps a 16-byte hash per identifier.
//! The file is replaced whole, so an erased record's bytes leave the disk
//! with the old file (the store's own bytes leave at its rebuild).

use super::compact::{self, get_varint, put_varint};
use crate::domain::record::SourceRecord;
use fst::{Automaton, IntoStreamer, Streamer};
use sha2::{Digest, Sha256};
use std::collections::{BinaryHeap, HashMap};
use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Seek, Write};
use std::sync::Arc;

const MAGIC: &[u8; 8] = b"RDLOOK03";
const SECTIONS: usize = 10;
/// magic, n, subjects, stamp (16), cc (8), sections (offset, len), base
/// stamp (16: for a delta, the stamp of the file it lies on; else zeros),
/// CRC-32 of everything before the trailer (8, zero-padded).
pub const TRAILER_LEN: usize = 8 + 8 + 8 + 16 + 8 + SECTIONS * 16 + 16 + 8;
/// Tokens sorted in memory before a run is spilled to disk.
const RUN_TOKENS: usize = 1 << 20;

/// A record's folded tokens and its identifier keys, as the lookup makes them.
pub struct Prepared {
    pub tokens: Vec<String>,
    pub ids: Vec<String>,
    /// SHA-256 of each identifier key, in the order of `ids`.
    pub hashes: Vec<[u8; 32]>,
}

impl Prepared {
    pub fn new(tokens: Vec<String>, ids: Vec<String>) -> Prepared {
        let hashes = ids.iter().map(|i| sha256(i.as_bytes())).collect();
        Prepared {
            tokens,
            ids,
            hashes,
        }
    }
}

/// The bytes of one section of a mapped file (or of a buffer).
#[derive(Clone)]
pub struct Bytes {
    all: Arc<memmap2::Mmap>,
    start: usize,
    end: usize,
}

impl AsRef<[u8]> for Bytes {
    fn as_ref(&self) -> &[u8] {
        &self.all[self.start..self.end]
    }
}

/// Why a file is not a usable index (it is then built again).
#[derive(Debug, thiserror::Error)]
pub enum GenerationError {
    #[error("{0}")]
    Io(#[from] io::Error),
    #[error("not a lookup index of this version")]
    NotOurs,
    #[error("the lookup index is damaged: {0}")]
    Damaged(&'static str),
}

/// An opened index file.
pub struct Generation {
    pub records: usize,
    pub subjects: usize,
    pub stamp: [u8; 16],
    /// For a delta: the stamp of the whole index it lies on.
    pub base: [u8; 16],
    pub cc: String,
    map: Arc<memmap2::Mmap>,
    rec_offsets: (usize, usize),
    rec_subject: (usize, usize),
    postings: (usize, usize),
    tokens: fst::Map<Bytes>,
    subj_ids: (usize, usize),
    subj_dnm: (usize, usize),
    subj_start: (usize, usize),
    members: (usize, usize),
    subject_map: fst::Map<Bytes>,
}

/// The CRC-32 of a file's first `len` bytes, read (not mapped).
fn crc_of(file: &File, len: usize) -> io::Result<u32> {
    use std::os::unix::fs::FileExt;
    let mut h = crc32fast::Hasher::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut at = 0usize;
    while at < len {
        let want = (len - at).min(buf.len());
        let n = file.read_at(&mut buf[..want], at as u64)?;
        if n == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        h.update(&buf[..n]);
        at += n;
    }
    Ok(h.finalize())
}

fn u32_at(buf: &[u8], i: usize) -> u32 {
    let b = &buf[i * 4..i * 4 + 4];
    u32::from_le_bytes([b[0], b[1], b[2], b[3]])
}

fn u64_at(buf: &[u8], i: usize) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&buf[i * 8..i * 8 + 8]);
    u64::from_le_bytes(a)
}

impl Generation {
    /// Opens an index file. The file is the desk's own, in its private
    /// store directory, and is never changed in place (a new one replaces
    /// it by rename), so the mapping stays what was validated here.
    pub fn open(file: &File) -> Result<Generation, GenerationError> {
        // SAFETY: see above — nothing writes to an index file once renamed
        // into place; a replacement is a new inode.
        let map = Arc::new(unsafe { memmap2::Mmap::map(file)? });
        let len = map.len();
        if len < TRAILER_LEN {
            return Err(GenerationError::NotOurs);
        }
        let t = &map[len - TRAILER_LEN..];
        if &t[..8] != MAGIC {
            return Err(GenerationError::NotOurs);
        }
        let records = u64_at(&t[8..], 0) as usize;
        let subjects = u64_at(&t[16..], 0) as usize;
        let mut stamp = [0u8; 16];
        stamp.copy_from_slice(&t[24..40]);
        let cc = String::from_utf8_lossy(&t[40..48])
            .trim_end_matches('\0')
            .to_string();
        let mut base = [0u8; 16];
        base.copy_from_slice(&t[TRAILER_LEN - 24..TRAILER_LEN - 8]);
        let body = len - TRAILER_LEN;
        // Damage anywhere in the body is refused, not read as records: a
        // CRC-32 over it (tens of milliseconds for a million records), read
        // through the file rather than the mapping, which stays untouched
        // until queries need its pages.
        let crc = u64_at(&t[TRAILER_LEN - 8..], 0);
        if u64::from(crc_of(file, body)?) != crc {
            return Err(GenerationError::Damaged("its checksum"));
        }
        let mut sections = [(0usize, 0usize); SECTIONS];
        for (k, s) in sections.iter_mut().enumerate() {
            let off = u64_at(&t[48..], k * 2) as usize;
            let n = u64_at(&t[48..], k * 2 + 1) as usize;
            if off.checked_add(n).is_none_or(|e| e > body) {
                return Err(GenerationError::Damaged("a section lies outside the file"));
            }
            *s = (off, off + n);
        }
        let [_, rec_offsets, rec_subject, postings, tokens, subj_ids, subj_dnm, subj_start, members, subject_map] =
            sections;
        let len_of = |s: (usize, usize)| s.1 - s.0;
        let sizes_agree = len_of(rec_offsets) == (records + 1) * 8
            && len_of(rec_subject) == records * 4
            && len_of(subj_ids) == subjects * 16
            && len_of(subj_dnm) == subjects
            && len_of(subj_start) == (subjects + 1) * 4
            && len_of(members) == records * 4;
        if !sizes_agree {
            return Err(GenerationError::Damaged("its sections' sizes disagree"));
        }
        let bytes = |s: (usize, usize)| Bytes {
            all: map.clone(),
            start: s.0,
            end: s.1,
        };
        let tokens =
            fst::Map::new(bytes(tokens)).map_err(|_| GenerationError::Damaged("its token map"))?;
        let subject_map = fst::Map::new(bytes(subject_map))
            .map_err(|_| GenerationError::Damaged("its subject map"))?;
        let g = Generation {
            records,
            subjects,
            stamp,
            base,
            cc,
            map,
            rec_offsets,
            rec_subject,
            postings,
            tokens,
            subj_ids,
            subj_dnm,
            subj_start,
            members,
            subject_map,
        };
        g.check_tables(sections[0].1 - sections[0].0)?;
        Ok(g)
    }

    /// Every number the tables hold points inside what it numbers: a
    /// damaged body under an intact trailer is refused here, never met as
    /// a panic in a lookup. (Linear in the records: milliseconds at 1M.)
    fn check_tables(&self, recs_len: usize) -> Result<(), GenerationError> {
        let bad = |what| Err(GenerationError::Damaged(what));
        let offs = self.slice(self.rec_offsets);
        let mut prev = 0u64;
        for k in 0..=self.records {
            let o = u64_at(offs, k);
            if (k == 0 && o != 0) || o < prev || o as usize > recs_len {
                return bad("its record offsets");
            }
            prev = o;
        }
        if prev as usize != recs_len {
            return bad("its record offsets");
        }
        let subj = self.slice(self.rec_subject);
        if (0..self.records).any(|i| u32_at(subj, i) as usize >= self.subjects) {
            return bad("its records' subjects");
        }
        let starts = self.slice(self.subj_start);
        let mut prev = 0u32;
        for s in 0..=self.subjects {
            let v = u32_at(starts, s);
            if (s == 0 && v != 0) || v < prev || v as usize > self.records {
                return bad("its subjects' records");
            }
            prev = v;
        }
        if prev as usize != self.records {
            return bad("its subjects' records");
        }
        let m = self.slice(self.members);
        if (0..self.records).any(|k| u32_at(m, k) as usize >= self.records) {
            return bad("its subjects' records");
        }
        Ok(())
    }

    fn slice(&self, s: (usize, usize)) -> &[u8] {
        &self.map[s.0..s.1]
    }

    /// Record i and its identifier keys.
    pub fn record(&self, i: u32) -> Option<(SourceRecord, Vec<String>)> {
        let offs = self.slice(self.rec_offsets);
        let (a, b) = (
            u64_at(offs, i as usize) as usize,
            u64_at(offs, i as usize + 1) as usize,
        );
        compact::decode(self.map.get(a..b)?)
    }

    pub fn subject_of(&self, i: u32) -> u32 {
        u32_at(self.slice(self.rec_subject), i as usize)
    }

    /// The subject's id as shown (`S-` and 16 hex digits).
    pub fn subject_id(&self, s: u32) -> String {
        let ids = self.slice(self.subj_ids);
        let hex = &ids[s as usize * 16..s as usize * 16 + 16];
        format!("S-{}", String::from_utf8_lossy(hex))
    }

    pub fn subject_named(&self, id: &str) -> Option<u32> {
        let hex = id.strip_prefix("S-")?;
        self.subject_map
            .get(hex)
            .filter(|&s| (s as usize) < self.subjects)
            .map(|s| s as u32)
    }

    /// Whether a record's own status (unsubscribed, cleaned) stops
    /// marketing to the subject.
    pub fn status_dnm(&self, s: u32) -> bool {
        self.slice(self.subj_dnm)[s as usize] != 0
    }

    /// The subject's records, by number.
    pub fn members(&self, s: u32) -> Vec<u32> {
        let starts = self.slice(self.subj_start);
        let (a, b) = (
            u32_at(starts, s as usize) as usize,
            u32_at(starts, s as usize + 1) as usize,
        );
        let m = self.slice(self.members);
        (a..b).map(|k| u32_at(m, k)).collect()
    }

    /// How many postings the tokens starting with `prefix` hold (a record
    /// may count more than once): what gathering them would cost.
    /// Counting stops once past `stop` (the caller only asks whether it
    /// is more: a common prefix spans a million e-mail tokens).
    pub fn prefix_count(&self, prefix: &str, stop: u64) -> u64 {
        let aut = fst::automaton::Str::new(prefix).starts_with();
        let mut stream = self.tokens.search(aut).into_stream();
        let post = self.slice(self.postings);
        let mut n = 0;
        while let Some((_, at)) = stream.next() {
            let mut at = at as usize;
            n += get_varint(post, &mut at).unwrap_or(0);
            if n > stop {
                break;
            }
        }
        n
    }

    /// Records with exactly this token.
    pub fn exact(&self, token: &str) -> Vec<u32> {
        let Some(at) = self.tokens.get(token) else {
            return Vec::new();
        };
        let post = self.slice(self.postings);
        let mut at = at as usize;
        let n = get_varint(post, &mut at).unwrap_or(0) as usize;
        (0..n)
            .map_while(|k| post.get(at + k * 4..at + k * 4 + 4))
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .filter(|&i| (i as usize) < self.records)
            .collect()
    }

    /// Records with a token starting with `prefix`, at most `cap`.
    pub fn prefixed(&self, prefix: &str, cap: usize) -> Vec<u32> {
        let aut = fst::automaton::Str::new(prefix).starts_with();
        let mut stream = self.tokens.search(aut).into_stream();
        let post = self.slice(self.postings);
        let mut out = Vec::new();
        while let Some((_, at)) = stream.next() {
            let mut at = at as usize;
            let Some(n) = get_varint(post, &mut at) else {
                break;
            };
            for k in 0..n as usize {
                match post.get(at + k * 4..at + k * 4 + 4) {
                    Some(b) => {
                        let i = u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
                        if (i as usize) < self.records {
                            out.push(i);
                        }
                    }
                    None => break,
                }
                if out.len() >= cap {
                    return out;
                }
            }
        }
        out
    }
}

/// Records made ready for the builder (encoded, tokenised, their
/// identifiers hashed) on another thread, kept flat: a few buffers cross
/// between threads, not every record's strings.
#[derive(Default)]
pub struct Batch {
    records: Vec<u8>,
    ends: Vec<usize>,
    /// Each token as a u16 length and its bytes.
    tokens: Vec<u8>,
    tok_ends: Vec<usize>,
    hashes: Vec<[u8; 16]>,
    hash_ends: Vec<usize>,
    /// The record's name when it stands alone (a hash of its store key).
    alone: Vec<u64>,
    dnm: Vec<bool>,
    split: Vec<bool>,
}

impl Batch {
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// Adds a record; `split` keeps it out of every link.
    pub fn push(&mut self, r: &SourceRecord, prep: &Prepared, split: bool) {
        compact::encode(r, &prep.ids, &mut self.records);
        self.ends.push(self.records.len());
        for t in &prep.tokens {
            // A token longer than a run can hold is no word anyone types.
            if let Ok(n) = u16::try_from(t.len()) {
                self.tokens.extend_from_slice(&n.to_le_bytes());
                self.tokens.extend_from_slice(t.as_bytes());
            }
        }
        self.tok_ends.push(self.tokens.len());
        for h in &prep.hashes {
            let mut k = [0u8; 16];
            k.copy_from_slice(&h[..16]);
            self.hashes.push(k);
        }
        self.hash_ends.push(self.hashes.len());
        let mut key = b"record:".to_vec();
        key.extend_from_slice(&r.store_key());
        let h = sha256(&key);
        self.alone
            .push(u64::from_be_bytes(h[..8].try_into().expect("8 bytes")));
        self.dnm
            .push(crate::domain::register::marketing_stopped(r.status.as_deref()).is_some());
        self.split.push(split);
    }
}

/// A writer that sums what passes through it (the body's CRC-32).
pub struct Summed<W: Write>(W, crc32fast::Hasher);

impl<W: Write> Write for Summed<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.0.write(buf)?;
        self.1.update(&buf[..n]);
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.0.flush()
    }
}

/// A spilled run of sorted (token, record) pairs.
struct Run(BufReader<File>);

impl Run {
    fn next(&mut self) -> io::Result<Option<(Vec<u8>, u32)>> {
        let mut len = [0u8; 2];
        match self.0.read_exact(&mut len) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
            Err(e) => return Err(e),
        }
        let mut tok = vec![0u8; u16::from_le_bytes(len) as usize];
        self.0.read_exact(&mut tok)?;
        let mut rec = [0u8; 4];
        self.0.read_exact(&mut rec)?;
        Ok(Some((tok, u32::from_le_bytes(rec))))
    }
}

/// Makes an index file from records given one at a time.
pub struct Builder<W: Write> {
    out: BufWriter<Summed<W>>,
    written: u64,
    offsets: Vec<u64>,
    /// The run being gathered: (where in `run_text`, length, record).
    run: Vec<(u32, u16, u32)>,
    run_text: Vec<u8>,
    runs: Vec<File>,
    /// Where temporary runs go (unnamed files: gone with the process).
    scratch: std::path::PathBuf,
    parent: Vec<u32>,
    /// The first record seen with each identifier (by a 16-byte hash).
    first_with: HashMap<[u8; 16], u32>,
    /// Per record: the smallest hash of its identifiers (names its subject).
    name_of: Vec<u64>,
    dnm: Vec<bool>,
    split: Vec<bool>,
}

fn sha256(s: &[u8]) -> [u8; 32] {
    Sha256::digest(s).into()
}

impl<W: Write> Builder<W> {
    /// Writes into `out` (an empty file); runs spill into `scratch`.
    pub fn new(out: W, scratch: &std::path::Path) -> Builder<W> {
        Builder {
            out: BufWriter::with_capacity(1 << 20, Summed(out, crc32fast::Hasher::new())),
            written: 0,
            offsets: vec![0],
            run: Vec::new(),
            run_text: Vec::new(),
            runs: Vec::new(),
            scratch: scratch.to_path_buf(),
            parent: Vec::new(),
            first_with: HashMap::new(),
            name_of: Vec::new(),
            dnm: Vec::new(),
            split: Vec::new(),
        }
    }

    fn find(&mut self, mut x: u32) -> u32 {
        while self.parent[x as usize] != x {
            let p = self.parent[x as usize];
            self.parent[x as usize] = self.parent[p as usize];
            x = p;
        }
        x
    }

    fn union(&mut self, a: u32, b: u32) {
        let (ra, rb) = (self.find(a), self.find(b));
        if ra != rb {
            let (lo, hi) = if ra < rb { (ra, rb) } else { (rb, ra) };
            self.parent[hi as usize] = lo;
        }
    }

    /// Adds a batch of records made ready on another thread.
    pub fn add_batch(&mut self, b: &Batch) -> io::Result<()> {
        let (mut rec_at, mut tok_at, mut hash_at) = (0, 0, 0);
        for k in 0..b.ends.len() {
            let i = self.parent.len() as u32;
            self.parent.push(i);
            let rec = &b.records[rec_at..b.ends[k]];
            rec_at = b.ends[k];
            self.out.write_all(rec)?;
            self.written += rec.len() as u64;
            self.offsets.push(self.written);
            let split = b.split[k];
            // The subject's name: the smallest hash of a linking identifier,
            // or of the store key for a record alone (split, or with none).
            let hashes = &b.hashes[hash_at..b.hash_ends[k]];
            hash_at = b.hash_ends[k];
            let mut name = u64::MAX;
            for h in hashes {
                name = name.min(u64::from_be_bytes(h[..8].try_into().expect("8 bytes")));
                if split {
                    continue;
                }
                match self.first_with.get(h) {
                    Some(&j) => self.union(i, j),
                    None => {
                        self.first_with.insert(*h, i);
                    }
                }
            }
            if split || hashes.is_empty() {
                name = b.alone[k];
            }
            self.name_of.push(name);
            self.split.push(split);
            self.dnm.push(b.dnm[k]);
            let mut t = &b.tokens[tok_at..b.tok_ends[k]];
            tok_at = b.tok_ends[k];
            while t.len() >= 2 {
                let n = u16::from_le_bytes([t[0], t[1]]) as usize;
                let word = &t[2..2 + n];
                self.run.push((self.run_text.len() as u32, n as u16, i));
                self.run_text.extend_from_slice(word);
                t = &t[2 + n..];
            }
        }
        if self.run.len() >= RUN_TOKENS {
            self.spill()?;
        }
        Ok(())
    }

    fn spill(&mut self) -> io::Result<()> {
        if self.run.is_empty() {
            return Ok(());
        }
        let text = std::mem::take(&mut self.run_text);
        let word = |&(at, n, _): &(u32, u16, u32)| &text[at as usize..at as usize + n as usize];
        self.run
            .sort_unstable_by(|a, b| word(a).cmp(word(b)).then(a.2.cmp(&b.2)));
        self.run.dedup_by(|a, b| a.2 == b.2 && word(a) == word(b));
        let f = tempfile::tempfile_in(&self.scratch)?;
        {
            let mut w = BufWriter::with_capacity(1 << 20, &f);
            for e in &self.run {
                w.write_all(&e.1.to_le_bytes())?;
                w.write_all(word(e))?;
                w.write_all(&e.2.to_le_bytes())?;
            }
            w.flush()?;
        }
        self.run.clear();
        self.run_text = text;
        self.run_text.clear();
        self.runs.push(f);
        Ok(())
    }

    /// Finishes the file: sections after the records, then the trailer.
    pub fn finish(
        mut self,
        stamp: [u8; 16],
        base: [u8; 16],
        cc: &str,
    ) -> io::Result<(usize, usize)> {
        self.spill()?;
        let n = self.parent.len();
        let mut sections = [(0u64, 0u64); SECTIONS];
        sections[0] = (0, self.written);
        let mut at = self.written;
        let mut section = |k: usize, len: u64, at: &mut u64| {
            sections[k] = (*at, len);
            *at += len;
        };
        // Record offsets.
        for o in &self.offsets {
            self.out.write_all(&o.to_le_bytes())?;
        }
        section(1, self.offsets.len() as u64 * 8, &mut at);
        // Linking is done: its map goes before the subject tables are made.
        drop(std::mem::take(&mut self.first_with));
        // Subjects: one per linked group, numbered in order of first record.
        // A group's root is its smallest record (see `union`), met first at
        // that record: a plain array holds each root's subject.
        let mut subject_of_root: Vec<u32> = vec![u32::MAX; n];
        let mut rec_subject = Vec::with_capacity(n);
        let mut subj_name: Vec<u64> = Vec::new();
        let mut subj_dnm: Vec<u8> = Vec::new();
        for i in 0..n as u32 {
            let root = self.find(i);
            let slot = &mut subject_of_root[root as usize];
            if *slot == u32::MAX {
                *slot = subj_name.len() as u32;
                subj_name.push(u64::MAX);
                subj_dnm.push(0);
            }
            let s = *slot;
            let named = &mut subj_name[s as usize];
            // A split record is alone: its own name stands.
            *named = (*named).min(self.name_of[i as usize]);
            if self.dnm[i as usize] {
                subj_dnm[s as usize] = 1;
            }
            rec_subject.push(s);
        }
        drop(subject_of_root);
        drop(std::mem::take(&mut self.name_of));
        for s in &rec_subject {
            self.out.write_all(&s.to_le_bytes())?;
        }
        section(2, n as u64 * 4, &mut at);
        // Postings and the token map, merged from the sorted runs.
        let (post, post_len, map, map_len) = self.merge_runs()?;
        copy_into(&mut self.out, post)?;
        section(3, post_len, &mut at);
        copy_into(&mut self.out, map)?;
        section(4, map_len, &mut at);
        let subjects = subj_name.len();
        for name in &subj_name {
            self.out.write_all(format!("{name:016x}").as_bytes())?;
        }
        section(5, subjects as u64 * 16, &mut at);
        self.out.write_all(&subj_dnm)?;
        section(6, subjects as u64, &mut at);
        // Members by subject (a counting sort).
        let mut start = vec![0u32; subjects + 1];
        for s in &rec_subject {
            start[*s as usize + 1] += 1;
        }
        for k in 1..start.len() {
            start[k] += start[k - 1];
        }
        for v in &start {
            self.out.write_all(&v.to_le_bytes())?;
        }
        section(7, start.len() as u64 * 4, &mut at);
        let mut fill = start;
        let mut members = vec![0u32; n];
        for (i, s) in rec_subject.iter().enumerate() {
            members[fill[*s as usize] as usize] = i as u32;
            fill[*s as usize] += 1;
        }
        for m in &members {
            self.out.write_all(&m.to_le_bytes())?;
        }
        section(8, n as u64 * 4, &mut at);
        drop(members);
        // Subject id → number. Two subjects could only share a name through
        // a hash collision: the first keeps it (never a panic).
        let mut order: Vec<u32> = (0..subjects as u32).collect();
        order.sort_by_key(|&s| subj_name[s as usize]);
        let mut map = Vec::new();
        {
            let mut b = fst::MapBuilder::new(&mut map).map_err(io::Error::other)?;
            let mut last: Option<u64> = None;
            for s in order {
                let name = subj_name[s as usize];
                if last == Some(name) {
                    continue;
                }
                last = Some(name);
                b.insert(format!("{name:016x}"), u64::from(s))
                    .map_err(io::Error::other)?;
            }
            b.finish().map_err(io::Error::other)?;
        }
        self.out.write_all(&map)?;
        section(9, map.len() as u64, &mut at);
        // The trailer.
        let mut t = Vec::with_capacity(TRAILER_LEN);
        t.extend_from_slice(MAGIC);
        t.extend_from_slice(&(n as u64).to_le_bytes());
        t.extend_from_slice(&(subjects as u64).to_le_bytes());
        t.extend_from_slice(&stamp);
        let mut ccb = [0u8; 8];
        let c = cc.as_bytes();
        ccb[..c.len().min(8)].copy_from_slice(&c[..c.len().min(8)]);
        t.extend_from_slice(&ccb);
        for (off, len) in sections {
            t.extend_from_slice(&off.to_le_bytes());
            t.extend_from_slice(&len.to_le_bytes());
        }
        t.extend_from_slice(&base);
        self.out.flush()?;
        let crc = self.out.get_ref().1.clone().finalize();
        t.extend_from_slice(&u64::from(crc).to_le_bytes());
        debug_assert_eq!(t.len(), TRAILER_LEN);
        self.out.write_all(&t)?;
        self.out.flush()?;
        Ok((n, subjects))
    }

    /// Merges the runs: postings into one unnamed file, the token map into
    /// another; returns both, rewound, with their lengths.
    fn merge_runs(&mut self) -> io::Result<(File, u64, File, u64)> {
        let mut runs: Vec<Run> = Vec::new();
        for mut f in std::mem::take(&mut self.runs) {
            f.rewind()?;
            runs.push(Run(BufReader::with_capacity(1 << 16, f)));
        }
        let mut heap = BinaryHeap::new();
        for (k, r) in runs.iter_mut().enumerate() {
            if let Some((t, i)) = r.next()? {
                heap.push(std::cmp::Reverse((t, i, k)));
            }
        }
        let mut post_file = tempfile::tempfile_in(&self.scratch)?;
        let mut map_file = tempfile::tempfile_in(&self.scratch)?;
        let mut post_len = 0u64;
        {
            let mut post = BufWriter::with_capacity(1 << 20, &post_file);
            let mut map = fst::MapBuilder::new(BufWriter::with_capacity(1 << 20, &map_file))
                .map_err(io::Error::other)?;
            let mut cur: Option<Vec<u8>> = None;
            let mut list: Vec<u32> = Vec::new();
            let mut head = Vec::new();
            let mut flush = |tok: &[u8],
                             list: &mut Vec<u32>,
                             post: &mut BufWriter<&File>,
                             map: &mut fst::MapBuilder<BufWriter<&File>>|
             -> io::Result<()> {
                list.dedup();
                map.insert(tok, post_len).map_err(io::Error::other)?;
                head.clear();
                put_varint(&mut head, list.len() as u64);
                post.write_all(&head)?;
                for i in list.iter() {
                    post.write_all(&i.to_le_bytes())?;
                }
                post_len += head.len() as u64 + list.len() as u64 * 4;
                list.clear();
                Ok(())
            };
            while let Some(std::cmp::Reverse((t, i, k))) = heap.pop() {
                if cur.as_deref() != Some(&t[..]) {
                    if let Some(c) = cur.take() {
                        flush(&c, &mut list, &mut post, &mut map)?;
                    }
                    cur = Some(t);
                }
                list.push(i);
                if let Some(next) = runs[k].next()? {
                    heap.push(std::cmp::Reverse((next.0, next.1, k)));
                }
            }
            if let Some(c) = cur.take() {
                flush(&c, &mut list, &mut post, &mut map)?;
            }
            post.flush()?;
            map.into_inner().map_err(io::Error::other)?.flush()?;
        }
        let map_len = map_file.stream_position()?;
        post_file.rewind()?;
        map_file.rewind()?;
        Ok((post_file, post_len, map_file, map_len))
    }
}

fn copy_into<W: Write>(out: &mut BufWriter<W>, mut from: File) -> io::Result<()> {
    io::copy(&mut from, out)?;
    Ok(())
}
