//! The decoders of bytes read from disk never panic, whatever the bytes, and never accept a
//! damaged backup. (The coverage-guided fuzz targets in `fuzz/` explore the same decoders
//! further; these properties check targeted mutations in every test run.)

use std::path::Path;

use alluxio_journal::backup::{read_backup, BackupWriter};
use alluxio_journal::format::{decode_header, encode_header, encode_record, read_records, FileKind};
use alluxio_proto::journal::{journal_entry::Entry, ClusterInfoEntry, JournalEntry};
use proptest::prelude::*;

fn entry(i: usize) -> JournalEntry {
    JournalEntry {
        sequence_number: i as i64,
        entry: Some(Entry::ClusterInfo(ClusterInfoEntry { cluster_id: format!("c{i}-{}", "y".repeat(i % 50)) })),
    }
}

fn segment(n: usize) -> Vec<u8> {
    let mut out = encode_header(FileKind::Log, 0).to_vec();
    for i in 0..n {
        encode_record(&entry(i), &mut out);
    }
    out
}

fn backup(n: usize) -> Vec<u8> {
    let mut w = BackupWriter::new(Vec::new(), "cluster", "host", 1_700_000_000_000).unwrap();
    for i in 0..n {
        w.append(&entry(i)).unwrap();
    }
    w.finish().unwrap()
}

fn read_all(bytes: &[u8]) -> Result<Vec<JournalEntry>, String> {
    let mut got = Vec::new();
    read_backup(bytes, "fuzz.gz", |_, e| {
        got.push(e);
        Ok(())
    })
    .map_err(|e| e.to_string())?;
    Ok(got)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn headers_of_any_bytes_decode_or_fail_cleanly(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
        let _ = decode_header(Path::new("fuzz"), &bytes);
    }

    #[test]
    fn records_of_any_bytes_decode_or_fail_cleanly(tail in proptest::collection::vec(any::<u8>(), 0..512)) {
        let mut data = encode_header(FileKind::Log, 0).to_vec();
        data.extend_from_slice(&tail);
        let _ = read_records(Path::new("fuzz"), &data, |_, _| Ok(()));
    }

    #[test]
    fn a_mutated_segment_yields_a_prefix_or_reports_damage(n in 1usize..20, pos_frac in 0.0f64..1.0, byte in any::<u8>()) {
        let mut data = segment(n);
        let pos = 32 + ((data.len() - 32) as f64 * pos_frac) as usize;
        let pos = pos.min(data.len() - 1);
        prop_assume!(data[pos] != byte);
        data[pos] = byte;
        let mut seen = Vec::new();
        let r = read_records(Path::new("fuzz"), &data, |_, e| {
            seen.push(e);
            Ok(())
        });
        // Every entry handed out is one that was written, in order; the damage is found.
        for (i, e) in seen.iter().enumerate() {
            prop_assert_eq!(e, &entry(i));
        }
        match r {
            Ok(Some(_)) | Err(_) => {}
            Ok(None) => prop_assert!(false, "a changed byte at {} went unnoticed", pos),
        }
    }

    #[test]
    fn backups_of_any_bytes_are_refused(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        prop_assert!(read_all(&bytes).is_err());
    }

    #[test]
    fn a_damaged_backup_is_refused(n in 1usize..30, pos_frac in 0.0f64..1.0, byte in any::<u8>(), cut in any::<bool>()) {
        let mut data = backup(n);
        // Bytes 4..10 of a gzip header (time, flags, OS) are informational and unchecked.
        let pos = 10 + ((data.len() - 10) as f64 * pos_frac) as usize;
        let pos = pos.min(data.len() - 1);
        if cut {
            data.truncate(pos);
        } else {
            prop_assume!(data[pos] != byte);
            data[pos] = byte;
        }
        // A changed byte may only be the unused padding bits of deflate's last byte: then the
        // entries are exactly the original ones. Anything else must be refused.
        match read_all(&data) {
            Err(_) => {}
            Ok(got) => prop_assert_eq!(got, (0..n).map(entry).collect::<Vec<_>>(), "damage at {} of {} bytes went unnoticed", pos, data.len()),
        }
    }
}

#[test]
fn an_intact_backup_reads_back() {
    let got = read_all(&backup(25)).unwrap();
    assert_eq!(got, (0..25).map(entry).collect::<Vec<_>>());
}

fn snapshot_file(n: usize) -> Vec<u8> {
    use alluxio_journal::raft::state_machine::encode_snapshot_file;
    let meta = openraft::SnapshotMeta::<u64, openraft::BasicNode>::default();
    encode_snapshot_file(&meta, &segment(n)).unwrap()
}

proptest! {
    /// Raft entries carry batches of journal entries: they round-trip, and arbitrary bytes are
    /// an error, never a panic.
    #[test]
    fn raft_batches_round_trip_and_reject_garbage(n in 0usize..40, junk in proptest::collection::vec(any::<u8>(), 0..512)) {
        use alluxio_journal::raft::Batch;
        let entries: Vec<JournalEntry> = (0..n).map(entry).collect();
        prop_assert_eq!(Batch::encode(&entries).decode().unwrap(), entries);
        let _ = Batch(junk.into()).decode();
    }

    /// A Raft snapshot file decodes to what was written; any flipped byte is refused.
    #[test]
    fn raft_snapshot_files_refuse_damage(n in 0usize..30, at in any::<usize>(), bit in 0u8..8) {
        use alluxio_journal::raft::state_machine::{decode_snapshot_file, snapshot_entries};
        let good = snapshot_file(n);
        let (_, data) = decode_snapshot_file(std::path::Path::new("snapshot"), &good).unwrap();
        prop_assert_eq!(snapshot_entries(&data).unwrap().len(), n);
        let mut bad = good.clone();
        let i = at % bad.len();
        bad[i] ^= 1 << bit;
        prop_assert!(decode_snapshot_file(std::path::Path::new("snapshot"), &bad).is_err());
        let _ = decode_snapshot_file(std::path::Path::new("snapshot"), &bad[..i]);
    }
}
