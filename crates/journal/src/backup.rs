//! The backup format: the master's full state as a gzip stream of length-delimited
//! (varint-prefixed) `JournalEntry` messages, as Alluxio writes it, opened by a
//! `backup_header` entry (format version, cluster id, time, software version, host) and closed
//! by a `backup_trailer` entry (entry count, CRC32C of every byte before the trailer), so a
//! truncated or altered file is detected before anything is restored.

use std::io::{Read, Write};

use alluxio_common::version::{JOURNAL_FORMAT_VERSION, MIN_JOURNAL_FORMAT_VERSION, VERSION};
use alluxio_proto::journal::{journal_entry::Entry, BackupHeader, BackupTrailer, JournalEntry};
use flate2::read::GzDecoder;
use flate2::write::GzEncoder;
use prost::Message;

use crate::error::UPGRADE_PROCEDURE;

/// Why a backup cannot be written or read; each names the backup.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BackupError {
    #[error("cannot {op} backup {name}: {source}")]
    Io { op: &'static str, name: String, source: std::io::Error },
    #[error("backup {name} is not an alluxio-rs backup: {reason}")]
    NotABackup { name: String, reason: String },
    #[error("backup {name} is damaged at entry {index}: {reason}; nothing was restored")]
    Damaged { name: String, index: u64, reason: String },
    #[error("backup {name} is truncated: it ends after {entries} entries without its trailer; nothing was restored")]
    Truncated { name: String, entries: u64 },
    #[error(
        "backup {name} has format version {found}, but this alluxio-rs {VERSION} reads backup format versions \
             {MIN_JOURNAL_FORMAT_VERSION} to {JOURNAL_FORMAT_VERSION}. {UPGRADE_PROCEDURE}"
    )]
    IncompatibleVersion { name: String, found: u32 },
    #[error("backup {name}, entry {index}: {reason}; nothing was restored")]
    Apply { name: String, index: u64, reason: String },
}

impl alluxio_common::HasCode for BackupError {
    fn code(&self) -> alluxio_common::Code {
        use alluxio_common::Code;
        match self {
            BackupError::Io { .. } => Code::Unavailable,
            BackupError::IncompatibleVersion { .. } => Code::FailedPrecondition,
            _ => Code::DataLoss,
        }
    }
}

/// Writes a backup stream.
pub struct BackupWriter<W: Write> {
    gz: GzEncoder<W>,
    crc: u32,
    count: i64,
    buf: Vec<u8>,
}

impl<W: Write> BackupWriter<W> {
    /// Starts a backup with its header.
    pub fn new(out: W, cluster_id: &str, host: &str, time_ms: i64) -> std::io::Result<Self> {
        let mut w = BackupWriter {
            gz: GzEncoder::new(out, flate2::Compression::fast()),
            crc: 0,
            count: 0,
            buf: Vec::with_capacity(4096),
        };
        let header = BackupHeader {
            format_version: JOURNAL_FORMAT_VERSION,
            cluster_id: cluster_id.to_owned(),
            time_ms,
            software_version: VERSION.to_owned(),
            host: host.to_owned(),
        };
        w.record(&JournalEntry { sequence_number: 0, entry: Some(Entry::BackupHeader(header)) })?;
        Ok(w)
    }

    fn record(&mut self, e: &JournalEntry) -> std::io::Result<()> {
        self.buf.clear();
        // Encoding into a Vec cannot fail.
        let _ = e.encode_length_delimited(&mut self.buf);
        self.crc = crc32c::crc32c_append(self.crc, &self.buf);
        self.gz.write_all(&self.buf)
    }

    /// Adds one state entry.
    pub fn append(&mut self, e: &JournalEntry) -> std::io::Result<()> {
        self.count += 1;
        self.record(e)
    }

    /// State entries written so far.
    pub fn count(&self) -> i64 {
        self.count
    }

    /// Writes the trailer and finishes the gzip stream; returns the inner writer.
    pub fn finish(mut self) -> std::io::Result<W> {
        let trailer = BackupTrailer { entry_count: self.count, crc32c: self.crc };
        self.buf.clear();
        let _ = JournalEntry { sequence_number: 0, entry: Some(Entry::BackupTrailer(trailer)) }
            .encode_length_delimited(&mut self.buf);
        self.gz.write_all(&self.buf)?;
        self.gz.finish()
    }
}

/// What a verified backup held.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupInfo {
    pub header: BackupHeader,
    pub entries: u64,
}

fn read_varint(r: &mut impl Read, name: &str, index: u64) -> Result<Option<u64>, BackupError> {
    let mut v = 0u64;
    for i in 0..10 {
        let mut b = [0u8; 1];
        match r.read(&mut b) {
            Ok(0) if i == 0 => return Ok(None),
            Ok(0) => return Err(BackupError::Truncated { name: name.into(), entries: index }),
            Ok(_) => {}
            Err(e) => return Err(stream_err(name, index, e)),
        }
        v |= u64::from(b[0] & 0x7f) << (7 * i);
        if b[0] & 0x80 == 0 {
            return Ok(Some(v));
        }
    }
    Err(BackupError::Damaged { name: name.into(), index, reason: "malformed record length".into() })
}

fn stream_err(name: &str, index: u64, e: std::io::Error) -> BackupError {
    match e.kind() {
        std::io::ErrorKind::UnexpectedEof => BackupError::Truncated { name: name.into(), entries: index },
        std::io::ErrorKind::InvalidInput | std::io::ErrorKind::InvalidData => {
            BackupError::Damaged { name: name.into(), index, reason: format!("gzip stream: {e}") }
        }
        _ => BackupError::Io { op: "read", name: name.into(), source: e },
    }
}

/// What the caller of [`read_backup`] made of one entry: any error stops the read and is
/// reported as [`BackupError::Apply`].
pub type Applied = Result<(), Box<dyn std::error::Error + Send + Sync>>;

/// Reads and verifies a backup, handing each state entry to `apply`. The header's version is
/// checked first; the trailer's count and checksum last, so callers must treat everything
/// they applied as provisional until this returns `Ok`.
pub fn read_backup(
    input: impl Read,
    name: &str,
    mut apply: impl FnMut(u64, JournalEntry) -> Applied,
) -> Result<BackupInfo, BackupError> {
    let mut records = Records::new(input, name);
    let header = records.header()?;
    loop {
        let entry = records.next()?;
        match entry.entry {
            Some(Entry::BackupTrailer(t)) => {
                records.finish(&t)?;
                return Ok(BackupInfo { header, entries: records.index });
            }
            None => {
                return Err(records
                    .damaged("an entry of a kind this version does not know (written by a newer version?)".into()))
            }
            Some(Entry::BackupHeader(_)) => return Err(records.damaged("a second header".into())),
            Some(_) => {
                let index = records.index;
                apply(index, entry).map_err(|e| BackupError::Apply {
                    name: name.into(),
                    index,
                    reason: e.to_string(),
                })?;
                records.index += 1;
            }
        }
        records.checksum();
    }
}

/// The length-delimited records of a gzip-compressed backup stream, with the running count
/// and checksum the trailer is compared with.
struct Records<'a, R: Read> {
    r: std::io::BufReader<GzDecoder<R>>,
    name: &'a str,
    /// The last record's bytes, its length prefix included (the checksum covers both).
    buf: Vec<u8>,
    /// The length of `buf`'s length prefix.
    prefix: usize,
    /// State entries read so far.
    index: u64,
    crc: u32,
}

impl<'a, R: Read> Records<'a, R> {
    fn new(input: R, name: &'a str) -> Self {
        let r = std::io::BufReader::with_capacity(1 << 20, GzDecoder::new(input));
        Records { r, name, buf: Vec::new(), prefix: 0, index: 0, crc: 0 }
    }

    fn damaged(&self, reason: String) -> BackupError {
        BackupError::Damaged { name: self.name.into(), index: self.index, reason }
    }

    fn not_a_backup(&self, reason: String) -> BackupError {
        BackupError::NotABackup { name: self.name.into(), reason }
    }

    /// The first record, which must be a header of a version this build reads.
    fn header(&mut self) -> Result<BackupHeader, BackupError> {
        let len = match read_varint(&mut self.r, self.name, 0) {
            Ok(Some(len)) => len,
            Ok(None) => return Err(self.not_a_backup("the file is empty".into())),
            Err(e) => return Err(self.not_a_backup(format!("no gzip-compressed backup header ({e})"))),
        };
        self.read_bytes(len)?;
        let entry = JournalEntry::decode(self.payload())
            .map_err(|e| self.not_a_backup(format!("the first record does not decode ({e})")))?;
        let Some(Entry::BackupHeader(h)) = entry.entry else {
            return Err(self.not_a_backup("it has no backup header".into()));
        };
        if !(MIN_JOURNAL_FORMAT_VERSION..=JOURNAL_FORMAT_VERSION).contains(&h.format_version) {
            return Err(BackupError::IncompatibleVersion { name: self.name.into(), found: h.format_version });
        }
        self.checksum();
        Ok(h)
    }

    /// The next record after the header; the stream ending before a trailer is a truncation.
    fn next(&mut self) -> Result<JournalEntry, BackupError> {
        let Some(len) = read_varint(&mut self.r, self.name, self.index)? else {
            return Err(BackupError::Truncated { name: self.name.into(), entries: self.index });
        };
        self.read_bytes(len)?;
        JournalEntry::decode(self.payload()).map_err(|e| self.damaged(format!("does not decode: {e}")))
    }

    /// The last record's payload, without its length prefix.
    fn payload(&self) -> &[u8] {
        &self.buf[self.prefix..]
    }

    fn read_bytes(&mut self, len: u64) -> Result<(), BackupError> {
        if len > (256 << 20) {
            return Err(self.damaged(format!("record of {len} bytes")));
        }
        self.buf.clear();
        prost::encoding::encode_varint(len, &mut self.buf);
        self.prefix = self.buf.len();
        self.buf.resize(self.prefix + len as usize, 0);
        self.r.read_exact(&mut self.buf[self.prefix..]).map_err(|e| stream_err(self.name, self.index, e))
    }

    /// Folds the last record into the running checksum.
    fn checksum(&mut self) {
        self.crc = crc32c::crc32c_append(self.crc, &self.buf);
    }

    /// Checks the trailer against what was read, then that nothing follows it.
    fn finish(&mut self, t: &BackupTrailer) -> Result<(), BackupError> {
        if t.entry_count as u64 != self.index {
            let found = self.index;
            return Err(self.damaged(format!("the trailer counts {} entries, the file holds {found}", t.entry_count)));
        }
        if t.crc32c != self.crc {
            return Err(self.damaged("checksum mismatch (the file was altered)".into()));
        }
        // Reading to the end also checks gzip's own footer (CRC32 and length).
        let mut rest = Vec::new();
        self.r.read_to_end(&mut rest).map_err(|e| stream_err(self.name, self.index, e))?;
        if !rest.is_empty() {
            return Err(self.damaged("data after the trailer".into()));
        }
        Ok(())
    }
}

/// The backup file name for a time: `alluxio-backup-YYYY-MM-DD-<epochMs>.gz` (UTC date).
pub fn backup_file_name(time_ms: i64) -> String {
    let days = time_ms.div_euclid(86_400_000);
    let (y, m, d) = civil_from_days(days);
    format!("alluxio-backup-{y:04}-{m:02}-{d:02}-{time_ms}.gz")
}

/// The epoch milliseconds in a backup file name, if it is one.
pub fn backup_time_of(name: &str) -> Option<i64> {
    let rest = name.strip_prefix("alluxio-backup-")?.strip_suffix(".gz")?;
    let parts: Vec<&str> = rest.split('-').collect();
    if parts.len() != 4 || !parts.iter().all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit())) {
        return None;
    }
    parts[3].parse().ok()
}

/// Days since 1970-01-01 to a (year, month, day) civil date.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use alluxio_proto::journal::ClusterInfoEntry;
    use proptest::prelude::*;

    fn entry(i: usize) -> JournalEntry {
        JournalEntry {
            sequence_number: 0,
            entry: Some(Entry::ClusterInfo(ClusterInfoEntry { cluster_id: format!("c{i}-{}", "z".repeat(i % 50)) })),
        }
    }

    fn backup(n: usize) -> Vec<u8> {
        let mut w = BackupWriter::new(Vec::new(), "cid", "host", 1).unwrap();
        for i in 0..n {
            w.append(&entry(i)).unwrap();
        }
        w.finish().unwrap()
    }

    #[test]
    fn names_follow_alluxio() {
        assert_eq!(backup_file_name(0), "alluxio-backup-1970-01-01-0.gz");
        assert_eq!(backup_file_name(1_795_632_229_485), "alluxio-backup-2026-11-25-1795632229485.gz");
        assert_eq!(backup_time_of("alluxio-backup-2026-11-25-1795632229485.gz"), Some(1_795_632_229_485));
        assert_eq!(backup_time_of("alluxio-backup-2026-11-25-1795632229485.gz.complete"), None);
    }

    #[test]
    fn round_trip_and_detection() {
        let data = backup(100);
        let mut seen = 0;
        let info = read_backup(&data[..], "b", |_, _| {
            seen += 1;
            Ok(())
        })
        .unwrap();
        assert_eq!((info.entries, seen, info.header.cluster_id.as_str()), (100, 100, "cid"));
        // Truncated anywhere: an error, never Ok.
        for cut in [10, data.len() / 2, data.len() - 5] {
            assert!(read_backup(&data[..cut], "b", |_, _| Ok(())).is_err(), "cut at {cut}");
        }
        assert!(matches!(
            read_backup(&b"garbage"[..], "b", |_, _| Ok(())),
            Err(BackupError::Damaged { .. } | BackupError::NotABackup { .. })
        ));
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 64, .. ProptestConfig::default() })]
        #[test]
        fn altered_bytes_are_detected(n in 1usize..60, pos_frac in 0.0f64..1.0, flip in 1u8..=255) {
            // Alter the uncompressed stream, recompress: the CRC or the decoder must object.
            let mut raw = Vec::new();
            GzDecoder::new(&backup(n)[..]).read_to_end(&mut raw).unwrap();
            let pos = ((raw.len() - 1) as f64 * pos_frac) as usize;
            raw[pos] ^= flip;
            let mut gz = GzEncoder::new(Vec::new(), flate2::Compression::fast());
            gz.write_all(&raw).unwrap();
            let altered = gz.finish().unwrap();
            prop_assert!(read_backup(&altered[..], "b", |_, _| Ok(())).is_err());
        }
    }
}
