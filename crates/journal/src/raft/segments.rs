//! The Raft log's files: append-only segments in `<raft dir>/log/`.
//!
//! A segment is `log-<first index, 20 digits>`: the header `ALXRSLOG` + `u32` format version,
//! then records `u32 length | u32 crc32c(payload) | payload` where the payload is one
//! bincode-encoded openraft entry. Indexes are contiguous, within a segment and from one
//! segment to the next, so an entry is found from its position alone.
//!
//! Crash safety: an append is durable once `fdatasync` returns; a crash mid-append leaves a
//! torn record at the end of the last segment, which [`scan`] detects (short or bad checksum)
//! and opening cuts off with a log line. Damage anywhere else is an error naming the file.
//! The vote and the purge point are small files replaced atomically (write, fsync, rename).

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use openraft::{LogId, Vote};

use super::TypeConfig;
use crate::error::io;
use crate::frame::{self, Tail};
use crate::JournalError;

type Entry = openraft::Entry<TypeConfig>;

const MAGIC: &[u8; 8] = b"ALXRSLOG";
const VERSION: u32 = 1;
/// Header bytes before the first record.
pub const HEADER: u64 = 12;
/// A new segment is started once the current one is this large.
const SEGMENT_BYTES: u64 = 64 << 20;
/// No record may claim more than this (a damaged length must not make us allocate it).
const MAX_RECORD: usize = 256 << 20;

/// What [`scan`] found in one segment's bytes.
#[derive(Debug, Default)]
pub struct Scan {
    /// Byte offset of each good record, in index order.
    pub offsets: Vec<u64>,
    /// The id of the last good entry.
    pub last: Option<LogId<u64>>,
    /// Bytes up to the end of the last good record.
    pub valid_len: u64,
    /// Why the bytes after `valid_len` are not a record, if there are any.
    pub damage: Option<String>,
    /// The damage is not what a torn append leaves ([`frame::classify`]): corruption of
    /// entries already acknowledged.
    pub corrupt: bool,
}

/// The segment header.
pub fn header() -> [u8; HEADER as usize] {
    let mut h = [0u8; HEADER as usize];
    h[..8].copy_from_slice(MAGIC);
    h[8..].copy_from_slice(&VERSION.to_le_bytes());
    h
}

/// Appends one record for `entry` to `out`.
pub fn encode_record(entry: &Entry, out: &mut Vec<u8>) -> Result<(), JournalError> {
    frame::encode_with(out, |o| bincode::serialize_into(o, entry))
        .map_err(|e| JournalError::Encode { what: "a Raft log entry", reason: e.to_string() })
}

fn decode_payload(payload: &[u8]) -> Result<Entry, JournalError> {
    bincode::deserialize(payload)
        .map_err(|e| JournalError::Undecodable { what: "a Raft log entry".into(), reason: e.to_string() })
}

/// Reads the bytes of segment `file` whose first record should hold index `first`. Never
/// panics on any input; a bad header is an error (the file is not a segment of ours, or is
/// newer).
pub fn scan(file: &Path, bytes: &[u8], first: u64) -> Result<Scan, JournalError> {
    if bytes.len() < HEADER as usize || &bytes[..8] != MAGIC {
        let reason = "not an alluxio-rs Raft log segment (bad header)".into();
        return Err(JournalError::RaftCorrupt { file: file.into(), offset: 0, reason });
    }
    let version = u32::from_le_bytes(bytes[8..12].try_into().unwrap_or_default());
    if version != VERSION {
        return Err(JournalError::IncompatibleVersion { file: file.into(), found: version });
    }
    let mut scan = Scan { valid_len: HEADER, ..Default::default() };
    let mut at = HEADER as usize;
    while at < bytes.len() {
        let expected = first + scan.offsets.len() as u64;
        let decoded = frame::record(bytes, at, MAX_RECORD).map(|(p, end)| (decode_payload(p), end));
        let tail = match decoded {
            Some((Ok(entry), end)) if entry.log_id.index == expected => {
                scan.offsets.push(at as u64);
                scan.last = Some(entry.log_id);
                at = end;
                scan.valid_len = at as u64;
                continue;
            }
            Some((Ok(entry), _)) => Tail::Damaged(format!("holds index {}", entry.log_id.index)),
            _ => frame::classify(bytes, at, MAX_RECORD, |p| {
                decode_payload(p).is_ok_and(|e| e.log_id.index == expected + 1)
            }),
        };
        scan.damage = Some(format!("record at byte {at} (index {expected}): {}", tail.reason()));
        scan.corrupt = matches!(tail, Tail::Damaged(_));
        break;
    }
    Ok(scan)
}

/// The entries of a segment's bytes, decoded, with the [`Scan`] that found them (read-only:
/// for dumping a stopped master's log).
pub fn entries(file: &Path, bytes: &[u8], first: u64) -> Result<(Vec<Entry>, Scan), JournalError> {
    let scan = scan(file, bytes, first)?;
    let mut out = Vec::with_capacity(scan.offsets.len());
    for &at in &scan.offsets {
        let at = at as usize;
        let len = u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap_or_default()) as usize;
        out.push(decode_payload(&bytes[at + 8..at + 8 + len])?);
    }
    Ok((out, scan))
}

/// One segment file.
pub struct Segment {
    pub first: u64,
    pub offsets: Vec<u64>,
    pub len: u64,
    pub file: Arc<File>,
    pub path: PathBuf,
}

impl Segment {
    /// One past the last index it holds.
    pub fn end(&self) -> u64 {
        self.first + self.offsets.len() as u64
    }
}

/// All segments, the purge point and the id of the last durable entry.
#[derive(Default)]
pub struct Segments {
    pub dir: PathBuf,
    pub list: Vec<Segment>,
    pub purged: Option<LogId<u64>>,
    pub last: Option<LogId<u64>>,
}

/// The refusal to start on a damaged segment: what was found and what the operator can do.
fn damaged(path: &Path, offset: u64, why: &str) -> JournalError {
    JournalError::RaftCorrupt { file: path.into(), offset, reason: why.to_owned() }
}

fn segment_path(dir: &Path, first: u64) -> PathBuf {
    dir.join(format!("log-{first:020}"))
}

fn sync_dir(dir: &Path) -> Result<(), JournalError> {
    File::open(dir).and_then(|d| d.sync_all()).map_err(io("sync", dir))
}

/// Replaces `dir/name` with `bytes` so that a crash leaves the old or the new content.
pub fn write_atomically(dir: &Path, name: &str, bytes: &[u8]) -> Result<(), JournalError> {
    alluxio_common::private::write_atomically(dir, name, bytes).map_err(io("write", &dir.join(name)))
}

fn read_small<T: serde::de::DeserializeOwned>(path: &Path) -> Result<Option<T>, JournalError> {
    match std::fs::read(path) {
        Ok(b) => bincode::deserialize(&b).map(Some).map_err(|e| JournalError::Corrupt {
            file: path.into(),
            offset: 0,
            reason: e.to_string(),
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io("read", path)(e)),
    }
}

fn encode<T: serde::Serialize>(what: &'static str, v: &T) -> Result<Vec<u8>, JournalError> {
    bincode::serialize(v).map_err(|e| JournalError::Encode { what, reason: e.to_string() })
}

/// The vote saved by [`save_vote`] in `dir`.
pub fn read_vote(dir: &Path) -> Result<Option<Vote<u64>>, JournalError> {
    read_small(&dir.join("vote"))
}

/// Saves the vote in `dir` durably.
pub fn save_vote(dir: &Path, vote: &Vote<u64>) -> Result<(), JournalError> {
    write_atomically(dir, "vote", &encode("the vote", vote)?)
}

impl Segments {
    /// Opens `dir` (creating it), checks every segment and cuts a torn tail off the last one.
    pub fn open(dir: &Path) -> Result<Segments, JournalError> {
        alluxio_common::private::create_dir_all(dir).map_err(io("create", dir))?;
        let purged: Option<LogId<u64>> = read_small(&dir.join("purged"))?;
        let mut firsts = Vec::new();
        for d in std::fs::read_dir(dir).map_err(io("list", dir))? {
            let name = d.map_err(io("list", dir))?.file_name();
            let name = name.to_string_lossy();
            if name.starts_with(".log-") && name.ends_with(".tmp") {
                // A segment whose creation a crash interrupted: it never held an entry.
                let tmp = dir.join(&*name);
                std::fs::remove_file(&tmp).map_err(io("delete", &tmp))?;
                continue;
            }
            if let Some(n) = name.strip_prefix("log-") {
                let first = n.parse::<u64>().map_err(|_| JournalError::UnexpectedFile { file: dir.join(&*name) })?;
                firsts.push(first);
            }
        }
        firsts.sort_unstable();
        let mut s = Segments { dir: dir.to_path_buf(), purged, ..Default::default() };
        let count = firsts.len();
        for (i, first) in firsts.into_iter().enumerate() {
            let path = segment_path(dir, first);
            let bytes = std::fs::read(&path).map_err(io("read", &path))?;
            if bytes.len() < HEADER as usize {
                // A segment gets its header under a temporary name before it is renamed into
                // place, so a short one is damage, not a crash while creating it.
                let why = format!("only {} bytes, shorter than a segment header", bytes.len());
                return Err(damaged(&path, 0, &why));
            }
            let scan = scan(&path, &bytes, first)?;
            let file = std::fs::OpenOptions::new().read(true).write(true).open(&path).map_err(io("open", &path))?;
            if let Some(why) = &scan.damage {
                if i + 1 < count {
                    return Err(damaged(&path, scan.valid_len, &format!("{why} (not the last segment)")));
                }
                if scan.corrupt {
                    return Err(damaged(&path, scan.valid_len, why));
                }
                tracing::warn!(
                    "Raft log: cutting a torn tail off {} at byte {} ({why}); the entries before it are intact",
                    path.display(),
                    scan.valid_len
                );
                file.set_len(scan.valid_len).map_err(io("truncate", &path))?;
                file.sync_all().map_err(io("sync", &path))?;
            }
            if let Some(prev) = s.list.last() {
                if prev.end() != first {
                    return Err(JournalError::SequenceGap {
                        file: path,
                        expected: prev.end() as i64,
                        found: first as i64,
                    });
                }
            }
            if scan.last.is_some() {
                s.last = scan.last;
            }
            s.list.push(Segment { first, offsets: scan.offsets, len: scan.valid_len, file: Arc::new(file), path });
        }
        // A crash between recording a purge and deleting its segments leaves them behind.
        if let Some(p) = purged {
            s.drop_purged(p.index)?;
        }
        Ok(s)
    }

    /// Where to read index `i`: file, offset and the record's total length.
    pub fn locate(&self, i: u64) -> Option<(Arc<File>, u64, u64)> {
        let k = self.list.partition_point(|s| s.first <= i).checked_sub(1)?;
        let s = &self.list[k];
        let pos = (i - s.first) as usize;
        let at = *s.offsets.get(pos)?;
        let end = s.offsets.get(pos + 1).copied().unwrap_or(s.len);
        Some((s.file.clone(), at, end - at))
    }

    /// Appends already-encoded records (for `count` entries from `first`, the last being
    /// `last`) and makes them durable. Called from one writer thread only.
    pub fn append(&mut self, first: u64, records: &[u8], sizes: &[u64], last: LogId<u64>) -> Result<(), JournalError> {
        let next = self.list.last().map(|s| s.end());
        if next.is_some_and(|n| n != first) {
            return Err(JournalError::NotContiguous { first, end: next.unwrap_or(0) });
        }
        if self.list.last().is_none_or(|s| s.len >= SEGMENT_BYTES) {
            if let Some(s) = self.list.last() {
                // Its data was synced with each append; this covers its final size.
                s.file.sync_all().map_err(io("sync", &s.path))?;
            }
            let path = segment_path(&self.dir, first);
            // Header first, under a temporary name: a segment under its real name is never short.
            let tmp = self.dir.join(format!(".log-{first:020}.tmp"));
            let file = alluxio_common::private::create_file(&tmp).map_err(io("create", &tmp))?;
            file.write_all_at(&header(), 0).map_err(io("write", &tmp))?;
            file.sync_all().map_err(io("sync", &tmp))?;
            std::fs::rename(&tmp, &path).map_err(io("rename", &tmp))?;
            sync_dir(&self.dir)?;
            self.list.push(Segment { first, offsets: Vec::new(), len: HEADER, file: Arc::new(file), path });
        }
        let s = self.list.last_mut().expect("a segment was just ensured");
        s.file.write_all_at(records, s.len).map_err(io("write", &s.path))?;
        s.file.sync_data().map_err(io("sync", &s.path))?;
        let mut at = s.len;
        for size in sizes {
            s.offsets.push(at);
            at += size;
        }
        s.len = at;
        self.last = Some(last);
        Ok(())
    }

    /// Deletes entries from index `since` on (a conflict with the leader).
    pub fn truncate(&mut self, since: u64) -> Result<(), JournalError> {
        while let Some(s) = self.list.last_mut() {
            if s.first >= since {
                std::fs::remove_file(&s.path).map_err(io("delete", &s.path))?;
                self.list.pop();
                continue;
            }
            if let Some(&at) = s.offsets.get((since - s.first) as usize) {
                s.file.set_len(at).map_err(io("truncate", &s.path))?;
                s.file.sync_all().map_err(io("sync", &s.path))?;
                s.offsets.truncate((since - s.first) as usize);
                s.len = at;
            }
            break;
        }
        sync_dir(&self.dir)?;
        self.last = match since.checked_sub(1) {
            Some(prev) if self.purged.is_none_or(|p| prev > p.index) => Some(self.read(prev)?.log_id),
            _ => self.purged,
        };
        Ok(())
    }

    /// Records that entries up to `upto` are no longer needed and deletes the segments that
    /// hold nothing newer.
    pub fn purge(&mut self, upto: LogId<u64>) -> Result<(), JournalError> {
        write_atomically(&self.dir, "purged", &encode("the purge point", &upto)?)?;
        self.purged = Some(upto);
        self.drop_purged(upto.index)
    }

    fn drop_purged(&mut self, upto: u64) -> Result<(), JournalError> {
        let whole = self.list.iter().take_while(|s| s.end() <= upto + 1 && s.end() > s.first).count();
        for s in self.list.drain(..whole) {
            std::fs::remove_file(&s.path).map_err(io("delete", &s.path))?;
        }
        if whole > 0 {
            sync_dir(&self.dir)?;
        }
        // A snapshot installed from the leader can purge past the end of this log: the log
        // then ends at the purge point.
        if let Some(p) = self.purged.filter(|p| self.last.is_none_or(|l| l.index < p.index)) {
            self.last = Some(p);
        }
        Ok(())
    }

    /// Reads index `i` from disk (blocking).
    pub fn read(&self, i: u64) -> Result<Entry, JournalError> {
        let (file, at, len) = self.locate(i).ok_or(JournalError::MissingEntry { index: i })?;
        read_at(&file, at, len)
    }
}

/// Reads and checks the record at `at` of `len` bytes.
pub fn read_at(file: &File, at: u64, len: u64) -> Result<Entry, JournalError> {
    let mut buf = vec![0u8; len as usize];
    file.read_exact_at(&mut buf, at).map_err(io("read", "the Raft log"))?;
    if buf.len() < 8 || crc32c::crc32c(&buf[8..]) != u32::from_le_bytes(buf[4..8].try_into().unwrap_or_default()) {
        let what = format!("the Raft log record at byte {at}");
        return Err(JournalError::Undecodable { what, reason: "it fails its checksum".into() });
    }
    decode_payload(&buf[8..])
}

#[cfg(test)]
mod tests {
    use super::*;
    use openraft::{CommittedLeaderId, EntryPayload};
    use proptest::prelude::*;

    fn entry(index: u64, data: Vec<u8>) -> Entry {
        Entry {
            log_id: LogId::new(CommittedLeaderId::new(1, 0), index),
            payload: EntryPayload::Normal(crate::raft::Batch(data.into())),
        }
    }

    fn segment(first: u64, payloads: &[Vec<u8>]) -> Vec<u8> {
        let mut out = header().to_vec();
        for (k, p) in payloads.iter().enumerate() {
            encode_record(&entry(first + k as u64, p.clone()), &mut out).unwrap();
        }
        out
    }

    proptest! {
        /// Whatever the bytes, scanning gives a clean prefix of records or an error.
        #[test]
        fn any_bytes_scan_without_panic(mut bytes in proptest::collection::vec(any::<u8>(), 0..256), magic in any::<bool>()) {
            if magic && bytes.len() >= 12 {
                bytes[..12].copy_from_slice(&header());
            }
            if let Ok(s) = scan(Path::new("log"), &bytes, 7) {
                prop_assert!(s.valid_len as usize <= bytes.len());
                prop_assert_eq!(s.damage.is_some(), (s.valid_len as usize) < bytes.len());
            }
        }

        /// A segment cut anywhere (a torn write) keeps exactly the whole records before the cut.
        #[test]
        fn a_torn_segment_keeps_the_records_before_the_tear(
            payloads in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..40), 1..8),
            cut in any::<prop::sample::Index>(),
        ) {
            let full = segment(100, &payloads);
            let whole = scan(Path::new("log"), &full, 100).unwrap();
            prop_assert_eq!(whole.offsets.len(), payloads.len());
            prop_assert!(whole.damage.is_none());
            let at = HEADER as usize + cut.index(full.len() - HEADER as usize);
            let s = scan(Path::new("log"), &full[..at], 100).unwrap();
            prop_assert!(!s.corrupt, "a tear is never corruption");
            let kept = whole.offsets.iter().skip(1).chain([&(full.len() as u64)]).filter(|end| **end <= at as u64).count();
            prop_assert_eq!(s.offsets.len(), kept);
            prop_assert_eq!(s.last.map(|l| l.index), (kept > 0).then(|| 100 + kept as u64 - 1));
        }

        /// A flipped byte inside a record is caught there, not read as data.
        #[test]
        fn a_flipped_byte_is_caught(
            payloads in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 1..40), 1..6),
            pos in any::<prop::sample::Index>(),
            bit in 0u8..8,
        ) {
            let mut bytes = segment(0, &payloads);
            let last_record = scan(Path::new("log"), &bytes, 0).unwrap().offsets.last().copied().unwrap_or_default() as usize;
            let at = HEADER as usize + pos.index(bytes.len() - HEADER as usize);
            bytes[at] ^= 1 << bit;
            let s = scan(Path::new("log"), &bytes, 0).unwrap();
            prop_assert!(s.damage.is_some());
            prop_assert!(s.valid_len as usize <= at);
            // In the last record too: its whole length is there, so it is not a tear.
            prop_assert!(s.corrupt, "a flip at {} (last record at {}) read as a tear", at, last_record);
        }
    }

    #[test]
    fn append_truncate_purge_and_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Segments::open(dir.path()).unwrap();
        let write = |s: &mut Segments, from: u64, to: u64| {
            let (mut buf, mut sizes) = (Vec::new(), Vec::new());
            for i in from..to {
                let before = buf.len();
                encode_record(&entry(i, vec![i as u8; 10]), &mut buf).unwrap();
                sizes.push((buf.len() - before) as u64);
            }
            s.append(from, &buf, &sizes, entry(to - 1, vec![]).log_id).unwrap();
        };
        write(&mut s, 1, 5);
        write(&mut s, 5, 9);
        assert!(matches!(
            s.append(20, &[], &[], entry(20, vec![]).log_id),
            Err(JournalError::NotContiguous { first: 20, end: 9 })
        ));
        s.truncate(7).unwrap();
        assert_eq!(s.last.map(|l| l.index), Some(6));
        assert_eq!(s.read(6).unwrap().log_id.index, 6);
        assert!(s.read(7).is_err());
        save_vote(dir.path(), &Vote::new(3, 1)).unwrap();
        drop(s);
        let mut s = Segments::open(dir.path()).unwrap();
        assert_eq!(s.last.map(|l| l.index), Some(6));
        assert_eq!(read_vote(dir.path()).unwrap(), Some(Vote::new(3, 1)));
        s.purge(entry(6, vec![]).log_id).unwrap();
        assert!(s.list.is_empty(), "the only segment was wholly purged");
        // Past the end of the log, as when a snapshot from the leader is installed.
        s.purge(entry(8, vec![]).log_id).unwrap();
        assert_eq!(s.last.map(|l| l.index), Some(8));
        write(&mut s, 9, 10);
        drop(s);
        // A torn tail: half of a record at the end of the last segment.
        let seg = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|d| d.unwrap().path())
            .find(|p| p.file_name().unwrap().to_string_lossy().starts_with("log-"))
            .unwrap();
        let f = std::fs::OpenOptions::new().append(true).open(&seg).unwrap();
        f.write_all_at(&[9, 0, 0, 0, 1, 2], std::fs::metadata(&seg).unwrap().len()).unwrap();
        let s = Segments::open(dir.path()).unwrap();
        assert_eq!(s.last.map(|l| l.index), Some(9));
        assert_eq!(s.purged.map(|l| l.index), Some(8));
        assert_eq!(std::fs::metadata(&seg).unwrap().len(), s.list[0].len, "the torn bytes were cut");
        let mut s = s;
        write(&mut s, 10, 12);
        drop(s);
        // A flipped byte in a record that whole records follow: corruption, refused, nothing cut.
        let mut bytes = std::fs::read(&seg).unwrap();
        bytes[HEADER as usize + 10] ^= 0x40;
        std::fs::write(&seg, &bytes).unwrap();
        let err = Segments::open(dir.path()).err().unwrap();
        assert!(matches!(&err, JournalError::RaftCorrupt { file, .. } if *file == seg), "{err}");
        let err = err.to_string();
        assert!(err.contains("corruption, not a torn write") && err.contains(&seg.display().to_string()), "{err}");
        assert!(err.contains("alluxio repairJournal -file"), "{err}");
        assert_eq!(std::fs::read(&seg).unwrap(), bytes, "nothing was cut");
    }
}
