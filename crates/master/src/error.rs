use alluxio_common::net::BindError;
use alluxio_common::path::PathError;
use alluxio_common::status::{Code, HasCode};
use alluxio_common::ConfError;
use alluxio_journal::backup::BackupError;
use alluxio_journal::JournalError;
use alluxio_ufs::UfsError;

use crate::namespace::plan::FsError;
use crate::namespace::ApplyError;

/// Errors of the master: of operations (their namespace checks are [`FsError`]), of backups and
/// of start-up. Messages name the path, property or file (Alluxio's wording where it has one);
/// each variant has one status code.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MasterError {
    #[error("Path \"{path}\" does not exist.")]
    NotFound { path: String },
    #[error("{0}")]
    InvalidPath(#[from] PathError),
    #[error(transparent)]
    Fs(#[from] FsError),
    #[error(transparent)]
    Ufs(#[from] UfsError),
    #[error(transparent)]
    Journal(#[from] JournalError),
    /// The journal could not make a change durable: the master stops serving (see `fail`).
    #[error("metadata change not journaled: {0}")]
    NotJournaled(JournalError),
    /// A journaled change did not apply cleanly: a bug, reported rather than hidden.
    #[error("inconsistent metadata change: {0}")]
    Inconsistent(ApplyError),
    #[error("no mount point covers {path}")]
    NoMount { path: String },
    #[error("Ufs path {uri} is not a directory")]
    UfsNotADirectory { uri: String },
    #[error("Ufs path {uri} is not accessible: {source}")]
    UfsInaccessible { uri: String, source: UfsError },
    #[error("{path} changed while it was persisted")]
    ChangedWhilePersisting { path: String },
    #[error("no worker holds the blocks of {path}")]
    NoWorkerHolds { path: String },
    #[error("worker {worker} could not {op} {path}: {}", .status.message())]
    WorkerFailed { worker: String, op: &'static str, path: String, status: tonic::Status },
    #[error("invalid worker address {address}: {reason}")]
    WorkerAddress { address: String, reason: String },
    #[error("the {journal} journal does not take checkpoints")]
    NoCheckpoints { journal: &'static str },

    #[error("Backup in progress: only one backup runs at a time; try again when it finished")]
    BackupRunning,
    #[error("backup directory {dir} must be an absolute path")]
    BackupDirNotAbsolute { dir: String },
    #[error("cannot {op} backup {name}: {source}")]
    BackupIo { op: &'static str, name: String, source: std::io::Error },
    /// A backup to restore from could not be read or applied.
    #[error(transparent)]
    Restore(BackupError),
    #[error("the namespace is not empty: a backup restores only into a new journal")]
    NamespaceNotEmpty,

    #[error(transparent)]
    Conf(#[from] ConfError),
    /// TLS settings that cannot be used (`alluxio.network.tls.*`).
    #[error(transparent)]
    Transport(#[from] alluxio_proto::error::ProtoError),
    #[error("Invalid value '{value}' for {property}: {expected}")]
    BadValue { property: &'static str, value: String, expected: String },
    #[error(transparent)]
    Bind(#[from] BindError),
    #[error("cannot {op} {path}: {source}")]
    Io { op: &'static str, path: String, source: std::io::Error },
    #[error("the journal folder {folder} holds {} journal but alluxio.master.journal.type={}. Start with \
             alluxio.master.journal.type={}, or move the metadata: alluxio fsadmin backup, alluxio format, \
             alluxio-start.sh -i <backup> masters", .found.article(), .found.other(), .found.as_str())]
    WrongJournalType { folder: String, found: JournalType },
    #[error(
        "alluxio.master.journal.type=UFS but alluxio.master.embedded.journal.addresses lists {masters} \
             masters: several masters need alluxio.master.journal.type=EMBEDDED on every one of them (journal \
             types cannot be mixed; move between them with backup, format and alluxio-start.sh -i)"
    )]
    MixedJournalTypes { masters: usize },
    #[error(
        "this master's embedded journal address {me} (alluxio.master.hostname:alluxio.master.embedded.journal.port) \
             is not in alluxio.master.embedded.journal.addresses ({members}); add it there on every master"
    )]
    NotAMember { me: String, members: String },
    #[error("the master stopped because the journal failed: {reason}")]
    JournalFailed { reason: String },
    #[error("RPC server failed: {0}")]
    Rpc(#[from] tonic::transport::Error),
    #[error("{task} did not finish: {source}")]
    Task { task: &'static str, source: tokio::task::JoinError },
}

/// The two journals a folder can hold, for [`MasterError::WrongJournalType`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JournalType {
    Ufs,
    Embedded,
}

impl JournalType {
    pub fn as_str(self) -> &'static str {
        match self {
            JournalType::Ufs => "UFS",
            JournalType::Embedded => "EMBEDDED",
        }
    }

    fn article(self) -> &'static str {
        match self {
            JournalType::Ufs => "a UFS",
            JournalType::Embedded => "an EMBEDDED",
        }
    }

    fn other(self) -> &'static str {
        match self {
            JournalType::Ufs => JournalType::Embedded.as_str(),
            JournalType::Embedded => JournalType::Ufs.as_str(),
        }
    }
}

impl MasterError {
    pub fn not_found(path: impl ToString) -> Self {
        MasterError::NotFound { path: path.to_string() }
    }

    /// A task on the blocking pool that panicked or was cancelled.
    pub fn task(task: &'static str) -> impl FnOnce(tokio::task::JoinError) -> Self {
        move |source| MasterError::Task { task, source }
    }

    pub fn io(op: &'static str, path: impl ToString) -> impl FnOnce(std::io::Error) -> Self {
        let path = path.to_string();
        move |source| MasterError::Io { op, path, source }
    }
}

impl HasCode for MasterError {
    fn code(&self) -> Code {
        use MasterError::*;
        match self {
            NotFound { .. } => Code::NotFound,
            InvalidPath(_)
            | UfsNotADirectory { .. }
            | BackupDirNotAbsolute { .. }
            | Conf(_)
            | Transport(_)
            | BadValue { .. }
            | MixedJournalTypes { .. }
            | NotAMember { .. } => Code::InvalidArgument,
            ChangedWhilePersisting { .. }
            | NoCheckpoints { .. }
            | BackupRunning
            | Restore(_)
            | NamespaceNotEmpty
            | WrongJournalType { .. } => Code::FailedPrecondition,
            NotJournaled(_)
            | UfsInaccessible { .. }
            | NoWorkerHolds { .. }
            | WorkerFailed { .. }
            | BackupIo { .. }
            | Bind(_)
            | Io { .. }
            | JournalFailed { .. }
            | Rpc(_) => Code::Unavailable,
            Inconsistent(_) | NoMount { .. } | WorkerAddress { .. } | Task { .. } => Code::Internal,
            Journal(e) => e.code(),
            Ufs(e) => e.code(),
            Fs(e) => e.code(),
        }
    }
}

impl From<MasterError> for tonic::Status {
    fn from(e: MasterError) -> Self {
        match e {
            // Another master may acknowledge the retry: mark it so clients fail over.
            MasterError::Journal(JournalError::NotLeader(_)) => {
                alluxio_proto::status::failover_status(e.to_string(), None)
            }
            e => alluxio_proto::status::to_status(e),
        }
    }
}

pub type Result<T, E = MasterError> = std::result::Result<T, E>;
