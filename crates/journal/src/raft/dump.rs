//! A stopped master's embedded journal, read without changing it (`alluxio readJournal`).

use std::path::Path;

use alluxio_proto::journal::JournalEntry;
use openraft::EntryPayload;

use super::{raft_dir, segments, state_machine};
use crate::{JournalError, Origin};

/// Calls `visit` with each journal entry of the snapshot (as [`Origin::Checkpoint`]) and then
/// of the Raft log after it ([`Origin::Log`]). A torn tail is reported through `note` and not
/// cut; any other damage is an error naming the file.
pub fn read_only(
    folder: &Path,
    mut visit: impl FnMut(Origin, &Path, JournalEntry),
    mut note: impl FnMut(String),
) -> Result<(), JournalError> {
    let dir = raft_dir(folder);
    if !dir.is_dir() {
        return Err(JournalError::Unformatted { folder: folder.into() });
    }
    let corrupt = |file: &Path, reason: String| JournalError::Corrupt { file: file.into(), offset: 0, reason };
    let snapshot = dir.join("snapshot");
    let mut covered = None;
    match std::fs::read(&snapshot) {
        Ok(bytes) => {
            let (meta, data) = state_machine::decode_snapshot_file(&snapshot, &bytes)?;
            covered = meta.last_log_id.map(|l| l.index);
            for e in state_machine::snapshot_entries(&data)? {
                visit(Origin::Checkpoint, &snapshot, e);
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(JournalError::Io { op: "read", path: snapshot, source: e }),
    }
    let log = dir.join("log");
    let mut files = Vec::new();
    for d in std::fs::read_dir(&log).map_err(crate::error::io("list", &log))? {
        let path = d.map_err(crate::error::io("list", &log))?.path();
        let first = path.file_name().and_then(|n| n.to_str()?.strip_prefix("log-")?.parse::<u64>().ok());
        if let Some(first) = first {
            files.push((first, path));
        }
    }
    files.sort();
    let count = files.len();
    for (k, (first, path)) in files.into_iter().enumerate() {
        let bytes = std::fs::read(&path).map_err(crate::error::io("read", &path))?;
        let (entries, scan) = segments::entries(&path, &bytes, first)?;
        if let Some(why) = scan.damage {
            if k + 1 < count || scan.corrupt {
                return Err(JournalError::Corrupt { file: path, offset: scan.valid_len, reason: why });
            }
            note(format!("{}: a torn tail at byte {} ({why}) is not shown", path.display(), scan.valid_len));
        }
        for e in entries {
            if covered.is_some_and(|c| e.log_id.index <= c) {
                continue;
            }
            if let EntryPayload::Normal(batch) = e.payload {
                for je in batch.decode().map_err(|e| corrupt(&path, e.to_string()))? {
                    visit(Origin::Log, &path, je);
                }
            }
        }
    }
    Ok(())
}
