//! Start-up: load the newest checkpoint, replay the later log entries, cut a torn tail.

use std::fs;
use std::path::Path;

use alluxio_proto::journal::{journal_entry::Entry, JournalEntry};

use crate::error::{io, JournalError};
use crate::format::{decode_header, read_records, Damage, FileKind, HEADER_LEN};
use crate::layout::{range_name, sync_dir, Layout, SegmentFile};

/// What recovery found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Recovered {
    /// The first sequence number the writer should assign.
    pub next_sequence: i64,
    /// Sequence covered by the checkpoint that was loaded, if any.
    pub checkpoint_sequence: Option<i64>,
    /// Entries loaded from the checkpoint.
    pub checkpoint_entries: u64,
    /// Log entries replayed after the checkpoint.
    pub log_entries: u64,
    /// A torn tail that was cut: (file, offset).
    pub cut_tail: Option<(String, u64)>,
}

/// Where an entry handed to the visitor comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    Checkpoint,
    Log,
}

/// Replays the journal in `layout` into `apply`, repairing a torn tail, and finishes any
/// in-progress segment so a writer can start at `next_sequence`.
pub fn recover(
    layout: &Layout,
    mut apply: impl FnMut(Origin, JournalEntry) -> Result<(), JournalError>,
) -> Result<Recovered, JournalError> {
    layout.check_foreign()?;
    if !layout.is_formatted() {
        return Err(JournalError::Unformatted { folder: layout.folder.clone() });
    }
    let mut rec = Recovered::default();
    let mut next = 0i64;
    if let Some((end, path)) = layout.checkpoints()?.pop() {
        rec.checkpoint_entries = read_checkpoint(&path, |e| apply(Origin::Checkpoint, e))?;
        rec.checkpoint_sequence = Some(end);
        next = end;
    }
    remove_creation_leftovers(layout)?;
    let mut segments = layout.segments()?;
    drop_rotation_leftovers(&mut segments)?;
    let last_index = segments.len().saturating_sub(1);
    for (i, seg) in segments.iter().enumerate() {
        // Only the segment being written when the master stopped can hold a torn append: a
        // completed segment was fsynced before the rename that gave it its range.
        let live = seg.in_progress() && i == last_index;
        if seg.in_progress() && !live {
            return Err(corrupt(seg, 0, "a segment still being written, but not the newest one".into()));
        }
        if !seg.in_progress() && seg.end <= next {
            continue;
        }
        replay_segment(seg, live, &mut next, &mut rec, &mut apply)?;
    }
    // Finish in-progress segments so the new writer starts a fresh one.
    for seg in layout.segments()?.into_iter().filter(|s| s.in_progress()) {
        let data_len = fs::metadata(&seg.path).map_err(io("stat", &seg.path))?.len();
        let dir = layout.logs_dir();
        if data_len <= HEADER_LEN as u64 || next <= seg.start {
            fs::remove_file(&seg.path).map_err(io("delete", &seg.path))?;
        } else {
            fs::rename(&seg.path, dir.join(range_name(seg.start, next))).map_err(io("rename", &seg.path))?;
        }
        sync_dir(&dir)?;
    }
    rec.next_sequence = next;
    Ok(rec)
}

/// Replays one segment's entries from `next` on; a torn tail is cut when the segment is the
/// `live` one (being written at the crash) and is damage anywhere else.
fn replay_segment(
    seg: &SegmentFile,
    live: bool,
    next: &mut i64,
    rec: &mut Recovered,
    apply: &mut impl FnMut(Origin, JournalEntry) -> Result<(), JournalError>,
) -> Result<(), JournalError> {
    let data = fs::read(&seg.path).map_err(io("read", &seg.path))?;
    check_segment_header(seg, &data)?;
    let mut last_seen = seg.start - 1;
    let damage = read_records(&seg.path, &data, |_, entry| {
        let seq = entry.sequence_number;
        last_seen = seq;
        if seq < *next {
            return Ok(());
        }
        if seq > *next {
            return Err(JournalError::SequenceGap { file: seg.path.clone(), expected: *next, found: seq });
        }
        apply(Origin::Log, entry)?;
        rec.log_entries += 1;
        *next += 1;
        Ok(())
    })?;
    match damage {
        None => {}
        Some(Damage::TornTail { offset, reason }) if live => {
            tracing::warn!(
                "journal segment {}: cutting a torn tail at byte offset {offset} ({reason}); \
                 the entries before it are intact",
                seg.path.display()
            );
            let f = fs::OpenOptions::new().write(true).open(&seg.path).map_err(io("open", &seg.path))?;
            f.set_len(offset).and_then(|_| f.sync_all()).map_err(io("truncate", &seg.path))?;
            rec.cut_tail = Some((seg.path.display().to_string(), offset));
        }
        Some(Damage::TornTail { offset, reason }) | Some(Damage::Corrupt { offset, reason }) => {
            return Err(corrupt(seg, offset, reason));
        }
    }
    if !seg.in_progress() && last_seen != seg.end - 1 {
        let why = format!(
            "its name says it holds entries up to {}, but it ends after entry {last_seen} (truncated)",
            seg.end - 1
        );
        return Err(corrupt(seg, data.len() as u64, why));
    }
    Ok(())
}

/// A log segment's header must be whole and agree with the segment's name.
fn check_segment_header(seg: &SegmentFile, data: &[u8]) -> Result<(), JournalError> {
    if data.len() < HEADER_LEN {
        // A new segment gets its header before it is renamed into place, so this is damage.
        return Err(corrupt(seg, 0, format!("only {} bytes, shorter than a segment header", data.len())));
    }
    let header = decode_header(&seg.path, data)?;
    if header.kind != FileKind::Log || header.start_sequence != seg.start {
        let why =
            format!("header says {:?} from {}, name says log from {}", header.kind, header.start_sequence, seg.start);
        return Err(corrupt(seg, 0, why));
    }
    Ok(())
}

/// Writers before alluxio-rs 2.9.0's data-safety work created the next segment before
/// completing the old one, and without a header written first: a crash in between leaves the
/// old segment still "being written" followed by new ones holding at most a header. Those new
/// ones hold no entry and go; the old one is then the segment being written.
fn drop_rotation_leftovers(segments: &mut Vec<SegmentFile>) -> Result<(), JournalError> {
    while segments.len() >= 2 {
        let last = &segments[segments.len() - 1];
        let before = &segments[segments.len() - 2];
        let len = fs::metadata(&last.path).map_err(io("stat", &last.path))?.len();
        if !(last.in_progress() && before.in_progress() && len <= HEADER_LEN as u64) {
            break;
        }
        tracing::warn!(
            "journal segment {} holds no entry and follows a segment still being written (a crash while \
             starting a new segment): removing it",
            last.path.display()
        );
        fs::remove_file(&last.path).map_err(io("delete", &last.path))?;
        segments.pop();
    }
    Ok(())
}

/// A segment gets its header under a temporary name (`.0x…tmp`) before its real name: a crash
/// before the rename leaves that file, which never held an entry.
fn remove_creation_leftovers(layout: &Layout) -> Result<(), JournalError> {
    let dir = layout.logs_dir();
    let Ok(rd) = fs::read_dir(&dir) else { return Ok(()) };
    for e in rd.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if name.starts_with(".0x") && name.ends_with(".tmp") {
            fs::remove_file(e.path()).map_err(io("delete", e.path()))?;
        }
    }
    Ok(())
}

fn corrupt(seg: &SegmentFile, offset: u64, reason: String) -> JournalError {
    JournalError::Corrupt { file: seg.path.clone(), offset, reason }
}

/// Reads a checkpoint file into `apply`; returns its entry count. A checkpoint is written
/// whole before it is renamed into place, so any damage is corruption.
pub fn read_checkpoint(
    path: &Path,
    mut apply: impl FnMut(JournalEntry) -> Result<(), JournalError>,
) -> Result<u64, JournalError> {
    let data = fs::read(path).map_err(io("read", path))?;
    let header = decode_header(path, &data)?;
    if header.kind != FileKind::Checkpoint {
        return Err(JournalError::Corrupt { file: path.into(), offset: 0, reason: "not a checkpoint file".into() });
    }
    let mut count = 0u64;
    let mut trailer = None;
    let damage = read_records(path, &data, |off, e| {
        if trailer.is_some() {
            return Err(JournalError::Corrupt {
                file: path.into(),
                offset: off,
                reason: "data after the trailer".into(),
            });
        }
        if let Some(Entry::BackupTrailer(t)) = &e.entry {
            trailer = Some(t.entry_count);
            return Ok(());
        }
        count += 1;
        apply(e)
    })?;
    if let Some(Damage::TornTail { offset, reason } | Damage::Corrupt { offset, reason }) = damage {
        return Err(JournalError::Corrupt { file: path.into(), offset, reason });
    }
    match trailer {
        Some(n) if n as u64 == count => Ok(count),
        Some(n) => Err(JournalError::Corrupt {
            file: path.into(),
            offset: data.len() as u64,
            reason: format!("trailer counts {n} entries, the file holds {count}"),
        }),
        None => Err(JournalError::Corrupt {
            file: path.into(),
            offset: data.len() as u64,
            reason: "the checkpoint has no trailer (truncated)".into(),
        }),
    }
}

/// Reads a journal without changing it (for `alluxio readJournal`): the newest checkpoint's
/// entries, then every log entry. Damage is reported through `note`, not repaired.
pub fn read_only(
    layout: &Layout,
    mut visit: impl FnMut(Origin, &Path, JournalEntry),
    mut note: impl FnMut(String),
) -> Result<(), JournalError> {
    layout.check_foreign()?;
    if !layout.is_formatted() {
        return Err(JournalError::Unformatted { folder: layout.folder.clone() });
    }
    if let Some((_, path)) = layout.checkpoints()?.pop() {
        read_checkpoint(&path, |e| {
            visit(Origin::Checkpoint, &path, e);
            Ok(())
        })?;
    }
    for seg in layout.segments()? {
        let data = fs::read(&seg.path).map_err(io("read", &seg.path))?;
        if data.len() < HEADER_LEN {
            note(format!("{}: no complete header", seg.path.display()));
            continue;
        }
        decode_header(&seg.path, &data)?;
        let damage = read_records(&seg.path, &data, |_, e| {
            visit(Origin::Log, &seg.path, e);
            Ok(())
        })?;
        if let Some(d) = damage {
            note(format!("{}: {d:?}", seg.path.display()));
        }
    }
    Ok(())
}
