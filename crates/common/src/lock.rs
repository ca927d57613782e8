//! Exclusive ownership of a directory by one process: the journal folder (one master), a
//! worker's tier directories (one worker), and the commands that rewrite them (format,
//! repairJournal, cache restore).
//!
//! The lock is an OS advisory lock (`flock`) on `<dir>/.alluxio.lock`, held for as long as the
//! [`DirLock`] lives (normally the process's life; the kernel drops it when the process dies,
//! even by `kill -9`, so a crash never leaves a stale lock). The file also holds the holder's
//! pid and role, so a refused process can say who holds the directory.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};

/// Name of the lock file inside a locked directory. Scans of the directory skip it.
pub const LOCK_FILE: &str = ".alluxio.lock";

/// Why a directory could not be locked.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error(
        "{dir} is in use by another process ({holder}); only one {what} may use it at a time. Stop that \
         process first, or give this one its own directory"
    )]
    Held { dir: PathBuf, what: String, holder: String },
    #[error("cannot lock {dir}: {source}")]
    Io {
        dir: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl crate::HasCode for LockError {
    fn code(&self) -> crate::Code {
        match self {
            LockError::Held { .. } => crate::Code::FailedPrecondition,
            LockError::Io { .. } => crate::Code::Unavailable,
        }
    }
}

/// An exclusive lock on a directory, released when dropped (or when the process ends).
#[derive(Debug)]
pub struct DirLock {
    dir: PathBuf,
    _file: File,
}

impl DirLock {
    /// Locks `dir` (which must exist) for `what` (e.g. "master", "worker"), recording this
    /// process's pid in the lock file. Fails at once, naming the holder, if another process
    /// holds it.
    pub fn acquire(dir: &Path, what: &str) -> Result<DirLock, LockError> {
        let io = |source| LockError::Io { dir: dir.to_path_buf(), source };
        let path = dir.join(LOCK_FILE);
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(&path)
            .map_err(io)?;
        // SAFETY: flock on a descriptor this function owns; no memory is shared.
        if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } != 0 {
            let err = std::io::Error::last_os_error();
            if err.raw_os_error() == Some(libc::EWOULDBLOCK) {
                let mut holder = String::new();
                let _ = file.read_to_string(&mut holder);
                let holder = match holder.trim() {
                    "" => "pid unknown".to_owned(),
                    h => h.to_owned(),
                };
                return Err(LockError::Held { dir: dir.to_path_buf(), what: what.to_owned(), holder });
            }
            return Err(io(err));
        }
        let me = format!("{what}, pid {}", std::process::id());
        file.set_len(0)
            .and_then(|_| file.seek(SeekFrom::Start(0)))
            .and_then(|_| file.write_all(me.as_bytes()))
            .map_err(io)?;
        Ok(DirLock { dir: dir.to_path_buf(), _file: file })
    }

    /// The locked directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_is_refused_naming_the_holder_and_released_on_drop() {
        let d = tempfile::tempdir().unwrap();
        let first = DirLock::acquire(d.path(), "master").unwrap();
        // flock locks belong to open file descriptions, so a second open in the same process
        // conflicts just as another process would.
        let err = DirLock::acquire(d.path(), "master").unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains(&format!("master, pid {}", std::process::id())), "{msg}");
        assert!(msg.contains(&d.path().display().to_string()), "{msg}");
        assert_eq!(crate::HasCode::code(&err), crate::Code::FailedPrecondition);
        drop(first);
        DirLock::acquire(d.path(), "worker").unwrap();
    }
}
