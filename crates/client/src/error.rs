use alluxio_common::status::{Code, HasCode};

/// A failed client call: Alluxio's status code and the server's (or client's) message.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct ClientError {
    pub code: Code,
    pub message: String,
}

impl ClientError {
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        ClientError { code, message: message.into() }
    }
}

impl HasCode for ClientError {
    fn code(&self) -> Code {
        self.code
    }
}

impl From<tonic::Status> for ClientError {
    fn from(s: tonic::Status) -> Self {
        let code = alluxio_proto::status::code_of(s.code());
        let message = if std::error::Error::source(&s).is_some() {
            format!("cannot reach the Alluxio server: {}", s.message())
        } else {
            s.message().to_owned()
        };
        ClientError { code, message }
    }
}

impl From<alluxio_common::path::PathError> for ClientError {
    fn from(e: alluxio_common::path::PathError) -> Self {
        ClientError::new(Code::InvalidArgument, e.to_string())
    }
}

impl From<alluxio_common::ConfError> for ClientError {
    fn from(e: alluxio_common::ConfError) -> Self {
        ClientError::new(Code::InvalidArgument, e.to_string())
    }
}

pub type Result<T, E = ClientError> = std::result::Result<T, E>;
