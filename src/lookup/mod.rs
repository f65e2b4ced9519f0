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

/// Below this many records every query scans them all (true fuzzy, typos and
/// all); above it, candidates come from word prefixes first.
pub const FULL_SCAN_LIMIT: usize = 20_000;
/// Most candidates scored for one query.
pub const MAX_CANDIDATES: usize = 2_500;

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

struct Entry {
    record: SourceRecord,
    /// Name · e-mails · phones · company · key, as shown and matched.
    label: String,
    ids: Vec<String>,
    subject: u32,
}

pub struct Index {
    entries: Vec<Entry>,
    /// (folded token, entry) sorted by token, for prefix search.
    tokens: Vec<(Box<str>, u32)>,
    subject_ids: Vec<String>,
    subject_flags: Vec<Flags>,
    /// DO NOT MARKET from a record's own status (unsubscribed, cleaned): the
    /// part of a subject's flags that does not come from cases or registers.
    status_dnm: Vec<bool>,
    /// Subject s's entries are `members[members_start[s]..members_start[s+1]]`.
    members_start: Vec<u32>,
    members: Vec<u32>,
    /// Registers held as keyed hashes, checked per shown subject.
    hashed: Option<HashedFlags>,
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

/// Tokens (sorted) and, per record, its identifiers and label.
type Prepared = (Vec<(Box<str>, u32)>, Vec<(Vec<String>, String)>);

/// The searchable words of a run of records, numbered from `offset`.
fn prepare(records: &[SourceRecord], offset: u32, cc: &str) -> Prepared {
    let mut tokens: Vec<(Box<str>, u32)> = Vec::with_capacity(records.len() * 6);
    let mut per_record = Vec::with_capacity(records.len());
    for (i, r) in records.iter().enumerate() {
        let i = offset + i as u32;
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
        tokens.extend(toks.into_iter().map(|t| (t.into_boxed_str(), i)));
        per_record.push((ids_of(r, cc), label_of(r)));
    }
    tokens.sort_unstable();
    (tokens, per_record)
}

/// Merges two sorted runs into one.
fn merge_sorted<T: Ord>(a: Vec<T>, b: Vec<T>) -> Vec<T> {
    let mut out = Vec::with_capacity(a.len() + b.len());
    let (mut a, mut b) = (a.into_iter().peekable(), b.into_iter().peekable());
    while let (Some(x), Some(y)) = (a.peek(), b.peek()) {
        if x <= y {
            out.push(a.next().expect("peeked"));
        } else {
            out.push(b.next().expect("peeked"));
        }
    }
    out.extend(a);
    out.extend(b);
    out
}

struct UnionFind(Vec<u32>);

impl UnionFind {
    fn find(&mut self, mut x: u32) -> u32 {
        while self.0[x as usize] != x {
            let p = self.0[x as usize];
            self.0[x as usize] = self.0[p as usize];
            x = p;
        }
        x
    }
    fn union(&mut self, a: u32, b: u32) {
        let (ra, rb) = (self.find(a), self.find(b));
        if ra != rb {
            let (lo, hi) = if ra < rb { (ra, rb) } else { (rb, ra) };
            self.0[hi as usize] = lo;
        }
    }
}

impl Index {
    /// Builds the index. `splits` holds store keys of records not to be linked.
    pub fn build(
        records: Vec<SourceRecord>,
        splits: &HashSet<Vec<u8>>,
        flags: &FlagSets,
        default_cc: &str,
    ) -> Index {
        let n = records.len();
        // Folding and tokenising is most of the work: split it over two threads
        // (the machines this runs on have two cores), each sorting its tokens;
        // the two sorted runs are merged below.
        let mid = n / 2;
        let (front, back) = records.split_at(mid);
        let ((toks_a, prep_a), (toks_b, prep_b)) = std::thread::scope(|scope| {
            let back_half = scope.spawn(|| prepare(back, mid as u32, default_cc));
            let front_half = prepare(front, 0, default_cc);
            (front_half, back_half.join().expect("index worker thread"))
        });
        let tokens = merge_sorted(toks_a, toks_b);
        let mut uf = UnionFind((0..n as u32).collect());
        let mut first_with: HashMap<String, u32> = HashMap::new();
        let mut entries = Vec::with_capacity(n);
        for (i, (r, (ids, label))) in records
            .into_iter()
            .zip(prep_a.into_iter().chain(prep_b))
            .enumerate()
        {
            let i = i as u32;
            if !splits.contains(&r.store_key()) {
                for id in &ids {
                    match first_with.get(id) {
                        Some(&j) => uf.union(i, j),
                        None => {
                            first_with.insert(id.clone(), i);
                        }
                    }
                }
            }
            entries.push(Entry {
                record: r,
                label,
                ids,
                subject: 0,
            });
        }
        // Subjects: one per linked group, named by a hash of its smallest identifier.
        let mut root_to_subject: HashMap<u32, u32> = HashMap::new();
        let mut subject_ids = Vec::new();
        let mut subject_flags: Vec<Flags> = Vec::new();
        let mut status_dnm: Vec<bool> = Vec::new();
        for i in 0..n as u32 {
            let root = uf.find(i);
            let s = *root_to_subject.entry(root).or_insert_with(|| {
                subject_ids.push(String::new());
                subject_flags.push(Flags::default());
                status_dnm.push(false);
                (subject_ids.len() - 1) as u32
            });
            let e = &mut entries[i as usize];
            e.subject = s;
            let f = &mut subject_flags[s as usize];
            for id in &e.ids {
                f.restricted |= flags.restricted.contains(id);
                f.do_not_market |= flags.do_not_market.contains(id);
                f.erased |= flags.erased.contains(id);
            }
            if crate::domain::register::marketing_stopped(e.record.status.as_deref()).is_some() {
                f.do_not_market = true;
                status_dnm[s as usize] = true;
            }
            let name = e
                .ids
                .first()
                .cloned()
                .unwrap_or_else(|| String::from_utf8_lossy(&e.record.store_key()).into_owned());
            let cur = &mut subject_ids[s as usize];
            if cur.is_empty() || name < *cur {
                *cur = name;
            }
        }
        for id in &mut subject_ids {
            *id = format!(
                "S-{}",
                &crate::domain::audit::sha256_hex(id.as_bytes())[..10]
            );
        }
        // Each subject's entries, in one flat array (for flags by keyed hash,
        // computed only for the subjects a query shows: hashing every
        // identifier at build took 3–5 s at 1M records).
        let mut members_start = vec![0u32; subject_ids.len() + 1];
        for e in &entries {
            members_start[e.subject as usize + 1] += 1;
        }
        for i in 1..members_start.len() {
            members_start[i] += members_start[i - 1];
        }
        let mut fill = members_start.clone();
        let mut members = vec![0u32; entries.len()];
        for (i, e) in entries.iter().enumerate() {
            let slot = &mut fill[e.subject as usize];
            members[*slot as usize] = i as u32;
            *slot += 1;
        }
        // Free the build's scratch space before warming up (see `warm_up`).
        drop(first_with);
        drop(root_to_subject);
        drop(uf);
        let index = Index {
            entries,
            tokens,
            subject_ids,
            subject_flags,
            status_dnm,
            members_start,
            members,
            hashed: flags.hashed.clone(),
            default_cc: default_cc.to_string(),
        };
        index.warm_up();
        index
    }

    /// Building frees millions of small temporary strings; glibc sorts those
    /// free chunks lazily, on the next allocations. Measured at 1M records, that
    /// made the first query take ~0.7 s (93% in `_int_malloc`) and later ones
    /// ~30 ms. One throwaway query here pays it during the (background) load
    /// instead of on the officer's first keystroke.
    fn warm_up(&self) {
        if self.entries.len() > FULL_SCAN_LIMIT {
            let _ = self.lookup(&matcher(), "e", 1);
        }
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// A subject's flags: from cases at build, plus the keyed-hash registers
    /// checked over every identifier of every record of the subject.
    fn flags_of(&self, s: u32, live: &Live) -> Flags {
        let (a, b) = (
            self.members_start[s as usize] as usize,
            self.members_start[s as usize + 1] as usize,
        );
        let members = &self.members[a..b];
        let Some(flags) = &live.flags else {
            return self.built_flags_of(s, members);
        };
        // The flags as they are now: the record's own status, plus every
        // identifier of the subject checked against the current sets.
        let mut f = Flags {
            do_not_market: self.status_dnm[s as usize],
            ..Flags::default()
        };
        for &i in members {
            let e = &self.entries[i as usize];
            if live.hides(&e.record) {
                continue;
            }
            for id in &e.ids {
                f.restricted |= flags.restricted.contains(id);
                f.do_not_market |= flags.do_not_market.contains(id);
                f.erased |= flags.erased.contains(id);
                if let Some(h) = &flags.hashed {
                    if h.do_not_market.is_empty() && h.erased.is_empty() {
                        continue;
                    }
                    if let Some(hash) = h.pseudo.of_key(id) {
                        f.do_not_market |= h.do_not_market.contains(&hash);
                        f.erased |= h.erased.contains(&hash);
                    }
                }
            }
        }
        f
    }

    /// The flags as they were when the index was built.
    fn built_flags_of(&self, s: u32, members: &[u32]) -> Flags {
        let mut f = self.subject_flags[s as usize];
        if let Some(h) = &self.hashed {
            if h.do_not_market.is_empty() && h.erased.is_empty() {
                return f;
            }
            for &i in members {
                for id in &self.entries[i as usize].ids {
                    if let Some(hash) = h.pseudo.of_key(id) {
                        f.do_not_market |= h.do_not_market.contains(&hash);
                        f.erased |= h.erased.contains(&hash);
                    }
                }
            }
        }
        f
    }

    pub fn subjects(&self) -> usize {
        self.subject_ids.len()
    }

    fn prefix<'a>(&'a self, t: &'a str) -> impl Iterator<Item = u32> + 'a {
        let start = self.tokens.partition_point(|(k, _)| k.as_ref() < t);
        self.tokens[start..]
            .iter()
            .take_while(move |(k, _)| k.starts_with(t))
            .map(|(_, i)| *i)
    }

    fn candidates(&self, tokens: &[String], phone: Option<(String, String)>) -> Vec<u32> {
        if self.entries.len() <= FULL_SCAN_LIMIT {
            return (0..self.entries.len() as u32).collect();
        }
        if let Some((e164, digits)) = phone {
            let tail = format!("~{}", digits.chars().rev().collect::<String>());
            let mut set: Vec<u32> = self
                .prefix(&e164)
                .chain(self.prefix(&digits))
                .chain(self.prefix(&tail))
                .take(MAX_CANDIDATES)
                .collect();
            set.sort_unstable();
            set.dedup();
            return set;
        }
        // Every query word must start some word of the record.
        let mut sets: Vec<HashSet<u32>> = tokens
            .iter()
            .map(|t| self.prefix(t).take(MAX_CANDIDATES * 20).collect())
            .collect();
        sets.sort_by_key(HashSet::len);
        let Some(first) = sets.first() else {
            return vec![];
        };
        let mut out: Vec<u32> = first
            .iter()
            .copied()
            .filter(|i| sets[1..].iter().all(|s| s.contains(i)))
            .collect();
        out.sort_unstable();
        out.truncate(MAX_CANDIDATES);
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
        let mut hits: Vec<(i64, u32, Vec<usize>, bool)> = Vec::new();
        for i in self.candidates(&tokens, phone.clone()) {
            let e = &self.entries[i as usize];
            if live.hides(&e.record) {
                continue;
            }
            let scored = match &phone {
                Some((e164, d)) => {
                    let found = e.record.phones.iter().any(|p| {
                        phone_tokens(p, &self.default_cc).iter().any(|t| {
                            t.starts_with(e164.as_str())
                                || t.starts_with(d.as_str())
                                || (!t.starts_with('~') && t.ends_with(d.as_str()))
                        })
                    });
                    found.then(|| (100 + d.len() as i64, highlight_digits(&e.label, d)))
                }
                None => score(matcher, &e.label, &tokens),
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
                hits.push((s, i, hl, by_mention));
            }
        }
        // Best subjects first; within a subject, best records first.
        let mut best: HashMap<u32, i64> = HashMap::new();
        for (s, i, _, _) in &hits {
            let subj = self.entries[*i as usize].subject;
            let b = best.entry(subj).or_insert(*s);
            *b = (*b).max(*s);
        }
        let mut order: Vec<(u32, i64)> = best.into_iter().collect();
        order.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        order.truncate(limit);
        let keep: HashMap<u32, usize> = order
            .iter()
            .enumerate()
            .map(|(pos, (s, _))| (*s, pos))
            .collect();
        let mut groups: Vec<Group> = order
            .iter()
            .map(|(s, _)| Group {
                subject: self.subject_ids[*s as usize].clone(),
                flags: self.flags_of(*s, live),
                hits: vec![],
            })
            .collect();
        hits.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        for (s, i, hl, by_mention) in hits {
            let e = &self.entries[i as usize];
            if let Some(&pos) = keep.get(&e.subject) {
                let mut hit = self.hit(e, s, hl, by_mention);
                hit.flags = groups[pos].flags;
                groups[pos].hits.push(hit);
            }
        }
        groups
    }

    fn hit(&self, e: &Entry, score: i64, highlight: Vec<usize>, by_mention: bool) -> Hit {
        let r = &e.record;
        Hit {
            source: r.source.clone(),
            record: r.key.clone(),
            name: r.display_name().to_string(),
            emails: r.emails.clone(),
            phones: r.phones.clone(),
            company: r.company.clone(),
            last_activity: r.last_activity,
            mentions: by_mention.then(|| r.mentions.join(" · ")),
            score,
            subject: self.subject_ids[e.subject as usize].clone(),
            flags: self.subject_flags[e.subject as usize],
            label: e.label.clone(),
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
        for s in 0..self.subject_ids.len() {
            if !self.status_dnm[s] {
                continue;
            }
            let (a, b) = (
                self.members_start[s] as usize,
                self.members_start[s + 1] as usize,
            );
            let members: Vec<&Entry> = self.members[a..b]
                .iter()
                .map(|&i| &self.entries[i as usize])
                .filter(|e| !live.hides(&e.record))
                .collect();
            let stopped: Vec<&&Entry> = members
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
        let s = self.subject_ids.iter().position(|x| x == subject)? as u32;
        let (a, b) = (
            self.members_start[s as usize] as usize,
            self.members_start[s as usize + 1] as usize,
        );
        let members: Vec<&Entry> = self.members[a..b]
            .iter()
            .map(|&i| &self.entries[i as usize])
            .filter(|e| !live.hides(&e.record))
            .collect();
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
            records: members.iter().map(|e| e.record.clone()).collect(),
            links,
            flags: self.flags_of(s, live),
            similar,
        })
    }

    /// Other people's records with a full name (two words or more, folded)
    /// that one of this person's records bears: possibly the same person
    /// under an address the lookup could not link.
    fn similar(&self, s: u32, members: &[&Entry], live: &Live) -> Vec<Similar> {
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
        'names: for name in &names {
            let tokens: Vec<String> = name.split(' ').map(str::to_string).collect();
            for i in self.candidates(&tokens, None) {
                let e = &self.entries[i as usize];
                if e.subject == s
                    || live.hides(&e.record)
                    || !e.record.names.iter().any(|n| norm(n) == *name)
                    || out
                        .iter()
                        .any(|x| x.record.store_key() == e.record.store_key())
                {
                    continue;
                }
                out.push(Similar {
                    subject: self.subject_ids[e.subject as usize].clone(),
                    same_company: e
                        .record
                        .company
                        .as_deref()
                        .is_some_and(|c| companies.contains(&norm(c))),
                    record: e.record.clone(),
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
