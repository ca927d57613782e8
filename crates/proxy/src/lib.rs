//! The Alluxio proxy (`alluxio process proxy`, `alluxio-start.sh proxy`): one HTTP port
//! (`alluxio.proxy.web.port`, 39999) serving Alluxio's REST API v1 under `/api/v1/paths`,
//! `/api/v1/streams` and `/api/v1/proxy`, and the S3 API under `/api/v1/s3`. Both are thin
//! layers over the Rust client ([`alluxio_client::FileSystem`]): the proxy holds no state of its
//! own beyond open REST streams and S3 multipart uploads in progress.

pub mod credentials;
pub mod rest;
pub mod s3;
pub mod server;

/// Why the proxy could not start or stopped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProxyError {
    #[error(transparent)]
    Conf(#[from] alluxio_common::conf::ConfError),
    #[error(transparent)]
    Bind(#[from] alluxio_common::net::BindError),
    #[error("{0}")]
    Client(String),
    #[error("set both alluxio.proxy.s3.auth.access.key and alluxio.proxy.s3.auth.secret.key, or neither")]
    HalfKeyPair,
    #[error("cannot use the S3 credentials file {path} (alluxio.proxy.s3.auth.credentials.file): {reason}")]
    CredentialsFile { path: String, reason: String },
    #[error("proxy server: {0}")]
    Io(#[from] std::io::Error),
    /// TLS settings that cannot be used (`alluxio.network.tls.*`).
    #[error(transparent)]
    Transport(#[from] alluxio_proto::error::ProtoError),
}
