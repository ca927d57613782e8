//! Pieces every alluxio-rs crate shares: configuration, paths, ids, status codes,
//! modes and users, and the version numbers of the software and its formats.
//!
//! **Architecture invariant:** this crate does no network I/O and depends on no async
//! runtime or RPC library; it only reads configuration files and the environment.

pub mod checksum;
pub mod conf;
pub mod id;
pub mod lock;
pub mod mode;
pub mod net;
pub mod path;
pub mod private;
pub mod status;
pub mod user;
pub mod version;

pub use conf::{Conf, ConfError, Key};
pub use path::AlluxioPath;
pub use status::{Code, HasCode};

/// Milliseconds since the Unix epoch, the time unit of every timestamp in metadata.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}
