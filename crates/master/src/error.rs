use alluxio_common::path::PathError;
use alluxio_common::status::{Code, HasCode};
use alluxio_journal::JournalError;
use alluxio_ufs::UfsError;

/// Errors of master operations. Messages name the path (Alluxio's wording where it has one).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MasterError {
    #[error("Path \"{path}\" does not exist.")]
    NotFound { path: String },
    #[error("{0}")]
    AlreadyExists(String),
    #[error("{0}")]
    InvalidPath(#[from] PathError),
    #[error("{0}")]
    InvalidArgument(String),
    #[error("{0}")]
    FailedPrecondition(String),
    #[error("{0}")]
    PermissionDenied(String),
    #[error("{0}")]
    ResourceExhausted(String),
    #[error("{0}")]
    Unavailable(String),
    #[error(transparent)]
    Journal(#[from] JournalError),
    #[error(transparent)]
    Ufs(#[from] UfsError),
    #[error(transparent)]
    Fs(#[from] crate::namespace::plan::FsError),
    #[error("{0}")]
    Internal(String),
}

impl MasterError {
    pub fn not_found(path: impl ToString) -> Self {
        MasterError::NotFound { path: path.to_string() }
    }
}

impl HasCode for MasterError {
    fn code(&self) -> Code {
        match self {
            MasterError::NotFound { .. } => Code::NotFound,
            MasterError::AlreadyExists(_) => Code::AlreadyExists,
            MasterError::InvalidPath(_) | MasterError::InvalidArgument(_) => Code::InvalidArgument,
            MasterError::FailedPrecondition(_) => Code::FailedPrecondition,
            MasterError::PermissionDenied(_) => Code::PermissionDenied,
            MasterError::ResourceExhausted(_) => Code::ResourceExhausted,
            MasterError::Unavailable(_) => Code::Unavailable,
            MasterError::Journal(e) => e.code(),
            MasterError::Ufs(e) => e.code(),
            MasterError::Fs(e) => e.code(),
            MasterError::Internal(_) => Code::Internal,
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
