//! Source records kept in blocks of about 32 KiB, in key order and
//! compressed (LZ4), one sled entry per block.
//!
//! With one sled entry per record, sled's insert (it copies its leaf on
//! every insert) was two thirds of a 1M-row import's time, and its file
//! held 2.2 times the rows' bytes. A block of ~190 records is one insert,
//! and records of one export compress well beside each other: the same
//! 1M rows went from 367 MiB in 10.3 s to under 100 MiB in under a second
//! of writing (measured in the session note).
//!
//! A block's sled key is its last record's store key: the block holding a
//! key, if any does, is the first whose key is not below it. Every block's
//! records lie above the previous block's key, so a rewrite never needs
//! its neighbours. Writers (an import's rows, an erasure) hold `writes`
//! while they read a block and write it back, so neither loses the
//! other's change.
//!
//! Stores written before blocks keep their records one per entry in the
//! `records` tree (the legacy tree). They are read from there until a row
//! or an erasure moves or removes them: a key is in one tree at a time,
//! as a record moved into a block leaves the legacy tree in the same
//! transaction.

use sled::IVec;
use std::sync::{Arc, Mutex, MutexGuard};

pub(super) const TREE_BLOCKS: &str = "record-blocks";
/// The first byte of a block (its format): 0xB2 with the header below.
/// (0xB1 was a header without the compressed length, written by a build
/// of this desk that never left its repository: still read.)
const BLOCK_TAG: u8 = 0xB2;
const FIRST_TAG: u8 = 0xB1;
/// Tag, record count, uncompressed length, compressed length (u32 LE
/// each): a block can be found and read in any bytes (`laid_bare`).
const HEAD: usize = 13;
const FIRST_HEAD: usize = 9;
/// A block's records' bytes before compression: LZ4 on 32 KiB of one
/// export's rows keeps about 40% of them, ~9 KiB a block, well under what
/// sled keeps apart in a file of its own.
const TARGET: usize = 32 << 10;
/// Never decompressed beyond this (a block claiming more is damaged).
const MAX_RAW: usize = 16 << 20;

/// A record's store key and its value in the store's encoding.
pub(crate) type Row = (Vec<u8>, Vec<u8>);

/// Whether a row replaces the record held at its key, given the held
/// record's bytes (if any) and what the caller knows of the row (`T`: an
/// import's date of the row, worked out once where the row was read).
pub(crate) type Take<'a, T> = dyn Fn(Option<&[u8]>, &T) -> bool + 'a;

fn damaged() -> sled::Error {
    sled::Error::Unsupported("a block of source records does not read back (damaged)".into())
}

fn encode(rows: &[Row]) -> Vec<u8> {
    let mut raw = Vec::with_capacity(rows.iter().map(|(k, v)| 8 + k.len() + v.len()).sum());
    for (k, v) in rows {
        for part in [k, v] {
            raw.extend_from_slice(&(part.len() as u32).to_le_bytes());
            raw.extend_from_slice(part);
        }
    }
    let packed = lz4_flex::block::compress(&raw);
    let mut out = Vec::with_capacity(HEAD + packed.len());
    out.push(BLOCK_TAG);
    out.extend_from_slice(&(rows.len() as u32).to_le_bytes());
    out.extend_from_slice(&(raw.len() as u32).to_le_bytes());
    out.extend_from_slice(&(packed.len() as u32).to_le_bytes());
    out.extend_from_slice(&packed);
    out
}

/// (records, uncompressed bytes, where the compressed bytes begin, how
/// many there are) a block says it holds.
fn header(block: &[u8]) -> Option<(usize, usize, usize, usize)> {
    let word = |at: usize| -> Option<usize> {
        Some(u32::from_le_bytes(block.get(at..at + 4)?.try_into().ok()?) as usize)
    };
    let (n, raw, head, packed) = match *block.first()? {
        BLOCK_TAG => (word(1)?, word(5)?, HEAD, word(9)?),
        FIRST_TAG => (
            word(1)?,
            word(5)?,
            FIRST_HEAD,
            block.len().checked_sub(FIRST_HEAD)?,
        ),
        _ => return None,
    };
    (n > 0 && n <= raw / 8 && raw <= MAX_RAW && head + packed <= block.len())
        .then_some((n, raw, head, packed))
}

/// The records' bytes of the block `from` begins with (more bytes may
/// follow it), decompressed, and the block's length.
fn inflate(from: &[u8]) -> Option<(usize, Vec<u8>, usize)> {
    let (count, raw_len, head, packed) = header(from)?;
    let raw = lz4_flex::block::decompress(&from[head..head + packed], raw_len).ok()?;
    (raw.len() == raw_len).then_some((count, raw, head + packed))
}

/// `bytes` (a file's), followed by the records of every block found in
/// them, decompressed: what a search for a person's bytes on disk must
/// read, as LZ4 may keep an address only as references to earlier bytes.
pub fn laid_bare(bytes: &[u8]) -> Vec<u8> {
    let mut out = bytes.to_vec();
    for (at, _) in bytes.iter().enumerate().filter(|(_, b)| **b == BLOCK_TAG) {
        if let Some((_, raw, _)) = inflate(&bytes[at..]) {
            out.extend_from_slice(&raw);
        }
    }
    out
}

/// How many records a block says it holds (0 when it is damaged).
fn count(block: &[u8]) -> usize {
    header(block).map_or(0, |(n, ..)| n)
}

fn part<'a>(raw: &'a [u8], at: &mut usize) -> Option<&'a [u8]> {
    let len = u32::from_le_bytes(raw.get(*at..*at + 4)?.try_into().ok()?) as usize;
    let out = raw.get(*at + 4..*at + 4 + len)?;
    *at += 4 + len;
    Some(out)
}

/// A block's records in key order, or `None` if it is not one.
fn decode(block: &[u8]) -> Option<Vec<Row>> {
    let (count, raw, len) = inflate(block)?;
    if len != block.len() {
        return None;
    }
    let mut rows = Vec::with_capacity(count);
    let mut at = 0;
    while at < raw.len() {
        let k = part(&raw, &mut at)?;
        let v = part(&raw, &mut at)?;
        rows.push((k.to_vec(), v.to_vec()));
    }
    (rows.len() == count).then_some(rows)
}

/// `rows` (in key order) cut into blocks of about `TARGET` bytes each,
/// evenly, so a block grown past it splits in halves, not into a full
/// one and a sliver.
fn pieces(rows: &[Row]) -> Vec<&[Row]> {
    let total: usize = rows.iter().map(|(k, v)| 8 + k.len() + v.len()).sum();
    let n = total.div_ceil(TARGET).max(1);
    let each = total / n;
    let mut out = Vec::with_capacity(n);
    let (mut start, mut acc) = (0, 0);
    for (i, (k, v)) in rows.iter().enumerate() {
        acc += 8 + k.len() + v.len();
        if acc >= each && out.len() + 1 < n {
            out.push(&rows[start..=i]);
            (start, acc) = (i + 1, 0);
        }
    }
    if start < rows.len() {
        out.push(&rows[start..]);
    }
    out
}

/// The source records: blocks, and an older store's legacy tree.
#[derive(Clone)]
pub(crate) struct Records {
    blocks: sled::Tree,
    legacy: sled::Tree,
    writes: Arc<Mutex<()>>,
}

/// What removing records writes, worked out while `writes` is held: each
/// block holding one, as it was read and as it is without them (none when
/// emptied), and the keys to remove from the legacy tree.
pub(super) struct Removal<'a> {
    _writes: MutexGuard<'a, ()>,
    pub blocks: Vec<(IVec, IVec, Option<Vec<u8>>)>,
    pub legacy: Vec<Vec<u8>>,
}

impl Records {
    pub(super) fn new(blocks: sled::Tree, legacy: sled::Tree) -> Records {
        Records {
            blocks,
            legacy,
            writes: Arc::new(Mutex::new(())),
        }
    }

    pub(super) fn blocks_tree(&self) -> &sled::Tree {
        &self.blocks
    }

    pub(super) fn legacy_tree(&self) -> &sled::Tree {
        &self.legacy
    }

    fn lock(&self) -> MutexGuard<'_, ()> {
        // A writer that panicked left no half-written block (each write is
        // one batch or transaction): the lock is still good.
        self.writes
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The block that would hold `key`: the first whose key is not below it.
    fn block_for(&self, key: &[u8]) -> sled::Result<Option<(IVec, IVec)>> {
        self.blocks.range(key..).next().transpose()
    }

    /// The value stored at `key`, if a record is there.
    pub fn get(&self, key: &[u8]) -> sled::Result<Option<Vec<u8>>> {
        if let Some((_, block)) = self.block_for(key)? {
            let rows = decode(&block).ok_or_else(damaged)?;
            if let Ok(i) = rows.binary_search_by(|(k, _)| k.as_slice().cmp(key)) {
                return Ok(Some(rows.into_iter().nth(i).expect("found").1));
            }
        }
        Ok(self.legacy.get(key)?.map(|v| v.to_vec()))
    }

    /// Every record in key order within blocks, then the legacy tree's; a
    /// damaged block is one error in its place.
    pub fn iter(&self) -> impl Iterator<Item = sled::Result<Row>> + '_ {
        self.blocks
            .iter()
            .flat_map(
                |kv| match kv.and_then(|(_, b)| decode(&b).ok_or_else(damaged)) {
                    Ok(rows) => rows.into_iter().map(Ok).collect::<Vec<_>>(),
                    Err(e) => vec![Err(e)],
                },
            )
            .chain(
                self.legacy
                    .iter()
                    .map(|kv| kv.map(|(k, v)| (k.to_vec(), v.to_vec()))),
            )
    }

    pub fn len(&self) -> usize {
        let in_blocks: usize = self
            .blocks
            .iter()
            .values()
            .filter_map(Result::ok)
            .map(|b| count(&b))
            .sum();
        in_blocks + self.legacy.len()
    }

    pub fn is_empty(&self) -> bool {
        self.blocks.is_empty() && self.legacy.is_empty()
    }

    /// Whether any of `keys` (in key order) is held.
    pub fn any_held(&self, keys: &[&[u8]]) -> sled::Result<bool> {
        let mut i = 0;
        while i < keys.len() {
            let Some((bk, block)) = self.block_for(keys[i])? else {
                break;
            };
            let end = i + keys[i..].partition_point(|k| *k <= &bk[..]);
            let rows = decode(&block).ok_or_else(damaged)?;
            if keys[i..end]
                .iter()
                .any(|k| rows.binary_search_by(|(r, _)| r.as_slice().cmp(k)).is_ok())
            {
                return Ok(true);
            }
            i = end;
        }
        if !self.legacy.is_empty() {
            for k in keys {
                if self.legacy.contains_key(k)? {
                    return Ok(true);
                }
            }
        }
        Ok(false)
    }

    /// Writes `rows` (any order; of a key given twice the last wins) where
    /// `take` says a row replaces what is held. Each block touched is read
    /// and written back once, in one batch (one transaction when records
    /// leave the legacy tree). Returns the keys written.
    pub fn put<T: Default>(
        &self,
        mut rows: Vec<(Row, T)>,
        take: &Take<'_, T>,
    ) -> sled::Result<Vec<Vec<u8>>> {
        rows.sort_by(|a, b| a.0 .0.cmp(&b.0 .0));
        // The sort is stable: of equal keys, keep the last.
        let mut unique: Vec<(Row, T)> = Vec::with_capacity(rows.len());
        for r in rows {
            match unique.last_mut() {
                Some(last) if last.0 .0 == r.0 .0 => *last = r,
                _ => unique.push(r),
            }
        }
        let mut rows = unique;
        let _writes = self.lock();
        let last_block = self.blocks.last()?.map(|(k, _)| k);
        let check_legacy = !self.legacy.is_empty();
        let mut batch = sled::Batch::default();
        let mut unlegacy = Vec::new();
        let mut written = Vec::new();
        let mut i = 0;
        while i < rows.len() {
            // The block these rows go in: the one holding the first; the
            // last block also takes every row beyond it.
            let (old, end) = match self.block_for(&rows[i].0 .0)? {
                Some((bk, b)) if Some(&bk) != last_block.as_ref() => {
                    let end = i + rows[i..].partition_point(|((k, _), _)| k.as_slice() <= &bk[..]);
                    (Some((bk, b)), end)
                }
                Some(kb) => (Some(kb), rows.len()),
                None => (self.blocks.last()?, rows.len()),
            };
            let held = match &old {
                Some((_, b)) => decode(b).ok_or_else(damaged)?,
                None => Vec::new(),
            };
            let mut merged = Vec::with_capacity(held.len() + end - i);
            let mut held = held.into_iter().peekable();
            let mut changed = false;
            for row in &mut rows[i..end] {
                let ((k, v), known) = std::mem::take(row);
                while held.peek().is_some_and(|(h, _)| *h < k) {
                    merged.push(held.next().expect("peeked"));
                }
                let here = held.next_if(|(h, _)| *h == k);
                let in_legacy = match (&here, check_legacy) {
                    (None, true) => self.legacy.get(&k)?,
                    _ => None,
                };
                let held_value = here
                    .as_ref()
                    .map(|(_, v)| v.as_slice())
                    .or(in_legacy.as_deref());
                if take(held_value, &known) {
                    if in_legacy.is_some() {
                        unlegacy.push(k.clone());
                    }
                    written.push(k.clone());
                    merged.push((k, v));
                    changed = true;
                } else if let Some(h) = here {
                    merged.push(h);
                }
            }
            merged.extend(held);
            if changed {
                if let Some((bk, _)) = &old {
                    batch.remove(bk.clone());
                }
                for piece in pieces(&merged) {
                    let last = &piece.last().expect("a piece is never empty").0;
                    batch.insert(last.as_slice(), encode(piece));
                }
            }
            i = end;
        }
        if unlegacy.is_empty() {
            self.blocks.apply_batch(batch)?;
        } else {
            use sled::Transactional;
            (&self.blocks, &self.legacy)
                .transaction(|(blocks, legacy)| {
                    blocks.apply_batch(&batch)?;
                    for k in &unlegacy {
                        legacy.remove(k.as_slice())?;
                    }
                    Ok::<(), sled::transaction::ConflictableTransactionError<()>>(())
                })
                .map_err(|e| match e {
                    sled::transaction::TransactionError::Storage(e) => e,
                    sled::transaction::TransactionError::Abort(()) => damaged(),
                })?;
        }
        Ok(written)
    }

    /// Works out removing `keys`; the caller writes it in its transaction
    /// (beside the case that says why) while the returned guard is held.
    pub(super) fn removal(&self, keys: &[Vec<u8>]) -> sled::Result<Removal<'_>> {
        let writes = self.lock();
        let mut touched: std::collections::BTreeMap<IVec, (IVec, Vec<Row>)> = Default::default();
        for k in keys {
            let Some((bk, block)) = self.block_for(k)? else {
                continue;
            };
            let (_, rows) = match touched.entry(bk) {
                std::collections::btree_map::Entry::Occupied(o) => o.into_mut(),
                std::collections::btree_map::Entry::Vacant(v) => {
                    let rows = decode(&block).ok_or_else(damaged)?;
                    v.insert((block, rows))
                }
            };
            rows.retain(|(r, _)| r != k);
        }
        Ok(Removal {
            _writes: writes,
            blocks: touched
                .into_iter()
                .map(|(bk, (old, rows))| (bk, old, (!rows.is_empty()).then(|| encode(&rows))))
                .collect(),
            legacy: keys.to_vec(),
        })
    }
}

/// Reads held records for keys that mostly come in order (an import's
/// sorted rows): each block is decoded once while keys stay within it.
pub(super) struct HeldCursor<'a> {
    records: &'a Records,
    /// The block decoded last: the key below it (none: the first block),
    /// its own key, and its records.
    at: Option<(Option<IVec>, IVec, Vec<Row>)>,
}

impl<'a> HeldCursor<'a> {
    pub fn new(records: &'a Records) -> HeldCursor<'a> {
        HeldCursor { records, at: None }
    }

    pub fn held(&mut self, key: &[u8]) -> sled::Result<Option<Vec<u8>>> {
        let covers = |(lo, hi, _): &(Option<IVec>, IVec, Vec<Row>)| {
            key <= &hi[..] && lo.as_ref().is_none_or(|lo| key > &lo[..])
        };
        if !self.at.as_ref().is_some_and(covers) {
            self.at = match self.records.block_for(key)? {
                Some((bk, block)) => {
                    let lo = self
                        .records
                        .blocks
                        .range(..bk.clone())
                        .next_back()
                        .transpose()?
                        .map(|(k, _)| k);
                    Some((lo, bk, decode(&block).ok_or_else(damaged)?))
                }
                None => None,
            };
        }
        if let Some((_, _, rows)) = &self.at {
            if let Ok(i) = rows.binary_search_by(|(k, _)| k.as_slice().cmp(key)) {
                return Ok(Some(rows[i].1.clone()));
            }
        }
        Ok(self.records.legacy.get(key)?.map(|v| v.to_vec()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    fn records() -> (tempfile::TempDir, Records) {
        let dir = tempfile::tempdir().unwrap();
        let db = sled::Config::new().path(dir.path()).open().unwrap();
        let r = Records::new(
            db.open_tree(TREE_BLOCKS).unwrap(),
            db.open_tree("records").unwrap(),
        );
        (dir, r)
    }

    fn key(n: u32) -> Vec<u8> {
        format!("customers\0{n:07}").into_bytes()
    }

    /// A value of about a HubSpot row's size, different for each (key, version).
    fn value(n: u32, version: u32) -> Vec<u8> {
        format!("{n}-{version}-{}", "x".repeat(120 + (n % 50) as usize)).into_bytes()
    }

    fn always(_: Option<&[u8]>, _: &()) -> bool {
        true
    }

    fn rows(rows: Vec<Row>) -> Vec<(Row, ())> {
        rows.into_iter().map(|r| (r, ())).collect()
    }

    /// What a store holding `model` must read back, every way it is read.
    fn reads_as(r: &Records, model: &BTreeMap<Vec<u8>, Vec<u8>>) {
        let all: Vec<Row> = r.iter().map(Result::unwrap).collect();
        let want: Vec<Row> = model.clone().into_iter().collect();
        assert_eq!(all, want);
        assert_eq!(r.len(), model.len());
        for (k, v) in model.iter().step_by(97) {
            assert_eq!(r.get(k).unwrap().as_ref(), Some(v));
        }
        // Block keys rise with their records and bound them.
        let mut below: Option<IVec> = None;
        for kv in r.blocks.iter() {
            let (bk, b) = kv.unwrap();
            let rows = decode(&b).unwrap();
            assert!(!rows.is_empty());
            assert!(rows.iter().all(|(k, _)| k.as_slice() <= &bk[..]));
            assert!(below
                .as_ref()
                .is_none_or(|lo| rows.iter().all(|(k, _)| k.as_slice() > &lo[..])));
            below = Some(bk);
        }
    }

    #[test]
    fn a_hundred_thousand_rows_in_any_order_read_back_in_blocks_of_about_32_kib() {
        let (_d, r) = records();
        let mut model = BTreeMap::new();
        // Three imports: in order, backwards, then every seventh again.
        let first: Vec<Row> = (0..50_000).map(|n| (key(n), value(n, 0))).collect();
        let second: Vec<Row> = (50_000..100_000)
            .rev()
            .map(|n| (key(n), value(n, 0)))
            .collect();
        let third: Vec<Row> = (0..100_000)
            .step_by(7)
            .map(|n| (key(n), value(n, 1)))
            .collect();
        for import in [first, second, third] {
            for (k, v) in &import {
                model.insert(k.clone(), v.clone());
            }
            for chunk in import.chunks(10_000) {
                r.put(rows(chunk.to_vec()), &always).unwrap();
            }
        }
        reads_as(&r, &model);
        let blocks = r.blocks.len();
        let stored: usize = r.blocks.iter().values().map(|b| b.unwrap().len()).sum();
        let raw: usize = model.iter().map(|(k, v)| k.len() + v.len()).sum();
        assert!(
            (400..1_000).contains(&blocks),
            "{blocks} blocks for {raw} bytes"
        );
        assert!(stored * 2 < raw, "{stored} bytes stored for {raw}");
    }

    #[test]
    fn a_row_the_rule_refuses_leaves_the_record_held() {
        let (_d, r) = records();
        r.put(
            vec![((key(1), value(1, 5)), 5), ((key(2), value(2, 5)), 5)],
            &|_, _| true,
        )
        .unwrap();
        // Only rows of a later version replace what is held.
        let newer = |held: Option<&[u8]>, version: &u32| held.is_none() || *version > 5;
        let written = r
            .put(
                vec![
                    ((key(1), value(1, 3)), 3),
                    ((key(2), value(2, 7)), 7),
                    ((key(3), value(3, 0)), 0),
                ],
                &newer,
            )
            .unwrap();
        assert_eq!(written, vec![key(2), key(3)]);
        assert_eq!(r.get(&key(1)).unwrap(), Some(value(1, 5)));
        assert_eq!(r.get(&key(2)).unwrap(), Some(value(2, 7)));
    }

    #[test]
    fn records_of_an_older_store_are_read_moved_on_write_and_removed_from_either_tree() {
        let (_d, r) = records();
        for n in 0..10 {
            r.legacy.insert(key(n), value(n, 0)).unwrap();
        }
        r.put(
            rows(vec![(key(3), value(3, 1)), (key(20), value(20, 0))]),
            &always,
        )
        .unwrap();
        assert!(
            !r.legacy.contains_key(key(3)).unwrap(),
            "moved into a block"
        );
        assert_eq!(r.len(), 11);
        assert_eq!(r.get(&key(3)).unwrap(), Some(value(3, 1)));
        assert_eq!(r.get(&key(4)).unwrap(), Some(value(4, 0)));
        let mut cursor = HeldCursor::new(&r);
        assert_eq!(cursor.held(&key(4)).unwrap(), Some(value(4, 0)));
        assert_eq!(cursor.held(&key(20)).unwrap(), Some(value(20, 0)));
        assert!(r.any_held(&[&key(5)]).unwrap());
        assert!(!r.any_held(&[&key(11), &key(12)]).unwrap());
        let removal = r.removal(&[key(3), key(4)]).unwrap();
        for (bk, _, new) in &removal.blocks {
            match new {
                Some(v) => r.blocks.insert(bk, v.as_slice()).unwrap(),
                None => r.blocks.remove(bk).unwrap(),
            };
        }
        for k in &removal.legacy {
            r.legacy.remove(k).unwrap();
        }
        drop(removal);
        assert_eq!(r.get(&key(3)).unwrap(), None);
        assert_eq!(r.get(&key(4)).unwrap(), None);
        assert_eq!(r.len(), 9);
    }

    #[test]
    fn a_search_of_the_bytes_on_disk_finds_every_address_once_blocks_are_laid_bare() {
        let names = ["david.brennan", "olivia.overgaard", "maria.garcia"];
        let emails: Vec<String> = (0..150)
            .map(|n| format!("{}{n}@example{}.com", names[n % 3], n % 7))
            .collect();
        let rows: Vec<Row> = emails
            .iter()
            .enumerate()
            .map(|(n, e)| (key(n as u32), e.as_bytes().to_vec()))
            .collect();
        // As sled keeps it: the block among other bytes.
        let mut file = b"sled page header".to_vec();
        file.extend(encode(&rows));
        file.extend(b"more pages");
        let holds = |hay: &[u8], e: &String| hay.windows(e.len()).any(|w| w == e.as_bytes());
        let plain = emails.iter().filter(|e| holds(&file, e)).count();
        assert!(
            plain < emails.len() / 2,
            "LZ4 hides most addresses from a plain search ({plain} found)"
        );
        let bare = laid_bare(&file);
        assert!(emails.iter().all(|e| holds(&bare, e)));
        assert!(!holds(&bare, &"erased.person@example.com".to_string()));
    }

    #[test]
    fn a_block_in_the_first_header_still_reads() {
        let rows = vec![(key(1), value(1, 0)), (key(2), value(2, 0))];
        let now = encode(&rows);
        let mut first = vec![FIRST_TAG];
        first.extend_from_slice(&now[1..9]);
        first.extend_from_slice(&now[HEAD..]);
        assert_eq!(decode(&first), Some(rows.clone()));
        assert_eq!(count(&first), 2);
        assert_eq!(decode(&now), Some(rows));
    }

    #[test]
    fn a_damaged_block_is_an_error_not_a_record() {
        let (_d, r) = records();
        r.put(rows(vec![(key(1), value(1, 0))]), &always).unwrap();
        let (bk, mut b) = r.blocks.iter().next().unwrap().unwrap();
        let mut bytes = b.to_vec();
        bytes[6] ^= 0x40; // the length it claims
        b = bytes.into();
        r.blocks.insert(bk, b).unwrap();
        assert!(r.get(&key(1)).is_err());
        assert!(r.iter().next().unwrap().is_err());
        assert!(r.put(rows(vec![(key(1), value(1, 1))]), &always).is_err());
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]
        /// Any sequence of writes and removals reads back as a map would.
        #[test]
        fn blocks_read_back_as_a_map_after_any_writes_and_removals(
            ops in proptest::collection::vec(
                (proptest::bool::weighted(0.8), proptest::collection::vec(0u32..3_000, 1..600)),
                1..12,
            )
        ) {
            let (_d, r) = records();
            let mut model = BTreeMap::new();
            for (i, (write, keys)) in ops.into_iter().enumerate() {
                if write {
                    let written: Vec<Row> = keys.iter().map(|&n| (key(n), value(n, i as u32))).collect();
                    for (k, v) in &written {
                        model.insert(k.clone(), v.clone());
                    }
                    r.put(rows(written), &always).unwrap();
                } else {
                    let keys: Vec<Vec<u8>> = keys.iter().map(|&n| key(n)).collect();
                    let removal = r.removal(&keys).unwrap();
                    for (bk, old, new) in &removal.blocks {
                        let now = r.blocks.get(bk).unwrap();
                        prop_assert_eq!(now.as_ref(), Some(old));
                        match new {
                            Some(v) => r.blocks.insert(bk, v.as_slice()).unwrap(),
                            None => r.blocks.remove(bk).unwrap(),
                        };
                    }
                    drop(removal);
                    for k in &keys {
                        model.remove(k);
                    }
                }
            }
            reads_as(&r, &model);
        }
    }
}
