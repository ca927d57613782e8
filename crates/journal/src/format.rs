//! Byte layout of journal files (log segments and checkpoints).
//!
//! A file starts with a 32-byte header:
//! `magic "ALXRSJNL" (8) | format version u32 | kind u32 | start sequence u64 | reserved u32 | CRC32C of the
//! previous 28 bytes u32`, all little-endian. Records follow in the journal's one framing
//! ([`crate::frame`]), each payload an encoded `JournalEntry`.
//! The header's version is what the upgrade checks read: a file whose version this build
//! does not read is refused, never half-decoded.

use std::path::Path;

use alluxio_common::version::{JOURNAL_FORMAT_VERSION, MIN_JOURNAL_FORMAT_VERSION};
use alluxio_proto::journal::JournalEntry;
use prost::Message;

use crate::error::JournalError;
use crate::frame::{self, Tail};

pub const MAGIC: &[u8; 8] = b"ALXRSJNL";
pub const HEADER_LEN: usize = 32;
pub const RECORD_HEADER_LEN: usize = frame::HEADER;
/// A record longer than this is treated as garbage, not allocated.
pub const MAX_RECORD_LEN: u32 = 256 << 20;

/// What a journal file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u32)]
pub enum FileKind {
    Log = 1,
    Checkpoint = 2,
}

/// A decoded file header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    pub version: u32,
    pub kind: FileKind,
    /// Log: sequence number of the first entry. Checkpoint: the first entry it does *not* cover.
    pub start_sequence: i64,
}

/// Encodes a header for a file written by this build.
pub fn encode_header(kind: FileKind, start_sequence: i64) -> [u8; HEADER_LEN] {
    let mut h = [0u8; HEADER_LEN];
    h[..8].copy_from_slice(MAGIC);
    h[8..12].copy_from_slice(&JOURNAL_FORMAT_VERSION.to_le_bytes());
    h[12..16].copy_from_slice(&(kind as u32).to_le_bytes());
    h[16..24].copy_from_slice(&start_sequence.to_le_bytes());
    let crc = crc32c::crc32c(&h[..28]);
    h[28..32].copy_from_slice(&crc.to_le_bytes());
    h
}

/// Decodes and checks a header: magic, CRC and a format version this build reads.
pub fn decode_header(file: &Path, bytes: &[u8]) -> Result<Header, JournalError> {
    let corrupt = |reason: &str| JournalError::Corrupt { file: file.into(), offset: 0, reason: reason.into() };
    if bytes.len() < HEADER_LEN {
        return Err(corrupt("the file is shorter than a journal header"));
    }
    if &bytes[..8] != MAGIC {
        return Err(corrupt("not an alluxio-rs journal file (bad magic)"));
    }
    let crc = u32::from_le_bytes(bytes[28..32].try_into().unwrap_or_default());
    if crc32c::crc32c(&bytes[..28]) != crc {
        return Err(corrupt("header checksum mismatch"));
    }
    let version = u32::from_le_bytes(bytes[8..12].try_into().unwrap_or_default());
    if !(MIN_JOURNAL_FORMAT_VERSION..=JOURNAL_FORMAT_VERSION).contains(&version) {
        return Err(JournalError::IncompatibleVersion { file: file.into(), found: version });
    }
    let kind = match u32::from_le_bytes(bytes[12..16].try_into().unwrap_or_default()) {
        1 => FileKind::Log,
        2 => FileKind::Checkpoint,
        k => return Err(corrupt(&format!("unknown file kind {k}"))),
    };
    let start_sequence = i64::from_le_bytes(bytes[16..24].try_into().unwrap_or_default());
    Ok(Header { version, kind, start_sequence })
}

/// Appends one framed record holding `entry` to `out`.
pub fn encode_record(entry: &JournalEntry, out: &mut Vec<u8>) {
    out.reserve(RECORD_HEADER_LEN + entry.encoded_len());
    // Encoding into a Vec cannot fail.
    let _ = frame::encode_with(out, |o| entry.encode(o));
}

/// Why reading stopped before the end of a file's bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Damage {
    /// The bytes from `offset` to the end are what a crash in the middle of an append leaves
    /// ([`frame::classify`]). Safe to cut from the segment being written, and only there.
    TornTail { offset: u64, reason: String },
    /// Damage to acknowledged entries.
    Corrupt { offset: u64, reason: String },
}

/// Walks the records of `data` (a whole file, header included), calling `visit` with each
/// record's offset and decoded entry. Stops at the first bad record and classifies the rest.
pub fn read_records(
    file: &Path,
    data: &[u8],
    mut visit: impl FnMut(u64, JournalEntry) -> Result<(), JournalError>,
) -> Result<Option<Damage>, JournalError> {
    let mut off = HEADER_LEN;
    let mut last_seq = None;
    while off < data.len() {
        let decoded = frame::record(data, off, MAX_RECORD_LEN as usize)
            .and_then(|(payload, end)| JournalEntry::decode(payload).ok().map(|e| (e, end)));
        let Some((entry, end)) = decoded else {
            let next = last_seq.map(|s: i64| s + 2);
            let is_next = |p: &[u8]| {
                JournalEntry::decode(p).is_ok_and(|e| e.entry.is_some() && next.is_none_or(|n| e.sequence_number == n))
            };
            return Ok(Some(match frame::classify(data, off, MAX_RECORD_LEN as usize, is_next) {
                Tail::Torn(reason) => Damage::TornTail { offset: off as u64, reason },
                Tail::Damaged(reason) => Damage::Corrupt { offset: off as u64, reason },
            }));
        };
        if entry.entry.is_none() {
            return Err(JournalError::UnknownEntry {
                file: file.into(),
                offset: off as u64,
                sequence: entry.sequence_number,
            });
        }
        last_seq = Some(entry.sequence_number);
        visit(off as u64, entry)?;
        off = end;
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use alluxio_proto::journal::{journal_entry::Entry, ClusterInfoEntry};

    fn entry(seq: i64) -> JournalEntry {
        JournalEntry {
            sequence_number: seq,
            entry: Some(Entry::ClusterInfo(ClusterInfoEntry { cluster_id: format!("c{seq}") })),
        }
    }

    fn file(n: i64) -> Vec<u8> {
        let mut data = encode_header(FileKind::Log, 0).to_vec();
        for i in 0..n {
            encode_record(&entry(i), &mut data);
        }
        data
    }

    fn read(data: &[u8]) -> (Vec<i64>, Option<Damage>) {
        let mut seqs = vec![];
        let d = read_records(Path::new("f"), data, |_, e| {
            seqs.push(e.sequence_number);
            Ok(())
        })
        .unwrap();
        (seqs, d)
    }

    #[test]
    fn header_round_trips_and_refuses_other_versions() {
        let h = encode_header(FileKind::Checkpoint, 42);
        let d = decode_header(Path::new("x"), &h).unwrap();
        assert_eq!(d.start_sequence, 42);
        assert_eq!(d.kind, FileKind::Checkpoint);
        let mut newer = h;
        newer[8..12].copy_from_slice(&(JOURNAL_FORMAT_VERSION + 1).to_le_bytes());
        let crc = crc32c::crc32c(&newer[..28]);
        newer[28..32].copy_from_slice(&crc.to_le_bytes());
        let e = decode_header(Path::new("x"), &newer).unwrap_err();
        assert!(matches!(e, JournalError::IncompatibleVersion { .. }));
        assert!(e.to_string().contains("alluxio fsadmin backup"));
    }

    #[test]
    fn torn_tail_vs_corruption() {
        let data = file(3);
        assert_eq!(read(&data), (vec![0, 1, 2], None));
        // Cut inside the last record: torn.
        let (seqs, d) = read(&data[..data.len() - 3]);
        assert_eq!(seqs, vec![0, 1]);
        assert!(matches!(d, Some(Damage::TornTail { .. })));
        // Flip a byte of the middle record: corruption.
        let mut bad = data.clone();
        bad[HEADER_LEN + RECORD_HEADER_LEN + 2] ^= 0xff;
        let (seqs, d) = read(&bad);
        assert!(seqs.is_empty());
        assert!(matches!(d, Some(Damage::Corrupt { .. })));
        // Zero-filled tail: torn.
        let mut z = data.clone();
        z.extend_from_slice(&[0u8; 100]);
        assert!(matches!(read(&z).1, Some(Damage::TornTail { .. })));
    }
}
