//! `alluxio repairJournal`: the operator's explicit cut of a damaged journal. A master never
//! cuts damage by itself (only a torn append at the end of the segment being written); when the
//! operator accepts losing the changes recorded from the damage on, this cuts the log there.
//! Nothing is deleted: the bytes cut off and every later segment are moved into
//! `<journal>/v1/damaged-<epochMs>/`, so the cut can be studied or undone by hand.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::{io, JournalError};
use crate::format::{read_records, HEADER_LEN};
use crate::layout::{range_name, sync_dir, Layout};

/// What a cut did.
#[derive(Debug)]
pub struct Cut {
    /// Where the cut bytes and the later segments are now.
    pub aside: PathBuf,
    /// Bytes cut off the damaged file.
    pub bytes: u64,
    /// Later segments moved aside whole.
    pub later_segments: usize,
    /// The damaged file's name after the cut (a completed UFS segment is renamed to the range
    /// it now holds), or `None` when nothing was left of it.
    pub kept_as: Option<PathBuf>,
}

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Ufs,
    Raft,
}

/// Cuts `file`, a log segment of the journal in `layout`, at byte `offset`. Refused while a
/// master holds the journal, and for offsets inside the segment's header or past its end.
pub fn cut(layout: &Layout, file: &Path, offset: u64) -> Result<Cut, JournalError> {
    let lock = layout.lock("repairJournal")?;
    let raft_logs = crate::raft::raft_dir(&layout.folder).join("log");
    let parent = file.parent().unwrap_or(Path::new(""));
    let (kind, header) = if same_dir(parent, &layout.logs_dir()) {
        (Kind::Ufs, HEADER_LEN as u64)
    } else if same_dir(parent, &raft_logs) {
        (Kind::Raft, crate::raft::segments::HEADER)
    } else {
        return Err(JournalError::Precondition(format!(
            "{} is not a log segment of the journal {} (its segments are in {} or {})",
            file.display(),
            layout.folder.display(),
            layout.logs_dir().display(),
            raft_logs.display()
        )));
    };
    let data = fs::read(file).map_err(io("read", file))?;
    if offset < header || offset > data.len() as u64 {
        return Err(JournalError::Precondition(format!(
            "offset {offset} is outside the records of {} (bytes {header} to {})",
            file.display(),
            data.len()
        )));
    }
    let name = file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let start = segment_start(kind, &name)
        .ok_or_else(|| JournalError::Precondition(format!("{} is not named as a log segment", file.display())))?;
    // What stays must be whole records: the offset is where a record starts.
    let kept = &data[..offset as usize];
    let whole = match kind {
        Kind::Ufs => read_records(file, kept, |_, _| Ok(())).is_ok_and(|d| d.is_none()),
        Kind::Raft => crate::raft::segments::scan(file, kept, start as u64).is_ok_and(|s| s.damage.is_none()),
    };
    if !whole {
        return Err(JournalError::Precondition(format!(
            "offset {offset} of {} is not where a record starts (or damage lies before it); cut at the offset \
             the master named",
            file.display()
        )));
    }
    let aside = layout.version_dir().join(format!("damaged-{}", alluxio_common::now_ms()));
    alluxio_common::private::create_dir_all(&aside).map_err(io("create", &aside))?;
    let kept = aside.join(format!("{name}.from-byte-{offset}"));
    alluxio_common::private::create_file(&kept)
        .and_then(|mut f| f.write_all(&data[offset as usize..]).and_then(|_| f.sync_all()))
        .map_err(io("write", &kept))?;
    let mut later_segments = 0;
    for e in fs::read_dir(parent).map_err(io("list", parent))?.flatten() {
        let n = e.file_name().to_string_lossy().into_owned();
        if segment_start(kind, &n).is_some_and(|s| s > start) {
            fs::rename(e.path(), aside.join(&n)).map_err(io("move aside", e.path()))?;
            later_segments += 1;
        }
    }
    let f = fs::OpenOptions::new().write(true).open(file).map_err(io("open", file))?;
    f.set_len(offset).and_then(|_| f.sync_all()).map_err(io("truncate", file))?;
    let kept_as = match kind {
        Kind::Raft => Some(file.to_path_buf()),
        Kind::Ufs => rename_to_range(file, &data[..offset as usize], start, &aside)?,
    };
    sync_dir(&aside)?;
    sync_dir(parent)?;
    drop(lock);
    Ok(Cut { aside, bytes: data.len() as u64 - offset, later_segments, kept_as })
}

/// A cut UFS segment holds fewer entries than its name says: it is renamed to the range it
/// holds, or moved aside when it holds none.
fn rename_to_range(file: &Path, kept: &[u8], start: i64, aside: &Path) -> Result<Option<PathBuf>, JournalError> {
    let mut last = None;
    read_records(file, kept, |_, e| {
        last = Some(e.sequence_number);
        Ok(())
    })?;
    let dir = file.parent().unwrap_or(Path::new("."));
    let target = match last {
        Some(l) => dir.join(range_name(start, l + 1)),
        None => aside.join(file.file_name().unwrap_or_default()),
    };
    if target != file {
        fs::rename(file, &target).map_err(io("rename", file))?;
    }
    Ok(last.map(|_| target))
}

fn segment_start(kind: Kind, name: &str) -> Option<i64> {
    match kind {
        Kind::Ufs => {
            let (a, _) = name.split_once('-')?;
            i64::from_str_radix(a.strip_prefix("0x")?, 16).ok()
        }
        Kind::Raft => name.strip_prefix("log-")?.parse::<i64>().ok(),
    }
}

fn same_dir(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(x), Ok(y)) => x == y,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::{encode_header, encode_record, FileKind};
    use alluxio_proto::journal::{journal_entry::Entry, ClusterInfoEntry, JournalEntry};

    fn segment(start: i64, n: i64) -> Vec<u8> {
        let mut out = encode_header(FileKind::Log, start).to_vec();
        for s in start..start + n {
            let e = JournalEntry {
                sequence_number: s,
                entry: Some(Entry::ClusterInfo(ClusterInfoEntry { cluster_id: format!("c{s}") })),
            };
            encode_record(&e, &mut out);
        }
        out
    }

    #[test]
    fn cutting_a_completed_segment_keeps_its_prefix_and_sets_the_rest_aside() {
        let d = tempfile::tempdir().unwrap();
        let l = Layout::new(d.path().join("j"));
        l.format().unwrap();
        let first = segment(0, 4);
        let (a, b) = (l.logs_dir().join(range_name(0, 4)), l.logs_dir().join(range_name(4, 6)));
        fs::write(&a, &first).unwrap();
        fs::write(&b, segment(4, 2)).unwrap();
        // Cut after the second record.
        let mut at = HEADER_LEN;
        for _ in 0..2 {
            at += 8 + u32::from_le_bytes(first[at..at + 4].try_into().unwrap()) as usize;
        }
        let held = l.lock("master").unwrap();
        assert!(cut(&l, &a, at as u64).unwrap_err().to_string().contains("in use"));
        drop(held);
        assert!(cut(&l, &a, 3).unwrap_err().to_string().contains("outside the records"));
        assert!(cut(&l, &a, at as u64 - 1).unwrap_err().to_string().contains("not where a record starts"));
        let c = cut(&l, &a, at as u64).unwrap();
        assert_eq!((c.later_segments, c.bytes), (1, (first.len() - at) as u64));
        assert_eq!(c.kept_as, Some(l.logs_dir().join(range_name(0, 2))));
        assert_eq!(l.segments().unwrap().len(), 1);
        assert!(c.aside.join(range_name(4, 6)).exists());
        let mut n = 0;
        crate::recovery::recover(&l, |_, _| {
            n += 1;
            Ok(())
        })
        .unwrap();
        assert_eq!(n, 2);
    }
}
