//! Where journal files live inside `alluxio.master.journal.folder`.
//!
//! ```text
//! <folder>/_format_<epochMs>              present once formatted
//! <folder>/.alluxio.lock                  held by the one process using the folder
//! <folder>/v1/logs/0x<start>-0x<end>      completed log segment: entries start..end (end exclusive)
//! <folder>/v1/logs/0x<start>-0x7fffffffffffffff   the segment being written
//! <folder>/v1/checkpoints/0x0-0x<end>     full state covering every entry < end
//! <folder>/v1/.tmp/                       checkpoints being written
//! ```

use std::fs;
use std::path::{Path, PathBuf};

use alluxio_common::lock::{DirLock, LOCK_FILE};

use crate::error::{io, JournalError};

/// End marker of the segment being written (Alluxio's Long.MAX_VALUE).
pub const IN_PROGRESS_END: i64 = i64::MAX;
/// Default prefix of the formatted-marker file (`alluxio.master.format.file.prefix`).
pub const FORMAT_PREFIX: &str = "_format_";

/// The journal folder and its sub-directories.
#[derive(Debug, Clone)]
pub struct Layout {
    pub folder: PathBuf,
}

/// A log segment file and the sequence range its name claims.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SegmentFile {
    pub path: PathBuf,
    pub start: i64,
    pub end: i64,
}

impl SegmentFile {
    pub fn in_progress(&self) -> bool {
        self.end == IN_PROGRESS_END
    }
}

/// Names a segment or checkpoint file covering `start..end`.
pub fn range_name(start: i64, end: i64) -> String {
    format!("0x{start:x}-0x{end:x}")
}

fn parse_range(name: &str) -> Option<(i64, i64)> {
    let (a, b) = name.split_once('-')?;
    let a = i64::from_str_radix(a.strip_prefix("0x")?, 16).ok()?;
    let b = i64::from_str_radix(b.strip_prefix("0x")?, 16).ok()?;
    Some((a, b))
}

impl Layout {
    pub fn new(folder: impl Into<PathBuf>) -> Self {
        Layout { folder: folder.into() }
    }

    pub fn version_dir(&self) -> PathBuf {
        self.folder.join("v1")
    }
    pub fn logs_dir(&self) -> PathBuf {
        self.version_dir().join("logs")
    }
    pub fn checkpoints_dir(&self) -> PathBuf {
        self.version_dir().join("checkpoints")
    }
    pub fn tmp_dir(&self) -> PathBuf {
        self.version_dir().join(".tmp")
    }

    /// Whether `alluxio format` has run on this folder.
    pub fn is_formatted(&self) -> bool {
        fs::read_dir(&self.folder)
            .map(|rd| rd.flatten().any(|e| e.file_name().to_string_lossy().starts_with(FORMAT_PREFIX)))
            .unwrap_or(false)
    }

    /// Refuses folders this build cannot read: Alluxio (Java) layouts and newer layout versions.
    pub fn check_foreign(&self) -> Result<(), JournalError> {
        let foreign = |writer: &str| JournalError::Foreign { folder: self.folder.clone(), writer: writer.into() };
        for master in ["FileSystemMaster", "BlockMaster", "MetaMaster"] {
            if self.folder.join(master).is_dir() {
                return Err(foreign("Alluxio (Java), UFS journal"));
            }
        }
        if self.folder.join("raft").is_dir() {
            return Err(foreign("Alluxio (Java), embedded journal"));
        }
        if let Ok(rd) = fs::read_dir(&self.folder) {
            for e in rd.flatten() {
                let name = e.file_name().to_string_lossy().into_owned();
                if let Some(n) = name.strip_prefix('v').and_then(|n| n.parse::<u32>().ok()) {
                    if n != 1 && e.path().is_dir() {
                        return Err(foreign(&format!("an alluxio-rs version with journal layout v{n}")));
                    }
                }
            }
        }
        Ok(())
    }

    /// Locks the folder for this process's master (or a command rewriting it); a second
    /// process is refused naming the holder. The folder must exist.
    pub fn lock(&self, what: &str) -> Result<DirLock, JournalError> {
        Ok(DirLock::acquire(&self.folder, what)?)
    }

    /// Wipes the folder (creating it if needed) and marks it formatted, unless a running master
    /// holds it. Never touches anything outside it.
    pub fn format(&self) -> Result<(), JournalError> {
        alluxio_common::private::create_dir_all(&self.folder).map_err(io("create", &self.folder))?;
        let lock = self.lock("format")?;
        self.format_locked(&lock)
    }

    /// [`Layout::format`] by the holder of the folder's lock.
    pub fn format_locked(&self, _lock: &DirLock) -> Result<(), JournalError> {
        if self.folder.exists() {
            for e in fs::read_dir(&self.folder).map_err(io("list", &self.folder))?.flatten() {
                if e.file_name() == LOCK_FILE {
                    continue;
                }
                let p = e.path();
                let r = if p.is_dir() { fs::remove_dir_all(&p) } else { fs::remove_file(&p) };
                r.map_err(io("delete", &p))?;
            }
        }
        alluxio_common::private::create_dir_all(&self.logs_dir()).map_err(io("create", self.logs_dir()))?;
        alluxio_common::private::create_dir_all(&self.checkpoints_dir())
            .map_err(io("create", self.checkpoints_dir()))?;
        let marker = self.folder.join(format!("{FORMAT_PREFIX}{}", alluxio_common::now_ms()));
        alluxio_common::private::create_file(&marker).and_then(|f| f.sync_all()).map_err(io("create", &marker))?;
        sync_dir(&self.version_dir())?;
        sync_dir(&self.folder)?;
        Ok(())
    }

    /// Log segments sorted by start sequence.
    pub fn segments(&self) -> Result<Vec<SegmentFile>, JournalError> {
        let dir = self.logs_dir();
        let mut out = Vec::new();
        match fs::read_dir(&dir) {
            Ok(rd) => {
                for e in rd.flatten() {
                    if let Some((start, end)) = parse_range(&e.file_name().to_string_lossy()) {
                        out.push(SegmentFile { path: e.path(), start, end });
                    }
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io("list", &dir)(e)),
        }
        out.sort_by_key(|s| (s.start, s.end));
        Ok(out)
    }

    /// Checkpoints as (end sequence, path), newest last.
    pub fn checkpoints(&self) -> Result<Vec<(i64, PathBuf)>, JournalError> {
        let dir = self.checkpoints_dir();
        let mut out = Vec::new();
        match fs::read_dir(&dir) {
            Ok(rd) => {
                for e in rd.flatten() {
                    if let Some((_, end)) = parse_range(&e.file_name().to_string_lossy()) {
                        out.push((end, e.path()));
                    }
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io("list", &dir)(e)),
        }
        out.sort();
        Ok(out)
    }

    /// Whether no entry was ever written: no checkpoint and no non-empty segment.
    pub fn is_empty(&self) -> Result<bool, JournalError> {
        if !self.checkpoints()?.is_empty() {
            return Ok(false);
        }
        for s in self.segments()? {
            let len = fs::metadata(&s.path).map_err(io("stat", &s.path))?.len();
            if len > crate::format::HEADER_LEN as u64 {
                return Ok(false);
            }
        }
        Ok(true)
    }
}

/// Makes a directory's entries (creations, renames, deletions) durable.
pub fn sync_dir(dir: &Path) -> Result<(), JournalError> {
    fs::File::open(dir).and_then(|f| f.sync_all()).map_err(io("sync directory", dir))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        assert_eq!(range_name(0, 16), "0x0-0x10");
        assert_eq!(parse_range("0x0-0x10"), Some((0, 16)));
        assert_eq!(parse_range(&range_name(5, IN_PROGRESS_END)), Some((5, IN_PROGRESS_END)));
        assert_eq!(parse_range("junk"), None);
    }

    #[test]
    fn format_marks_and_detects_foreign_layouts() {
        let d = tempfile::tempdir().unwrap();
        let l = Layout::new(d.path().join("j"));
        assert!(!l.is_formatted());
        l.format().unwrap();
        assert!(l.is_formatted());
        assert!(l.is_empty().unwrap());
        l.check_foreign().unwrap();
        fs::create_dir_all(l.folder.join("FileSystemMaster/v1")).unwrap();
        assert!(l.check_foreign().unwrap_err().to_string().contains("Alluxio (Java)"));
    }

    #[test]
    fn a_locked_folder_cannot_be_formatted_or_locked_again() {
        let d = tempfile::tempdir().unwrap();
        let l = Layout::new(d.path().join("j"));
        l.format().unwrap();
        let held = l.lock("master").unwrap();
        let err = l.format().unwrap_err().to_string();
        assert!(err.contains("master, pid") && err.contains("in use"), "{err}");
        assert!(l.lock("master").is_err());
        // The holder may format; the lock file survives it.
        l.format_locked(&held).unwrap();
        assert!(l.folder.join(LOCK_FILE).exists() && l.is_formatted());
        drop(held);
        l.format().unwrap();
    }
}
