//! One contract, three journals: the UFS journal (`LocalJournal`), the embedded Raft journal
//! (`RaftJournal`) and `NoopJournal` are held to the same rules by the same code. Sequence
//! numbers are handed out contiguously in the order of `append` calls, pipelined tickets all
//! resolve, and (for the durable two) everything acknowledged is there after a restart, in order.

use std::sync::Arc;
use std::time::Duration;

use alluxio_journal::raft::{RaftJournal, RaftOptions, ReplicatedState, Role, StateError};
use alluxio_journal::{recover, Journal, Layout, LocalJournal, NoopJournal, WriterOptions};
use alluxio_proto::journal::{journal_entry::Entry, ClusterInfoEntry, JournalEntry};
use parking_lot::Mutex;

fn entry(tag: usize) -> JournalEntry {
    JournalEntry {
        sequence_number: 0,
        entry: Some(Entry::ClusterInfo(ClusterInfoEntry { cluster_id: format!("entry-{tag}") })),
    }
}

fn tag_of(e: &JournalEntry) -> String {
    match &e.entry {
        Some(Entry::ClusterInfo(c)) => c.cluster_id.clone(),
        other => panic!("unexpected entry {other:?}"),
    }
}

/// The contract every journal keeps while it runs; returns the tags appended, in order.
async fn appends_are_numbered_in_order_and_acknowledged(j: &dyn Journal, first_tag: usize) -> Vec<String> {
    assert!(["UFS", "EMBEDDED", "NOOP"].contains(&j.kind()), "{}", j.kind());
    let start = j.next_sequence();
    // Batches of 1 to 5 entries, all appended before any ticket is awaited (as concurrent
    // writers under the namespace lock do), then awaited out of order.
    let mut tickets = Vec::new();
    let mut tags = Vec::new();
    let mut tag = first_tag;
    for batch in 0..40 {
        let entries: Vec<JournalEntry> = (0..batch % 5 + 1).map(|i| entry(tag + i)).collect();
        tags.extend(entries.iter().map(tag_of));
        tag += entries.len();
        let before = j.next_sequence();
        tickets.push(j.append(entries.clone()));
        assert_eq!(j.next_sequence(), before + entries.len() as i64, "numbers are contiguous");
    }
    tickets.reverse();
    for t in tickets {
        tokio::time::timeout(Duration::from_secs(30), t.wait()).await.expect("a ticket never resolved").unwrap();
    }
    assert_eq!(j.next_sequence(), start + tags.len() as i64);
    tags
}

#[test]
fn the_noop_journal_numbers_and_acknowledges() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let j = NoopJournal::default();
        appends_are_numbered_in_order_and_acknowledged(&j, 0).await;
    });
}

#[test]
fn the_ufs_journal_keeps_every_acknowledged_entry_across_restarts() {
    let d = tempfile::tempdir().unwrap();
    let layout = Layout::new(d.path().join("journal"));
    layout.format().unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let mut expected = Vec::new();
    for round in 0..2 {
        let next = recover(&layout, |_, _| Ok(())).unwrap().next_sequence;
        let j = LocalJournal::start(layout.clone(), next, WriterOptions { max_segment_bytes: 2048 }).unwrap();
        expected.extend(rt.block_on(appends_are_numbered_in_order_and_acknowledged(&j, round * 1000)));
        j.close();
        let mut seen = Vec::new();
        recover(&layout, |_, e| {
            seen.push(tag_of(&e));
            Ok(())
        })
        .unwrap();
        assert_eq!(seen, expected, "round {round}");
    }
}

/// A state that records what the journal applied to it.
#[derive(Default)]
struct Recording(Mutex<Vec<String>>);

impl ReplicatedState for Recording {
    fn apply(&self, entries: &[JournalEntry], applied: &mut dyn FnMut()) -> Result<(), StateError> {
        let mut s = self.0.lock();
        s.extend(entries.iter().map(tag_of));
        applied();
        Ok(())
    }
    fn try_apply(&self, entries: &[JournalEntry], applied: &mut dyn FnMut()) -> Option<Result<(), StateError>> {
        Some(self.apply(entries, applied))
    }
    fn snapshot(
        &self,
        quiesce: &mut dyn FnMut(),
        emit: &mut dyn FnMut(JournalEntry) -> Result<(), StateError>,
    ) -> Result<(), StateError> {
        let s = self.0.lock();
        quiesce();
        s.iter().try_for_each(|t| emit(entry(t.trim_start_matches("entry-").parse().unwrap())))
    }
    fn reset(&self, entries: Vec<JournalEntry>, applied: &mut dyn FnMut()) -> Result<(), StateError> {
        let mut s = self.0.lock();
        *s = entries.iter().map(tag_of).collect();
        applied();
        Ok(())
    }
}

async fn start_raft(folder: &std::path::Path, address: &str) -> (Arc<RaftJournal>, Arc<Recording>) {
    let state = Arc::new(Recording::default());
    let opts = RaftOptions {
        folder: folder.to_owned(),
        address: address.to_owned(),
        members: vec![address.to_owned()],
        rpc_address: "localhost:19998".into(),
        election_timeout_min: Duration::from_millis(150),
        election_timeout_max: Duration::from_millis(300),
        heartbeat_interval: Duration::from_millis(50),
        // Small, so the restart loads a snapshot and the log after it.
        snapshot_period_entries: 50,
        transport: Default::default(),
    };
    let j = RaftJournal::start(opts, state.clone()).await.unwrap();
    j.bootstrap().await.unwrap();
    let mut role = j.role();
    tokio::time::timeout(Duration::from_secs(30), role.wait_for(|r| *r == Role::Primary))
        .await
        .expect("a single member elects itself")
        .unwrap();
    (j, state)
}

#[test]
fn the_embedded_journal_keeps_every_acknowledged_entry_across_restarts() {
    let d = tempfile::tempdir().unwrap();
    let folder = d.path().join("journal");
    Layout::new(&folder).format().unwrap();
    // Nothing listens there: a single member needs no peer.
    let address = "localhost:9";
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let mut expected = Vec::new();
        for round in 0..2 {
            let (j, state) = start_raft(&folder, address).await;
            assert_eq!(*state.0.lock(), expected, "round {round}: the restart replays everything");
            // (The leader applied its own entries before appending them, as the master does:
            // the state machine applies only what other members proposed.)
            expected.extend(appends_are_numbered_in_order_and_acknowledged(&*j, round * 1000).await);
            j.shutdown().await;
        }
    });
}
