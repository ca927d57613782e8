use alluxio_common::status::{Code, HasCode};

/// Errors of the worker, each naming the block, path or tier.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WorkerError {
    #[error("Block {0} not found on this worker")]
    BlockNotFound(i64),
    #[error("Block {0} already exists on this worker")]
    BlockExists(i64),
    #[error("{0}")]
    ResourceExhausted(String),
    #[error("{0}")]
    InvalidArgument(String),
    #[error("{0}")]
    Unavailable(String),
    #[error("{0}")]
    PermissionDenied(String),
    #[error("cannot {op} {path}: {source}")]
    Io { op: &'static str, path: String, source: std::io::Error },
    #[error(transparent)]
    Ufs(#[from] alluxio_ufs::UfsError),
    #[error("{0}")]
    Internal(String),
    /// Another worker holds a tier directory.
    #[error(transparent)]
    Locked(#[from] alluxio_common::lock::LockError),
    #[error("{0}")]
    FailedPrecondition(String),
    /// A block failed its checksum.
    #[error("{0}")]
    DataLoss(String),
}

impl HasCode for WorkerError {
    fn code(&self) -> Code {
        match self {
            WorkerError::BlockNotFound(_) => Code::NotFound,
            WorkerError::BlockExists(_) => Code::AlreadyExists,
            WorkerError::ResourceExhausted(_) => Code::ResourceExhausted,
            WorkerError::InvalidArgument(_) => Code::InvalidArgument,
            WorkerError::Unavailable(_) => Code::Unavailable,
            WorkerError::PermissionDenied(_) => Code::PermissionDenied,
            WorkerError::Io { .. } | WorkerError::Internal(_) => Code::Internal,
            WorkerError::Ufs(e) => e.code(),
            WorkerError::Locked(e) => e.code(),
            WorkerError::FailedPrecondition(_) => Code::FailedPrecondition,
            WorkerError::DataLoss(_) => Code::DataLoss,
        }
    }
}

impl From<WorkerError> for tonic::Status {
    fn from(e: WorkerError) -> Self {
        alluxio_proto::status::to_status(e)
    }
}

pub(crate) fn io<'a>(op: &'static str, path: &'a std::path::Path) -> impl FnOnce(std::io::Error) -> WorkerError + 'a {
    move |source| WorkerError::Io { op, path: path.display().to_string(), source }
}

pub type Result<T, E = WorkerError> = std::result::Result<T, E>;
