//! Valid inputs for each fuzz target in `fuzz/` (the seeds libFuzzer mutates), checked here to
//! decode cleanly. `scripts/fuzz.sh` runs this with `ALLUXIO_FUZZ_SEEDS=<dir>` to write them.

use std::path::{Path, PathBuf};

use alluxio_journal::backup::{read_backup, BackupWriter};
use alluxio_journal::format::{decode_header, encode_header, encode_record, read_records, FileKind};
use alluxio_journal::raft::state_machine::{decode_snapshot_file, encode_snapshot_file, snapshot_entries};
use alluxio_journal::raft::wire::{decode_payload, decode_request, encode_request, Kind};
use alluxio_journal::raft::{segments, Batch, TypeConfig};
use alluxio_proto::journal::journal_entry::Entry;
use alluxio_proto::journal::{ClusterInfoEntry, InodeDirectoryEntry, JournalEntry};
use openraft::raft::{AppendEntriesRequest, VoteRequest};
use openraft::{BasicNode, CommittedLeaderId, EntryPayload, LogId, Membership, SnapshotMeta, StoredMembership, Vote};

fn entries(n: usize) -> Vec<JournalEntry> {
    (0..n)
        .map(|i| JournalEntry {
            sequence_number: i as i64,
            entry: Some(if i % 2 == 0 {
                Entry::ClusterInfo(ClusterInfoEntry { cluster_id: format!("cluster-{i}") })
            } else {
                Entry::InodeDirectory(InodeDirectoryEntry {
                    id: i as i64,
                    parent_id: 0,
                    name: format!("dir{i}"),
                    ..Default::default()
                })
            }),
        })
        .collect()
}

fn journal_file(kind: FileKind, n: usize) -> Vec<u8> {
    let mut out = encode_header(kind, 0).to_vec();
    for e in entries(n) {
        encode_record(&e, &mut out);
    }
    out
}

fn raft_entry(index: u64, payload: EntryPayload<TypeConfig>) -> openraft::Entry<TypeConfig> {
    openraft::Entry { log_id: LogId::new(CommittedLeaderId::new(2, 7), index), payload }
}

fn raft_entries() -> Vec<openraft::Entry<TypeConfig>> {
    let members = Membership::new(vec![[7u64, 9].into_iter().collect()], None);
    vec![
        raft_entry(1, EntryPayload::Blank),
        raft_entry(2, EntryPayload::Membership(members)),
        raft_entry(3, EntryPayload::Normal(Batch::encode(&entries(3)))),
        raft_entry(4, EntryPayload::Normal(Batch::encode(&entries(1)))),
    ]
}

/// (target, seed name, bytes).
fn seeds() -> Vec<(&'static str, String, Vec<u8>)> {
    let mut out = Vec::new();
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/v1");
    for (name, rel) in
        [("fixture-log", "journal/v1/logs/0x0-0x26"), ("fixture-checkpoint", "journal/v1/checkpoints/0x0-0x22")]
    {
        out.push(("journal_file", name.to_owned(), std::fs::read(fixtures.join(rel)).unwrap()));
    }
    out.push(("journal_file", "log".into(), journal_file(FileKind::Log, 6)));
    out.push(("journal_file", "checkpoint".into(), journal_file(FileKind::Checkpoint, 3)));

    out.push(("backup", "fixture".into(), std::fs::read(fixtures.join("backup.gz")).unwrap()));
    let mut w = BackupWriter::new(Vec::new(), "cluster", "host", 1_700_000_000_000).unwrap();
    for e in entries(5) {
        w.append(&e).unwrap();
    }
    out.push(("backup", "small".into(), w.finish().unwrap()));

    let mut seg = segments::header().to_vec();
    for e in raft_entries() {
        segments::encode_record(&e, &mut seg).unwrap();
    }
    out.push(("raft_segment", "four-entries".into(), seg));

    let meta = SnapshotMeta::<u64, BasicNode> {
        last_log_id: Some(LogId::new(CommittedLeaderId::new(2, 7), 4)),
        last_membership: StoredMembership::default(),
        snapshot_id: "2-7-4".into(),
    };
    let data = journal_file(FileKind::Checkpoint, 4);
    out.push(("raft_snapshot", "snapshot".into(), encode_snapshot_file(&meta, &data).unwrap()));

    let vote =
        VoteRequest::<u64> { vote: Vote::new(3, 7), last_log_id: Some(LogId::new(CommittedLeaderId::new(2, 7), 4)) };
    out.push(("raft_wire", "vote".into(), encode_request(Kind::Vote, &bincode::serialize(&vote).unwrap())));
    let append = AppendEntriesRequest::<TypeConfig> {
        vote: Vote::new_committed(3, 7),
        prev_log_id: None,
        entries: raft_entries(),
        leader_commit: Some(LogId::new(CommittedLeaderId::new(2, 7), 2)),
    };
    out.push((
        "raft_wire",
        "append".into(),
        encode_request(Kind::AppendEntries, &bincode::serialize(&append).unwrap()),
    ));

    out.push(("data_port", "request".into(), alluxio_proto::data_port::request(1 << 24, 4096, 1 << 20).to_vec()));
    let block: Vec<u8> = (0..(3 << 20) + 5).map(|i| i as u8).collect();
    out.push((
        "block_checksums",
        "four-chunks".into(),
        alluxio_common::checksum::encode(&alluxio_common::checksum::of(&block)),
    ));
    for (i, p) in ["/", "/a/b/c.txt", "/dir with space/ü", "/a/./b/../c", "//x///y/"].iter().enumerate() {
        out.push(("alluxio_path", format!("path{i}"), p.as_bytes().to_vec()));
    }
    out
}

#[test]
fn every_fuzz_seed_decodes_cleanly() {
    let journal = |data: &[u8]| {
        decode_header(Path::new("seed"), data).unwrap();
        let mut n = 0;
        let damage = read_records(Path::new("seed"), data, |_, _| {
            n += 1;
            Ok(())
        });
        assert!(damage.unwrap().is_none());
        n
    };
    for (target, name, bytes) in seeds() {
        let what = format!("{target}/{name}");
        match target {
            "journal_file" => assert!(journal(&bytes) > 0, "{what}"),
            "backup" => {
                let info = read_backup(&bytes[..], "seed", |_, _| Ok(())).unwrap();
                assert!(info.entries > 0, "{what}");
            }
            "raft_segment" => {
                let (got, scan) = segments::entries(std::path::Path::new("log-1"), &bytes, 1).unwrap();
                assert!(scan.damage.is_none() && got.len() == 4, "{what}");
            }
            "raft_snapshot" => {
                let (meta, data) = decode_snapshot_file(std::path::Path::new("snapshot"), &bytes).unwrap();
                assert_eq!(meta.snapshot_id, "2-7-4");
                assert_eq!(snapshot_entries(&data).unwrap().len(), 4);
            }
            "raft_wire" => {
                let (kind, payload) = decode_request(&bytes[4..]).unwrap();
                decode_payload(kind, payload).unwrap();
            }
            "data_port" => {
                let r = bytes[..].try_into().unwrap();
                assert_eq!(alluxio_proto::data_port::parse_request(r).unwrap(), (1 << 24, 4096, 1 << 20));
            }
            "block_checksums" => {
                assert_eq!(alluxio_common::checksum::decode(&bytes).unwrap().len(), 4, "{what}");
            }
            "alluxio_path" => {
                alluxio_common::AlluxioPath::parse(std::str::from_utf8(&bytes).unwrap()).unwrap();
            }
            other => panic!("seed for unknown target {other}"),
        }
    }
    if let Some(dir) = std::env::var_os("ALLUXIO_FUZZ_SEEDS") {
        for (target, name, bytes) in seeds() {
            let d = PathBuf::from(&dir).join(target);
            std::fs::create_dir_all(&d).unwrap();
            std::fs::write(d.join(name), bytes).unwrap();
        }
    }
}
