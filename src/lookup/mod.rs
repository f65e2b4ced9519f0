//! The lookup index: every source record, linked into subjects by shared
//! e-mail or phone, searchable by folded word prefixes and ranked by
//! fuzzy-matcher. Built off the input thread; one matcher per thread.

use crate::domain::fold::{fold, folded};
use crate::domain::identifier::{email_key, phone_key};
use crate::domain::record::SourceRecord;
use chrono::NaiveDate;
use fuzzy_matcher::skim::SkimMatcherV2;
use fuzzy_matcher::FuzzyMatcher;
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};

pub mod compact;
pub mod generation;

/// Below this many records every query scans them all (true fuzzy, typos and
/// all); above it, candidates come from word prefixes first.
pub const FULL_SCAN_LIMIT: usize = 20_000;
/// Most candidates scored for one query.
pub const MAX_CANDIDATES: usize = 2_500;
/// Records passed at a time from the reading thread to the writing one.
const BUILD_BATCH: usize = 1_000;
/// Most records gathered for one word of a query of several words.
const MAX_GATHER: u64 = 100_000;

/// Flags that must never be missed on a hit.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Flags {
    pub restricted: bool,
    #[serde(rename = "do-not-market")]
    pub do_not_market: bool,
    /// A record of someone already erased: it reappeared (restore, re-import).
    pub erased: bool,
}

impl Flags {
    pub fn words(&self) -> Vec<&'static str> {
        let mut v = Vec::new();
        if self.restricted {
            v.push("RESTRICTED");
        }
        if self.do_not_market {
            v.push("DO NOT MARKET");
        }
        if self.erased {
            v.push("ERASED");
        }
        v
    }
}

/// Identifier keys that carry a flag, derived from cases (restriction,
/// objection, erasure) by the services.
#[derive(Debug, Clone, Default)]
pub struct FlagSets {
    pub restricted: HashSet<String>,
    pub do_not_market: HashSet<String>,
    pub erased: HashSet<String>,
    /// The suppression list and backup marks hold keyed hashes only.
    pub hashed: Option<HashedFlags>,
}

impl FlagSets {
    /// The flags a person with these e-mails and phones carries.
    pub fn of_person(&self, emails: &[String], phones: &[String], cc: &str) -> Flags {
        use crate::domain::identifier::{email_key, phone_key};
        let keys: Vec<String> = emails
            .iter()
            .filter_map(|e| email_key(e))
            .chain(phones.iter().filter_map(|p| phone_key(p, cc)))
            .collect();
        let mut f = Flags::default();
        for k in &keys {
            f.restricted |= self.restricted.contains(k);
            f.do_not_market |= self.do_not_market.contains(k);
            f.erased |= self.erased.contains(k);
            if let Some(h) = &self.hashed {
                if let Some(hash) = h.pseudo.of_key(k) {
                    f.do_not_market |= h.do_not_market.contains(&hash);
                    f.erased |= h.erased.contains(&hash);
                }
            }
        }
        // A case already reduced to hashes still shows what it carries.
        if let Some(h) = &self.hashed {
            for e in emails {
                if let Some(hash) = e
                    .strip_prefix("hash:")
                    .and_then(crate::domain::pseudonym::unhex32)
                {
                    f.do_not_market |= h.do_not_market.contains(&hash);
                    f.erased |= h.erased.contains(&hash);
                }
            }
        }
        f
    }
}

/// Flags kept as keyed hashes (suppression list, erasure marks).
#[derive(Debug, Clone)]
pub struct HashedFlags {
    pub pseudo: crate::domain::pseudonym::Pseudonymiser,
    pub do_not_market: HashSet<[u8; 32]>,
    pub erased: HashSet<[u8; 32]>,
}

impl HashedFlags {
    /// From the registers' hex hashes.
    pub fn new<'a>(
        pseudo: crate::domain::pseudonym::Pseudonymiser,
        do_not_market: impl IntoIterator<Item = &'a str>,
        erased: impl IntoIterator<Item = &'a str>,
    ) -> HashedFlags {
        use crate::domain::pseudonym::unhex32;
        HashedFlags {
            pseudo,
            do_not_market: do_not_market.into_iter().filter_map(unhex32).collect(),
            erased: erased.into_iter().filter_map(unhex32).collect(),
        }
    }
}

/// What changed since an index was built, applied at every query until the
/// next build takes it in: the flags as they are now (from cases and the
/// registers), and the records an erasure removed.
#[derive(Debug, Clone, Default)]
pub struct Live {
    pub flags: Option<std::sync::Arc<FlagSets>>,
    /// Store keys of removed records, each with the change that removed it.
    pub removed: HashMap<Vec<u8>, u64>,
}

impl Live {
    fn hides(&self, r: &SourceRecord) -> bool {
        !self.removed.is_empty() && self.removed.contains_key(&r.store_key())
    }
}

/// The lookup index: a file opened by memory map (see `generation`), with
/// the flags it was opened with.
pub struct Index {
    whole: generation::Generation,
    delta: Option<Delta>,
    built: std::sync::Arc<FlagSets>,
    default_cc: String,
}

/// Everything known of one linked subject.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SubjectView {
    pub id: String,
    pub records: Vec<SourceRecord>,
    /// Identifiers shared by more than one record, and by how many: why they are linked.
    pub links: Vec<(String, usize)>,
    pub flags: Flags,
    /// Records of other people with the same full name (folded) and no
    /// shared e-mail or phone: possibly the same person. A hint for staff
    /// to check, never a link.
    #[serde(default)]
    pub similar: Vec<Similar>,
}

/// A record that may be the same person's: why it is only a hint.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Similar {
    pub subject: String,
    pub record: SourceRecord,
    /// The company agrees too (a stronger hint).
    pub same_company: bool,
}

/// Most hints shown for one person.
const MAX_SIMILAR: usize = 10;

/// One matching record.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Hit {
    pub source: String,
    pub record: String,
    pub name: String,
    pub emails: Vec<String>,
    pub phones: Vec<String>,
    pub company: Option<String>,
    pub last_activity: Option<NaiveDate>,
    /// Found only in a title or topic (a Zoom recording's): the record
    /// mentions the person, it is not theirs. The titles, as stored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mentions: Option<String>,
    pub score: i64,
    pub subject: String,
    pub flags: Flags,
    /// What is shown, and which of its chars matched (char indices).
    #[serde(skip)]
    pub label: String,
    #[serde(skip)]
    pub highlight: Vec<usize>,
}

/// The hits of one subject, best first.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Group {
    pub subject: String,
    pub flags: Flags,
    pub hits: Vec<Hit>,
}

fn ids_of(r: &SourceRecord, cc: &str) -> Vec<String> {
    let mut ids: Vec<String> = r.emails.iter().filter_map(|e| email_key(e)).collect();
    ids.extend(r.phones.iter().filter_map(|p| phone_key(p, cc)));
    ids.sort();
    ids.dedup();
    ids
}

/// What is shown and matched: the record's own words, then the titles that
/// may mention someone.
fn label_of(r: &SourceRecord) -> String {
    let mut label = own_label(r);
    for m in &r.mentions {
        label.push_str(" · ");
        label.push_str(m);
    }
    label
}

/// Name · e-mails · phones · company · key: the words that are the record's own.
fn own_label(r: &SourceRecord) -> String {
    let mut parts: Vec<&str> = Vec::new();
    parts.extend(r.names.iter().map(String::as_str));
    parts.extend(r.emails.iter().map(String::as_str));
    parts.extend(r.phones.iter().map(String::as_str));
    if let Some(c) = &r.company {
        parts.push(c);
    }
    parts.push(&r.key);
    parts.join(" · ")
}

/// Digits of a phone in the forms staff type: E.164, national with 0, and the
/// national significant number.
fn phone_tokens(p: &str, cc: &str) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(k) = phone_key(p, cc) {
        let digits = k.trim_start_matches('+').to_string();
        if let Some(nsn) = digits
            .strip_prefix(cc)
            .filter(|_| k.starts_with('+') && !cc.is_empty())
        {
            out.push(format!("0{nsn}"));
            out.push(nsn.to_string());
        }
        // Reversed, so a query of the last digits finds the number too.
        out.push(format!("~{}", digits.chars().rev().collect::<String>()));
        out.push(digits);
    }
    out
}

/// A record's searchable words (folded) and the identifiers that link it.
pub fn prepare(r: &SourceRecord, cc: &str) -> generation::Prepared {
    let mut toks: Vec<String> = Vec::new();
    for n in r.names.iter().chain(r.company.iter()).chain(&r.mentions) {
        toks.extend(
            folded(n)
                .split(|c: char| !c.is_alphanumeric())
                .filter(|t| !t.is_empty())
                .map(str::to_string),
        );
    }
    for e in &r.emails {
        // The key it links by, as a token too (a delta finds links by it).
        if let Some(k) = email_key(e) {
            toks.push(folded(&k));
        }
        let f = folded(e.trim());
        if let Some((local, domain)) = f.split_once('@') {
            toks.push(local.to_string());
            toks.push(domain.to_string());
        }
        toks.push(f);
    }
    for p in &r.phones {
        toks.extend(phone_tokens(p, cc));
    }
    toks.push(folded(&r.key));
    toks.sort();
    toks.dedup();
    generation::Prepared::new(toks, ids_of(r, cc))
}

/// One record read from the index, with what the query needs of it.
struct Entry {
    record: SourceRecord,
    ids: Vec<String>,
    subject: At,
}

impl Entry {
    fn label(&self) -> String {
        label_of(&self.record)
    }
}

/// Which file of the index a record or subject number is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Part {
    Whole,
    Delta,
}

/// A record or subject: its part and its number there.
type At = (Part, u32);

/// The records an import changed, indexed beside the whole file with the
/// subjects they touch: those subjects' records in the whole file are
/// superseded (hidden), so a person is never shown twice or half.
struct Delta {
    gen: generation::Generation,
    superseded: HashSet<u32>,
    hidden_records: usize,
}

/// Above this many records a delta is not worth it: the whole file is
/// written again.
pub const MAX_DELTA: usize = 50_000;

impl Index {
    /// Writes an index file of `records` into `file` (new and empty), with
    /// sorted runs spilled into `scratch`. Memory stays bounded whatever the
    /// number of records. `base` is zeros for a whole index, and for a
    /// delta the stamp of the whole index it lies on. Returns (records,
    /// subjects).
    pub fn write_file(
        file: impl std::io::Write,
        scratch: &std::path::Path,
        records: impl IntoIterator<Item = SourceRecord, IntoIter: Send>,
        splits: &HashSet<Vec<u8>>,
        default_cc: &str,
        stamp: [u8; 16],
        base: [u8; 16],
    ) -> std::io::Result<(usize, usize)> {
        // Two cores: one reads and tokenises the records, the other writes
        // the file; batches in between are bounded, so memory is too.
        let (tx, rx) = std::sync::mpsc::sync_channel::<generation::Batch>(4);
        let records = records.into_iter();
        std::thread::scope(|scope| {
            scope.spawn(move || {
                let mut batch = generation::Batch::default();
                for r in records {
                    let split = !splits.is_empty() && splits.contains(&r.store_key());
                    batch.push(&r, &prepare(&r, default_cc), split);
                    if batch.len() == BUILD_BATCH && tx.send(std::mem::take(&mut batch)).is_err() {
                        return;
                    }
                }
                let _ = tx.send(batch);
            });
            let mut b = generation::Builder::new(file, scratch);
            for batch in rx {
                b.add_batch(&batch)?;
            }
            b.finish(stamp, base, default_cc)
        })
    }

    /// Opens an index file; `flags` are the flags as they were when it was
    /// opened (a lookup given newer ones in `Live` uses those).
    pub fn open(
        file: &std::fs::File,
        flags: &FlagSets,
    ) -> Result<Index, generation::GenerationError> {
        let gen = generation::Generation::open(file)?;
        Ok(Index {
            default_cc: gen.cc.clone(),
            whole: gen,
            delta: None,
            built: std::sync::Arc::new(flags.clone()),
        })
    }

    /// Lays a delta file over this index (`None` if it is not a delta of
    /// this very file). The whole file's subjects that hold a record the
    /// delta holds too are superseded by the delta's.
    pub fn with_delta(mut self, file: &std::fs::File) -> Option<Index> {
        let gen = generation::Generation::open(file).ok()?;
        if gen.base != self.whole.stamp || gen.cc != self.whole.cc {
            return None;
        }
        let mut superseded = HashSet::new();
        for i in 0..gen.records as u32 {
            let (r, _) = gen.record(i)?;
            for j in self.same_record_in_whole(&r) {
                superseded.insert(self.whole.subject_of(j));
            }
        }
        let hidden_records = superseded
            .iter()
            .map(|&s| self.whole.members(s).len())
            .sum();
        self.delta = Some(Delta {
            gen,
            superseded,
            hidden_records,
        });
        Some(self)
    }

    /// The whole file's record with this record's store key, if any.
    fn same_record_in_whole(&self, r: &SourceRecord) -> Vec<u32> {
        let key = r.store_key();
        self.whole
            .exact(&folded(&r.key))
            .into_iter()
            .filter(|&j| {
                self.whole
                    .record(j)
                    .is_some_and(|(w, _)| w.store_key() == key)
            })
            .collect()
    }

    /// Store keys of the whole file's records a delta of `changed` must
    /// hold too: every record of each subject a changed record was in
    /// (same store key) or now links to (a shared identifier), and those
    /// already in the delta. The caller reads them from the store as they
    /// now are.
    pub fn delta_with(&self, changed: &[SourceRecord]) -> Vec<Vec<u8>> {
        let mut subjects: HashSet<u32> = HashSet::new();
        for r in changed {
            subjects.extend(
                self.same_record_in_whole(r)
                    .into_iter()
                    .map(|j| self.whole.subject_of(j)),
            );
            let prep = prepare(r, &self.default_cc);
            for id in &prep.ids {
                // The token an identifier is indexed under: the folded
                // e-mail, or the phone's digits.
                let token = match id.strip_prefix('+') {
                    Some(digits) => digits.to_string(),
                    None => folded(id),
                };
                for j in self.whole.exact(&token) {
                    let linked = self
                        .whole
                        .record(j)
                        .is_some_and(|(_, ids)| ids.iter().any(|x| x == id));
                    if linked {
                        subjects.insert(self.whole.subject_of(j));
                    }
                }
            }
        }
        let mut keys: Vec<Vec<u8>> = Vec::new();
        if let Some(d) = &self.delta {
            subjects.extend(d.superseded.iter().copied());
            keys.extend(
                (0..d.gen.records as u32)
                    .filter_map(|i| d.gen.record(i))
                    .map(|(r, _)| r.store_key()),
            );
        }
        for s in subjects {
            keys.extend(
                self.whole
                    .members(s)
                    .into_iter()
                    .filter_map(|j| self.whole.record(j))
                    .map(|(r, _)| r.store_key()),
            );
        }
        keys.sort();
        keys.dedup();
        keys
    }

    /// Builds an index of records in memory's stead: an unnamed temporary
    /// file (benches, tests). The desk writes its index beside the store.
    pub fn build(
        records: Vec<SourceRecord>,
        splits: &HashSet<Vec<u8>>,
        flags: &FlagSets,
        default_cc: &str,
    ) -> Index {
        let dir = std::env::temp_dir();
        let file = tempfile::tempfile_in(&dir).expect("a temporary file for the index");
        Index::write_file(&file, &dir, records, splits, default_cc, [1; 16], [0; 16])
            .expect("the index is written");
        Index::open(&file, flags).expect("the index just written opens")
    }

    /// The store's records stamp the index (with its delta) is of.
    pub fn stamp(&self) -> [u8; 16] {
        self.delta
            .as_ref()
            .map_or(self.whole.stamp, |d| d.gen.stamp)
    }

    /// The stamp of the whole file (a delta lies on it).
    pub fn whole_stamp(&self) -> [u8; 16] {
        self.whole.stamp
    }

    /// Records in the delta (none: the whole file only).
    pub fn delta_len(&self) -> usize {
        self.delta.as_ref().map_or(0, |d| d.gen.records)
    }

    /// The country code national phone numbers were read with.
    pub fn country_code(&self) -> &str {
        &self.default_cc
    }

    pub fn len(&self) -> usize {
        match &self.delta {
            None => self.whole.records,
            Some(d) => self.whole.records - d.hidden_records + d.gen.records,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn subjects(&self) -> usize {
        match &self.delta {
            None => self.whole.subjects,
            Some(d) => self.whole.subjects - d.superseded.len() + d.gen.subjects,
        }
    }

    fn part(&self, p: Part) -> &generation::Generation {
        match (p, &self.delta) {
            (Part::Delta, Some(d)) => &d.gen,
            _ => &self.whole,
        }
    }

    fn parts(&self) -> Vec<Part> {
        match self.delta {
            None => vec![Part::Whole],
            Some(_) => vec![Part::Whole, Part::Delta],
        }
    }

    /// Whether a subject is shown (not superseded by the delta).
    fn shown(&self, (p, s): At) -> bool {
        p == Part::Delta
            || self
                .delta
                .as_ref()
                .is_none_or(|d| !d.superseded.contains(&s))
    }

    /// The store key of a subject's first record (its records are in
    /// store-key order, as the index was written).
    fn first_key(&self, (p, s): At) -> Vec<u8> {
        let gen = self.part(p);
        gen.members(s)
            .first()
            .and_then(|&i| gen.record(i))
            .map(|(r, _)| r.store_key())
            .unwrap_or_default()
    }

    fn subject_id(&self, (p, s): At) -> String {
        self.part(p).subject_id(s)
    }

    fn entry(&self, (p, i): At) -> Option<Entry> {
        let gen = self.part(p);
        let (record, ids) = gen.record(i)?;
        Some(Entry {
            record,
            ids,
            subject: (p, gen.subject_of(i)),
        })
    }

    fn members(&self, (p, s): At, live: &Live) -> Vec<Entry> {
        self.part(p)
            .members(s)
            .into_iter()
            .filter_map(|i| self.entry((p, i)))
            .filter(|e| !live.hides(&e.record))
            .collect()
    }

    /// A subject's flags now: the records' own status, plus every
    /// identifier of its records checked against the flag sets (those in
    /// `live`, else those the index was opened with) and the keyed-hash
    /// registers.
    fn flags_of(&self, s: At, live: &Live) -> Flags {
        let flags = live.flags.as_deref().unwrap_or(&self.built);
        let mut f = Flags {
            do_not_market: self.part(s.0).status_dnm(s.1),
            ..Flags::default()
        };
        let hashed = flags
            .hashed
            .as_ref()
            .filter(|h| !(h.do_not_market.is_empty() && h.erased.is_empty()));
        for e in self.members(s, live) {
            for id in &e.ids {
                f.restricted |= flags.restricted.contains(id);
                f.do_not_market |= flags.do_not_market.contains(id);
                f.erased |= flags.erased.contains(id);
                if let Some(h) = hashed {
                    if let Some(hash) = h.pseudo.of_key(id) {
                        f.do_not_market |= h.do_not_market.contains(&hash);
                        f.erased |= h.erased.contains(&hash);
                    }
                }
            }
        }
        f
    }

    /// Candidate records in both parts, those of superseded subjects left out.
    fn candidates(&self, tokens: &[String], phone: Option<(String, String)>) -> Vec<At> {
        let mut out = Vec::new();
        // Both parts are searched alike: typos are forgiven in a small
        // index, in neither part of a large one.
        let scan_all = self.len() <= FULL_SCAN_LIMIT;
        for p in self.parts() {
            let gen = self.part(p);
            out.extend(
                candidates_in(gen, scan_all, tokens, phone.clone())
                    .into_iter()
                    .map(|i| (p, i))
                    .filter(|&(p, i)| self.shown((p, gen.subject_of(i)))),
            );
        }
        out
    }

    /// The best `limit` subjects for a query, hits grouped by subject.
    pub fn lookup(&self, matcher: &SkimMatcherV2, query: &str, limit: usize) -> Vec<Group> {
        self.lookup_live(matcher, query, limit, &Live::default())
    }

    /// A lookup with what changed since the build applied: removed records
    /// are not found, flags are the current ones.
    pub fn lookup_live(
        &self,
        matcher: &SkimMatcherV2,
        query: &str,
        limit: usize,
        live: &Live,
    ) -> Vec<Group> {
        let q = folded(query.trim());
        let tokens: Vec<String> = q.split_whitespace().map(str::to_string).collect();
        if tokens.is_empty() {
            return vec![];
        }
        let digits: String = query.chars().filter(char::is_ascii_digit).collect();
        let phoneish = digits.len() >= 4
            && query
                .trim()
                .chars()
                .all(|c| c.is_ascii_digit() || " +-().".contains(c));
        let phone = phoneish.then(|| {
            let e164 = phone_key(query, &self.default_cc)
                .map(|k| k.trim_start_matches('+').to_string())
                .unwrap_or_else(|| digits.clone());
            (e164, digits.clone())
        });
        let mut hits: Vec<(i64, Entry, String, Vec<usize>, bool)> = Vec::new();
        for i in self.candidates(&tokens, phone.clone()) {
            let Some(e) = self.entry(i) else { continue };
            if live.hides(&e.record) {
                continue;
            }
            let label = e.label();
            let scored = match &phone {
                Some((e164, d)) => {
                    let found = e.record.phones.iter().any(|p| {
                        phone_tokens(p, &self.default_cc).iter().any(|t| {
                            t.starts_with(e164.as_str())
                                || t.starts_with(d.as_str())
                                || (!t.starts_with('~') && t.ends_with(d.as_str()))
                        })
                    });
                    found.then(|| (100 + d.len() as i64, highlight_digits(&label, d)))
                }
                // Scored without highlights: those are worked out below for
                // the hits shown only (most candidates are not).
                None => score_only(matcher, &label, &tokens).map(|s| (s, Vec::new())),
            };
            if let Some((s, hl)) = scored {
                // Found only in a title: the record mentions the person
                // rather than being theirs (fuzzy, so a topic that merely
                // contains the letters is not found as them).
                let by_mention = !e.record.mentions.is_empty()
                    && score(matcher, &own_label(&e.record), &tokens).is_none();
                if by_mention && !words_start_with(&e.record, &tokens) {
                    continue;
                }
                hits.push((s, e, label, hl, by_mention));
            }
        }
        // Best subjects first; within a subject, best records first.
        let mut best: HashMap<At, i64> = HashMap::new();
        for (s, e, ..) in &hits {
            let b = best.entry(e.subject).or_insert(*s);
            *b = (*b).max(*s);
        }
        let mut order: Vec<(At, i64)> = best.into_iter().collect();
        // Ties in the order a freshly written index gives: by the subject's
        // first store key. Within one part, subject numbers are in that
        // order already; only a delta's subjects need their key read.
        let first_keys: HashMap<At, Vec<u8>> = if self.delta.is_some() {
            order
                .iter()
                .map(|(s, _)| (*s, self.first_key(*s)))
                .collect()
        } else {
            HashMap::new()
        };
        order.sort_by(|a, b| {
            b.1.cmp(&a.1).then_with(|| {
                if a.0 .0 == b.0 .0 {
                    a.0.cmp(&b.0)
                } else {
                    first_keys.get(&a.0).cmp(&first_keys.get(&b.0))
                }
            })
        });
        order.truncate(limit);
        let keep: HashMap<At, usize> = order
            .iter()
            .enumerate()
            .map(|(pos, (s, _))| (*s, pos))
            .collect();
        let mut groups: Vec<Group> = order
            .iter()
            .map(|(s, _)| Group {
                subject: self.subject_id(*s),
                flags: self.flags_of(*s, live),
                hits: vec![],
            })
            .collect();
        // Ties in record order, as the index holds them.
        hits.sort_by_key(|h| std::cmp::Reverse(h.0));
        for (s, e, label, mut hl, by_mention) in hits {
            if let Some(&pos) = keep.get(&e.subject) {
                if phone.is_none() {
                    hl = score(matcher, &label, &tokens)
                        .map(|x| x.1)
                        .unwrap_or_default();
                }
                let mut hit = self.hit(e, label, s, hl, by_mention);
                hit.flags = groups[pos].flags;
                groups[pos].hits.push(hit);
            }
        }
        groups
    }

    fn hit(
        &self,
        e: Entry,
        label: String,
        score: i64,
        highlight: Vec<usize>,
        by_mention: bool,
    ) -> Hit {
        let subject = self.subject_id(e.subject);
        let r = e.record;
        Hit {
            name: r.display_name().to_string(),
            mentions: by_mention.then(|| r.mentions.join(" · ")),
            source: r.source,
            record: r.key,
            emails: r.emails,
            phones: r.phones,
            company: r.company,
            last_activity: r.last_activity,
            score,
            subject,
            flags: Flags::default(),
            label,
            highlight,
        }
    }

    /// The identifier keys (e-mail and phone keys) a marketing tool's
    /// unsubscribe reaches: the unsubscribed or cleaned records' own, and
    /// those of the records the lookup links to them that are the same
    /// person's — sharing an e-mail, or bearing the same name (a phone
    /// alone is a household or a switchboard: a colleague on it is not
    /// unsubscribed). Cases and the list are checked by their own
    /// identifiers beside these.
    pub fn do_not_market_ids(&self, live: &Live) -> Vec<String> {
        use crate::domain::register::marketing_stopped;
        let norm = |n: &str| folded(n).split_whitespace().collect::<Vec<_>>().join(" ");
        let mut out = Vec::new();
        let subjects = self.parts().into_iter().flat_map(|p| {
            (0..self.part(p).subjects as u32)
                .map(move |s| (p, s))
                .filter(|&(p, s)| self.part(p).status_dnm(s) && self.shown((p, s)))
        });
        for s in subjects {
            let members = self.members(s, live);
            let stopped: Vec<&Entry> = members
                .iter()
                .filter(|e| marketing_stopped(e.record.status.as_deref()).is_some())
                .collect();
            let names: HashSet<String> = stopped
                .iter()
                .flat_map(|e| e.record.names.iter().map(|n| norm(n)))
                .collect();
            let emails: HashSet<&String> = stopped
                .iter()
                .flat_map(|e| e.ids.iter().filter(|i| i.contains('@')))
                .collect();
            for e in &members {
                let same = marketing_stopped(e.record.status.as_deref()).is_some()
                    || e.ids.iter().any(|i| emails.contains(i))
                    || e.record.names.iter().any(|n| names.contains(&norm(n)));
                if same {
                    out.extend(e.ids.iter().cloned());
                }
            }
        }
        out.sort();
        out.dedup();
        out
    }

    /// Every record of a subject, with the identifiers that link them.
    pub fn subject(&self, subject: &str) -> Option<SubjectView> {
        self.subject_live(subject, &Live::default())
    }

    /// A subject's records still held (none: gone since the build).
    pub fn subject_live(&self, subject: &str, live: &Live) -> Option<SubjectView> {
        let in_delta = self
            .delta
            .as_ref()
            .and_then(|d| d.gen.subject_named(subject))
            .map(|s| (Part::Delta, s));
        let s = match in_delta {
            Some(s) => s,
            None => Some((Part::Whole, self.whole.subject_named(subject)?))
                .filter(|&s| self.shown(s))?,
        };
        let members = self.members(s, live);
        if members.is_empty() {
            return None;
        }
        let mut counts: HashMap<&str, usize> = HashMap::new();
        for e in &members {
            for id in &e.ids {
                *counts.entry(id.as_str()).or_default() += 1;
            }
        }
        let mut links: Vec<(String, usize)> = counts
            .into_iter()
            .filter(|(_, c)| *c > 1)
            .map(|(k, c)| (k.to_string(), c))
            .collect();
        links.sort();
        let similar = self.similar(s, &members, live);
        Some(SubjectView {
            id: subject.to_string(),
            flags: self.flags_of(s, live),
            records: members.into_iter().map(|e| e.record).collect(),
            links,
            similar,
        })
    }

    /// Other people's records with a full name (two words or more, folded)
    /// that one of this person's records bears: possibly the same person
    /// under an address the lookup could not link.
    fn similar(&self, s: At, members: &[Entry], live: &Live) -> Vec<Similar> {
        let norm = |n: &str| folded(n).split_whitespace().collect::<Vec<_>>().join(" ");
        let names: HashSet<String> = members
            .iter()
            .flat_map(|e| e.record.names.iter().map(|n| norm(n)))
            .filter(|n| n.split(' ').count() >= 2)
            .collect();
        let companies: HashSet<String> = members
            .iter()
            .filter_map(|e| e.record.company.as_deref().map(norm))
            .filter(|c| !c.is_empty())
            .collect();
        let mut out: Vec<Similar> = Vec::new();
        let mut names: Vec<String> = names.into_iter().collect();
        names.sort();
        'names: for name in &names {
            let tokens: Vec<String> = name.split(' ').map(str::to_string).collect();
            for i in self.candidates(&tokens, None) {
                let Some(e) = self.entry(i) else { continue };
                if e.subject == s {
                    continue;
                }
                if live.hides(&e.record)
                    || !e.record.names.iter().any(|n| norm(n) == *name)
                    || out
                        .iter()
                        .any(|x| x.record.store_key() == e.record.store_key())
                {
                    continue;
                }
                out.push(Similar {
                    subject: self.subject_id(e.subject),
                    same_company: e
                        .record
                        .company
                        .as_deref()
                        .is_some_and(|c| companies.contains(&norm(c))),
                    record: e.record,
                });
                if out.len() >= MAX_SIMILAR {
                    break 'names;
                }
            }
        }
        // The company agreeing first.
        out.sort_by_key(|x| !x.same_company);
        out
    }
}

/// Candidate records of one file for a query.
fn candidates_in(
    gen: &generation::Generation,
    scan_all: bool,
    tokens: &[String],
    phone: Option<(String, String)>,
) -> Vec<u32> {
    if scan_all {
        return (0..gen.records as u32).collect();
    }
    if let Some((e164, digits)) = phone {
        let tail = format!("~{}", digits.chars().rev().collect::<String>());
        let mut set: Vec<u32> = Vec::new();
        for t in [&e164, &digits, &tail] {
            set.extend(gen.prefixed(t, MAX_CANDIDATES));
        }
        set.sort_unstable();
        set.dedup();
        set.truncate(MAX_CANDIDATES);
        return set;
    }
    // Every query word must start some word of the record. One word
    // needs no more candidates than are scored (exact tokens come
    // first, they sort first). With more, each word's records are
    // gathered whole and intersected, so no real hit is cut off; a word
    // so common that gathering it would cost more than it narrows
    // (`MAX_GATHER`) is left to the scoring, which still needs it.
    // A record comes once, however many of its words a prefix starts (an
    // e-mail's local part and the whole address).
    let once = |mut l: Vec<u32>| {
        l.sort_unstable();
        l.dedup();
        l
    };
    if tokens.len() == 1 {
        return once(gen.prefixed(&tokens[0], MAX_CANDIDATES));
    }
    // Each word's records, sorted: every record a word starts, or, for a
    // word that starts too many (a first name starts a million e-mail
    // addresses), the records holding it as a whole word. A word common
    // even so, and with no whole-word records, is left to the scoring.
    let mut lists: Vec<Vec<u32>> = Vec::new();
    let mut widest: Option<(u64, &String)> = None;
    for t in tokens {
        let n = gen.prefix_count(t, MAX_GATHER);
        let list = if n <= MAX_GATHER {
            let mut l = gen.prefixed(t, MAX_GATHER as usize);
            l.sort_unstable();
            l.dedup();
            l
        } else {
            // One token's postings are in record order already.
            gen.exact(t)
        };
        if list.is_empty() && n > MAX_GATHER {
            if widest.is_none_or(|(m, _)| n < m) {
                widest = Some((n, t));
            }
            continue;
        }
        lists.push(list);
    }
    if lists.is_empty() {
        // Every word too common: the records the least common starts.
        return widest
            .map(|(_, t)| once(gen.prefixed(t, MAX_CANDIDATES)))
            .unwrap_or_default();
    }
    lists.sort_by_key(Vec::len);
    let Some((first, rest)) = lists.split_first() else {
        return vec![];
    };
    first
        .iter()
        .copied()
        .filter(|i| rest.iter().all(|l| l.binary_search(i).is_ok()))
        .take(MAX_CANDIDATES)
        .collect()
}

/// Whether every query word starts a word of the record (its own or its
/// titles'): how a title is held to name someone, since a fuzzy match of a
/// long title finds scattered letters of almost any name.
fn words_start_with(r: &SourceRecord, tokens: &[String]) -> bool {
    let text = folded(&label_of(r));
    let words: Vec<&str> = text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    tokens
        .iter()
        .all(|t| words.iter().any(|w| w.starts_with(t.as_str())))
}

/// Sum of each query word's fuzzy score against the folded label; `None` if a
/// word does not match. Highlights map back to chars of the original label.
fn score(matcher: &SkimMatcherV2, label: &str, tokens: &[String]) -> Option<(i64, Vec<usize>)> {
    let f = fold(label);
    let mut total = 0;
    let mut hl: Vec<usize> = Vec::new();
    for t in tokens {
        let (s, idx) = matcher.fuzzy_indices(&f.text, t)?;
        total += s;
        hl.extend(
            idx.into_iter()
                .filter_map(|i| f.origin.get(i).map(|&o| o as usize)),
        );
    }
    hl.sort_unstable();
    hl.dedup();
    Some((total, hl))
}

/// `score` without the highlights (cheaper: most candidates are not shown).
fn score_only(matcher: &SkimMatcherV2, label: &str, tokens: &[String]) -> Option<i64> {
    let f = folded(label);
    let mut total = 0;
    for t in tokens {
        total += matcher.fuzzy_match(&f, t)?;
    }
    Some(total)
}

/// Highlights the typed digits inside the label's phone numbers.
fn highlight_digits(label: &str, digits: &str) -> Vec<usize> {
    let chars: Vec<char> = label.chars().collect();
    let want: Vec<char> = digits.chars().collect();
    for start in 0..chars.len() {
        let mut k = 0;
        let mut out = Vec::new();
        for (j, c) in chars.iter().enumerate().skip(start) {
            if k == want.len() {
                break;
            }
            if *c == want[k] {
                out.push(j);
                k += 1;
            } else if !" -().+".contains(*c) {
                break;
            }
        }
        if k == want.len() {
            return out;
        }
    }
    vec![]
}

/// A matcher set up as the desk uses it: smart case off (we fold ourselves),
/// a bounded element limit so a huge haystack cannot blow up matching.
pub fn matcher() -> SkimMatcherV2 {
    SkimMatcherV2::default().ignore_case().element_limit(4096)
}
