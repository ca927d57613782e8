use std::path::PathBuf;

use alluxio_common::status::{Code, HasCode};
use alluxio_common::version::{JOURNAL_FORMAT_VERSION, MIN_JOURNAL_FORMAT_VERSION, VERSION};

/// The backup → format → restore procedure, quoted by every "cannot read this" error.
pub const UPGRADE_PROCEDURE: &str = "To move the metadata to this version: start the Alluxio version that \
wrote this journal, run `alluxio fsadmin backup`, stop the cluster, run `alluxio format` with this version, \
then start it with `alluxio-start.sh -i <backup> all` (see the Upgrading page)";

/// Errors of the journal: I/O, corruption, versions and formatting.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum JournalError {
    #[error("journal I/O error: cannot {op} {path}: {source}")]
    Io { op: &'static str, path: PathBuf, source: std::io::Error },
    #[error(
        "Journal {folder} has not been formatted! Run `alluxio format` (or `alluxio formatJournal`) before \
         starting the master. If this master ran before, its journal is elsewhere: check \
         alluxio.master.journal.folder (a missing mount or a typo); formatting an empty journal starts an \
         empty file system"
    )]
    Unformatted { folder: PathBuf },
    #[error(
        "journal file {} is corrupt at byte offset {offset}: {reason}. A crash does not leave this, so the \
         master will not start on it and nothing was changed. {}",
        .file.display(), repair_advice(.file, *.offset)
    )]
    Corrupt { file: PathBuf, offset: u64, reason: String },
    #[error(
        "{file} has journal format version {found}, but this alluxio-rs {VERSION} reads format versions \
             {MIN_JOURNAL_FORMAT_VERSION} to {JOURNAL_FORMAT_VERSION}. {UPGRADE_PROCEDURE}"
    )]
    IncompatibleVersion { file: PathBuf, found: u32 },
    #[error("{folder} holds a journal written by {writer}, which alluxio-rs cannot read. {UPGRADE_PROCEDURE}")]
    Foreign { folder: PathBuf, writer: String },
    #[error("journal file {file}: expected entry with sequence number {expected}, found {found}: entries are missing")]
    SequenceGap { file: PathBuf, expected: i64, found: i64 },
    #[error(
        "journal file {file} at byte offset {offset}: entry {sequence} is of a kind this alluxio-rs {VERSION} \
             does not know (written by a newer version?). {UPGRADE_PROCEDURE}"
    )]
    UnknownEntry { file: PathBuf, offset: u64, sequence: i64 },
    /// Damage in the embedded journal's Raft log that a crash does not leave.
    #[error(
        "{}: {reason}. This is corruption, not a torn write: the master will not start on it and nothing was \
         changed. Restore the newest backup (`alluxio format`, then `alluxio-start.sh -i <backup> all`); or, \
         with the other masters of a quorum running, stop this one, run `alluxio formatJournal` with its \
         options and start it again, and it catches up from them; or cut the log at the damage, losing every \
         change from there on: `alluxio repairJournal -file {} -offset {offset}`",
        .file.display(), .file.display()
    )]
    RaftCorrupt { file: PathBuf, offset: u64, reason: String },
    /// A file in the Raft log directory that is none of the log's own.
    #[error("unexpected file {} in the Raft log directory", .file.display())]
    UnexpectedFile { file: PathBuf },
    /// The Raft log was asked for an entry it does not hold.
    #[error("Raft log: no entry {index}")]
    MissingEntry { index: u64 },
    /// An append that does not continue the log (a bug in the caller).
    #[error("Raft log: append at index {first} but the log ends at {end}")]
    NotContiguous { first: u64, end: u64 },
    /// Bytes read back (a Raft log record, a replicated batch, a message) that do not decode.
    #[error("{what} does not decode: {reason}")]
    Undecodable { what: String, reason: String },
    /// A value that cannot be encoded (a bug, or memory exhausted).
    #[error("cannot encode {what}: {reason}")]
    Encode { what: &'static str, reason: String },
    /// A membership change of the embedded journal quorum that openraft refused.
    #[error("cannot change the embedded journal quorum ({change}): {reason}")]
    Membership { change: String, reason: String },
    #[error("the journal writer has failed earlier ({0}); the master must restart to recover from the journal")]
    WriterFailed(String),
    #[error("the journal is closed")]
    Closed,
    #[error("{0}")]
    Apply(String),
    /// The embedded journal's leadership moved; the change may or may not commit.
    #[error("this master is not the leader of the embedded journal{}; the change was not acknowledged", .0.as_ref().map(|l| format!(" (leader: {l})")).unwrap_or_default())]
    NotLeader(Option<String>),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Precondition(String),
    /// Another process holds the journal folder.
    #[error(transparent)]
    Locked(#[from] alluxio_common::lock::LockError),
}

impl HasCode for JournalError {
    fn code(&self) -> Code {
        match self {
            JournalError::Unformatted { .. }
            | JournalError::IncompatibleVersion { .. }
            | JournalError::Foreign { .. }
            | JournalError::UnknownEntry { .. } => Code::FailedPrecondition,
            JournalError::Corrupt { .. }
            | JournalError::SequenceGap { .. }
            | JournalError::RaftCorrupt { .. }
            | JournalError::Undecodable { .. } => Code::DataLoss,
            JournalError::UnexpectedFile { .. } => Code::FailedPrecondition,
            JournalError::MissingEntry { .. } | JournalError::NotContiguous { .. } | JournalError::Encode { .. } => {
                Code::Internal
            }
            JournalError::Membership { .. } => Code::Unavailable,
            JournalError::WriterFailed(_) | JournalError::Closed | JournalError::NotLeader(_) => Code::Unavailable,
            JournalError::NotFound(_) => Code::NotFound,
            JournalError::Precondition(_) => Code::FailedPrecondition,
            JournalError::Locked(e) => e.code(),
            JournalError::Io { .. } | JournalError::Apply(_) => Code::Internal,
        }
    }
}

/// What an operator can do about damage in `file` (a log segment can be cut there; a
/// checkpoint or snapshot only replaced from a backup).
fn repair_advice(file: &std::path::Path, offset: u64) -> String {
    let restore = "Restore the latest backup into a formatted journal (`alluxio format`, then `alluxio-start.sh -i \
                   <backup> all`)";
    let name = file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let is_log = name.starts_with("log-") || file.parent().is_some_and(|p| p.ends_with("logs"));
    if !is_log {
        return format!("{restore}.");
    }
    format!(
        "{restore}, or cut the journal at the damage, losing every change recorded from there on: `alluxio \
         repairJournal -file {} -offset {offset}`",
        file.display()
    )
}

pub(crate) fn io(op: &'static str, path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> JournalError {
    let path = path.into();
    move |source| JournalError::Io { op, path, source }
}
