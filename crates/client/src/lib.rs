//! The alluxio-rs client library: the file-system API over the master's and workers' RPCs.
//!
//! [`FileSystem`] is the entry point: metadata calls go to the master; [`FileOutStream`] and
//! [`FileInStream`] move data to and from workers, short-circuiting through the local worker's
//! block files when it shares the host, and reading through to the UFS on a cache miss.
//!
//! **Architecture invariant:** this crate depends on `proto` and `common` only; it never links
//! the master or worker.

pub mod conf;
pub mod error;
pub mod file_system;
pub mod in_stream;
pub mod options;
pub mod out_stream;

pub use alluxio_proto::grpc::{FileInfo, ReadPType, WritePType};
pub use alluxio_proto::journal::UfsMode;
pub use conf::ClientConf;
pub use error::{ClientError, Result};
pub use file_system::FileSystem;
pub use in_stream::FileInStream;
pub use options::{AclAction, CreateFileOptions, MountOptions, SetAttributeOptions};
pub use out_stream::FileOutStream;

/// Every ACL entry of a file as getfacl prints them: the master lists them for inodes with an
/// ACL; for the others they are the mode's three (`user::rw-`, `group::r--`, `other::r--`).
pub fn acl_entries(f: &FileInfo) -> Vec<String> {
    if !f.acl.is_empty() {
        return f.acl.clone();
    }
    let rwx = |shift: i32| {
        let b = f.mode >> shift;
        let c = |bit: i32, ch: char| if b & bit != 0 { ch } else { '-' };
        format!("{}{}{}", c(4, 'r'), c(2, 'w'), c(1, 'x'))
    };
    vec![format!("user::{}", rwx(6)), format!("group::{}", rwx(3)), format!("other::{}", rwx(0))]
}

/// Parses Alluxio's write type names (`MUST_CACHE`, ...).
pub fn parse_write_type(s: &str) -> Option<WritePType> {
    Some(match s.to_ascii_uppercase().as_str() {
        "MUST_CACHE" => WritePType::MustCache,
        "TRY_CACHE" => WritePType::TryCache,
        "CACHE_THROUGH" => WritePType::CacheThrough,
        "THROUGH" => WritePType::Through,
        "ASYNC_THROUGH" => WritePType::AsyncThrough,
        "NONE" => WritePType::None,
        _ => return None,
    })
}

/// Parses Alluxio's read type names (`CACHE`, ...).
pub fn parse_read_type(s: &str) -> Option<ReadPType> {
    Some(match s.to_ascii_uppercase().as_str() {
        "NO_CACHE" => ReadPType::NoCache,
        "CACHE" => ReadPType::Cache,
        "CACHE_PROMOTE" => ReadPType::CachePromote,
        _ => return None,
    })
}
