//! The journal's crash contract: whatever prefix of the bytes reached the disk, recovery
//! yields exactly a prefix of the appended entries, cuts the torn tail, and a writer can
//! continue after it.

use alluxio_journal::checkpoint::CheckpointWriter;
use alluxio_journal::{recover, Journal, JournalError, Layout, LocalJournal, Origin, WriterOptions};
use alluxio_proto::journal::{journal_entry::Entry, ClusterInfoEntry, JournalEntry};
use proptest::prelude::*;

fn entry(tag: usize) -> JournalEntry {
    JournalEntry {
        sequence_number: 0,
        entry: Some(Entry::ClusterInfo(ClusterInfoEntry {
            cluster_id: format!("entry-{tag}-{}", "x".repeat(tag % 37)),
        })),
    }
}

fn tag_of(e: &JournalEntry) -> String {
    match &e.entry {
        Some(Entry::ClusterInfo(c)) => c.cluster_id.clone(),
        _ => panic!("unexpected entry"),
    }
}

fn replay(layout: &Layout) -> (Vec<String>, alluxio_journal::Recovered) {
    let mut seen = Vec::new();
    let rec = recover(layout, |_, e| {
        seen.push(tag_of(&e));
        Ok(())
    })
    .unwrap();
    (seen, rec)
}

fn write(layout: &Layout, start: i64, tags: std::ops::Range<usize>, seg: u64) {
    let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
    let j = LocalJournal::start(layout.clone(), start, WriterOptions { max_segment_bytes: seg }).unwrap();
    rt.block_on(async {
        for t in tags {
            j.append(vec![entry(t)]).wait().await.unwrap();
        }
    });
    j.close();
}

#[test]
fn unformatted_journal_is_refused() {
    let d = tempfile::tempdir().unwrap();
    let l = Layout::new(d.path().join("journal"));
    let e = recover(&l, |_, _| Ok(())).unwrap_err();
    assert!(matches!(e, JournalError::Unformatted { .. }));
    assert!(e.to_string().contains("alluxio format"));
}

#[test]
fn entries_survive_restart_across_segments_and_checkpoints() {
    let d = tempfile::tempdir().unwrap();
    let l = Layout::new(d.path().join("journal"));
    l.format().unwrap();
    write(&l, 0, 0..50, 512);
    let (seen, rec) = replay(&l);
    assert_eq!(seen.len(), 50);
    assert_eq!(rec.next_sequence, 50);
    assert!(l.segments().unwrap().len() > 2, "small segments rotate");

    // A checkpoint at 50 holding a summary, then more log entries.
    let mut cp = CheckpointWriter::create(&l, 50).unwrap();
    cp.append(&entry(1000)).unwrap();
    cp.finish().unwrap();
    assert!(l.segments().unwrap().is_empty(), "segments covered by the checkpoint are deleted");
    write(&l, 50, 50..60, 512);
    let mut origins = Vec::new();
    let rec = recover(&l, |o, e| {
        origins.push((o, tag_of(&e)));
        Ok(())
    })
    .unwrap();
    assert_eq!(rec.checkpoint_sequence, Some(50));
    assert_eq!(origins.len(), 11);
    assert_eq!(origins[0].0, Origin::Checkpoint);
    assert_eq!(rec.next_sequence, 60);
}

#[test]
fn corruption_in_the_middle_names_file_and_offset() {
    let d = tempfile::tempdir().unwrap();
    let l = Layout::new(d.path().join("journal"));
    l.format().unwrap();
    write(&l, 0, 0..20, 1 << 20);
    let seg = &l.segments().unwrap()[0];
    let mut data = std::fs::read(&seg.path).unwrap();
    data[60] ^= 0x55;
    std::fs::write(&seg.path, &data).unwrap();
    let e = recover(&l, |_, _| Ok(())).unwrap_err();
    let msg = e.to_string();
    assert!(matches!(e, JournalError::Corrupt { .. }), "{msg}");
    assert!(msg.contains(&seg.path.display().to_string()) && msg.contains("offset"), "{msg}");
}

/// The newest segment, renamed back to the in-progress name it had while being written (as a
/// `kill -9` leaves it).
fn as_if_crashed(l: &Layout) -> std::path::PathBuf {
    let seg = l.segments().unwrap().pop().unwrap();
    let live =
        l.logs_dir().join(alluxio_journal::layout::range_name(seg.start, alluxio_journal::layout::IN_PROGRESS_END));
    std::fs::rename(&seg.path, &live).unwrap();
    live
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, .. ProptestConfig::default() })]
    /// A crash can cut the segment being written anywhere after its header (written before the
    /// segment got its name): recovery yields a prefix and the writer continues after it.
    #[test]
    fn a_torn_live_segment_recovers_a_prefix(n in 1usize..40, cut_frac in 0.0f64..1.0) {
        let d = tempfile::tempdir().unwrap();
        let l = Layout::new(d.path().join("journal"));
        l.format().unwrap();
        write(&l, 0, 0..n, 1 << 20);
        let live = as_if_crashed(&l);
        let len = std::fs::metadata(&live).unwrap().len();
        let header = alluxio_journal::format::HEADER_LEN as u64;
        let cut = header + ((len - header) as f64 * cut_frac) as u64;
        std::fs::OpenOptions::new().write(true).open(&live).unwrap().set_len(cut).unwrap();
        let (seen, rec) = replay(&l);
        let expected: Vec<String> = (0..seen.len()).map(|t| tag_of(&entry(t))).collect();
        prop_assert_eq!(&seen, &expected);
        prop_assert_eq!(rec.next_sequence as usize, seen.len());
        // The writer continues after the cut, and the next replay sees old + new.
        let k = seen.len();
        write(&l, rec.next_sequence, k..k + 3, 1 << 20);
        let (again, _) = replay(&l);
        prop_assert_eq!(again.len(), k + 3);
    }

    /// A completed segment was fsynced before its rename: a shorter one is damage, refused
    /// naming it, and left as it is.
    #[test]
    fn a_truncated_completed_segment_is_refused(n in 1usize..40, cut_frac in 0.0f64..1.0) {
        let d = tempfile::tempdir().unwrap();
        let l = Layout::new(d.path().join("journal"));
        l.format().unwrap();
        write(&l, 0, 0..n, 1 << 20);
        let seg = l.segments().unwrap().pop().unwrap();
        let len = std::fs::metadata(&seg.path).unwrap().len();
        let cut = (len as f64 * cut_frac) as u64;
        std::fs::OpenOptions::new().write(true).open(&seg.path).unwrap().set_len(cut).unwrap();
        let e = recover(&l, |_, _| Ok(())).unwrap_err();
        prop_assert!(matches!(e, JournalError::Corrupt { .. }), "{}", e);
        prop_assert!(e.to_string().contains(&seg.path.display().to_string()));
        prop_assert_eq!(std::fs::metadata(&seg.path).unwrap().len(), cut);
    }
}

#[test]
fn a_crash_while_starting_a_new_segment_loses_nothing() {
    // What writers before the new segment order could leave: the old segment still being
    // written, and a new one holding only its header (or part of it).
    for new_len in [0usize, 10, alluxio_journal::format::HEADER_LEN] {
        let d = tempfile::tempdir().unwrap();
        let l = Layout::new(d.path().join("journal"));
        l.format().unwrap();
        write(&l, 0, 0..7, 1 << 20);
        as_if_crashed(&l);
        let header = alluxio_journal::format::encode_header(alluxio_journal::format::FileKind::Log, 7);
        let new = l.logs_dir().join(alluxio_journal::layout::range_name(7, alluxio_journal::layout::IN_PROGRESS_END));
        std::fs::write(&new, &header[..new_len]).unwrap();
        let (seen, rec) = replay(&l);
        assert_eq!((seen.len(), rec.next_sequence), (7, 7), "new segment of {new_len} bytes");
        assert!(!new.exists());
    }
}
