//! Under file systems: the storage Alluxio mounts — local directories, S3 (`s3://`, `s3a://`),
//! HDFS (`hdfs://`, the pure-Rust native client) and WebHDFS (`webhdfs://`) — all as OpenDAL
//! services behind one type.
//!
//! An [`UnderFileSystem`] is opened from a mount's UFS URI and options and works on paths
//! relative to that URI. Every operation is async and runs on OpenDAL; the local file system
//! additionally reports owners and modes, which OpenDAL does not carry.
//!
//! Writes never leave a half file under its final name: on file systems
//! [`UnderFileSystem::create`] writes to a temporary sibling and renames it into place on
//! [`UfsWriter::close`]; on object stores an object only appears when its upload completes, so
//! it is written in place (a multipart upload an abort cancels).
//!
//! Object stores are handled as they are: a directory is a prefix, made explicit by a
//! zero-length `name/` marker object when created through Alluxio; renames copy then delete,
//! object by object, and are not atomic; listings are paged by OpenDAL.
//!
//! Credentials (mount options such as `s3a.secretKey`) stay in the options map: the `Debug`
//! output and error messages carry the URI only (the master redacts them for display).

use std::path::PathBuf;

use alluxio_common::status::{Code, HasCode};
use opendal::{ErrorKind, Operator};

mod changes;
mod data;
mod metadata;
mod open;

pub use data::{PlannedWrite, UfsWriter};

/// Errors of under-storage operations, each naming the UFS path.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum UfsError {
    #[error("UFS path {path} does not exist")]
    NotFound { path: String },
    #[error("UFS path {path} already exists")]
    AlreadyExists { path: String },
    #[error("permission denied on UFS path {path}: {message}")]
    PermissionDenied { path: String, message: String },
    #[error("invalid UFS URI {uri}: {reason}")]
    InvalidUri { uri: String, reason: String },
    #[error("cannot {op} UFS path {path}: {message}")]
    Io { op: &'static str, path: String, message: String },
}

impl HasCode for UfsError {
    fn code(&self) -> Code {
        match self {
            UfsError::NotFound { .. } => Code::NotFound,
            UfsError::AlreadyExists { .. } => Code::AlreadyExists,
            UfsError::PermissionDenied { .. } => Code::PermissionDenied,
            UfsError::InvalidUri { .. } => Code::InvalidArgument,
            UfsError::Io { .. } => Code::Unavailable,
        }
    }
}

/// What the UFS says about one path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UfsStatus {
    /// Last path component.
    pub name: String,
    pub is_dir: bool,
    pub length: u64,
    pub mtime_ms: i64,
    /// Owner, group and mode when the UFS has them (local file system).
    pub owner: Option<String>,
    pub group: Option<String>,
    pub mode: Option<i32>,
    /// ETag or (length, mtime): changes when the content changes.
    pub content_hash: String,
}

impl UfsStatus {
    /// A directory the UFS knows nothing more about (an object-store prefix, a remote root).
    pub(crate) fn dir(name: String) -> Self {
        UfsStatus {
            name,
            is_dir: true,
            length: 0,
            mtime_ms: 0,
            owner: None,
            group: None,
            mode: None,
            content_hash: String::new(),
        }
    }

    /// Alluxio's UFS fingerprint string for this status.
    pub fn fingerprint(&self, ufs_type: &str) -> String {
        format!(
            "TYPE|{} UFS|{} OWNER|{} GROUP|{} MODE|{} CONTENT_HASH|{}",
            if self.is_dir { "DIRECTORY" } else { "FILE" },
            ufs_type,
            self.owner.as_deref().unwrap_or("_"),
            self.group.as_deref().unwrap_or("_"),
            self.mode.map(|m| m.to_string()).unwrap_or_else(|| "_".into()),
            self.content_hash
        )
    }
}

/// One mounted under storage.
#[derive(Clone)]
pub struct UnderFileSystem {
    uri: String,
    kind: &'static str,
    op: Operator,
    /// The local directory behind a `file` UFS, for owner/mode lookups.
    local_root: Option<PathBuf>,
}

impl std::fmt::Debug for UnderFileSystem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Options may hold credentials: print the URI only.
        f.debug_struct("UnderFileSystem").field("uri", &self.uri).finish()
    }
}

pub(crate) fn map_err(op: &'static str, path: &str, e: opendal::Error) -> UfsError {
    match e.kind() {
        ErrorKind::NotFound => UfsError::NotFound { path: path.into() },
        ErrorKind::AlreadyExists => UfsError::AlreadyExists { path: path.into() },
        ErrorKind::PermissionDenied => UfsError::PermissionDenied { path: path.into(), message: e.to_string() },
        _ => UfsError::Io { op, path: path.into(), message: e.to_string() },
    }
}

/// The scheme of a UFS URI: `file` for plain absolute paths.
pub fn scheme_of(uri: &str) -> &str {
    match uri.split_once("://") {
        Some((s, _)) => s,
        None => "file",
    }
}

impl UnderFileSystem {
    /// The URI this UFS was opened with (normalised).
    pub fn uri(&self) -> &str {
        &self.uri
    }

    /// The UFS type name: `local`, `memory`, ...
    pub fn kind(&self) -> &'static str {
        self.kind
    }

    /// The full URI of a path relative to this UFS.
    pub fn full_path(&self, rel: &str) -> String {
        let rel = rel.trim_matches('/');
        if rel.is_empty() {
            self.uri.clone()
        } else {
            format!("{}/{rel}", self.uri.trim_end_matches('/'))
        }
    }

    /// Whether this UFS has real directories and atomic renames.
    pub fn is_object_store(&self) -> bool {
        !matches!(self.kind, "local")
    }

    pub(crate) fn dir_path(rel: &str) -> String {
        let rel = rel.trim_matches('/');
        if rel.is_empty() {
            "/".into()
        } else {
            format!("{rel}/")
        }
    }

    pub(crate) fn file_path(rel: &str) -> String {
        rel.trim_matches('/').to_owned()
    }
}

/// The temporary name a file is written under: `<name>.alluxio.0x<16 hex>.tmp`.
pub fn temp_name(final_path: &str) -> String {
    let nonce = rand_u64();
    format!("{final_path}.alluxio.0x{nonce:016X}.tmp")
}

/// Whether a UFS name is an in-flight temporary file (hidden from listings).
pub fn is_temp_name(name: &str) -> bool {
    name.ends_with(".tmp") && name.contains(".alluxio.0x")
}

pub(crate) fn rand_u64() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0));
    h.finish()
}

pub(crate) fn rel_name(p: &str) -> String {
    p.trim_end_matches('/').rsplit('/').next().unwrap_or("").to_owned()
}

pub(crate) fn normalize_local(p: &str) -> String {
    let mut parts = Vec::new();
    for c in p.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            c => parts.push(c),
        }
    }
    format!("/{}", parts.join("/"))
}

pub(crate) fn local_owner(path: &std::path::Path) -> std::io::Result<(String, String, i32, i64)> {
    use std::os::unix::fs::MetadataExt;
    let m = std::fs::metadata(path)?;
    let mtime = m.mtime() * 1000 + m.mtime_nsec() / 1_000_000;
    Ok((
        alluxio_common::user::owner_name(m.uid()),
        alluxio_common::user::group_name_or_id(m.gid()),
        (m.mode() & 0o7777) as i32,
        mtime,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;
    use std::collections::BTreeMap;

    #[tokio::test]
    async fn local_round_trip() {
        let d = tempfile::tempdir().unwrap();
        let ufs = UnderFileSystem::open(d.path().to_str().unwrap(), &BTreeMap::new()).unwrap();
        assert!(ufs.stat("a").await.unwrap().is_none());
        ufs.mkdirs("a/b").await.unwrap();
        let mut w = ufs.create("a/b/f").await.unwrap();
        w.write(Bytes::from_static(b"hello ")).await.unwrap();
        // Not visible before close.
        assert!(ufs.stat("a/b/f").await.unwrap().is_none());
        w.write(Bytes::from_static(b"world")).await.unwrap();
        let st = w.close().await.unwrap();
        assert_eq!(st.length, 11);
        assert_eq!(&ufs.read("a/b/f", 6, 5).await.unwrap()[..], b"world");
        let names: Vec<_> = ufs.list("a/b").await.unwrap().into_iter().map(|s| (s.name, s.length)).collect();
        assert_eq!(names, vec![("f".to_string(), 11)]);
        let root: Vec<_> = ufs.list("").await.unwrap().into_iter().map(|s| (s.name, s.is_dir)).collect();
        assert_eq!(root, vec![("a".to_string(), true)]);
        ufs.rename("a/b", "c").await.unwrap();
        assert!(ufs.stat("c/f").await.unwrap().is_some());
        ufs.delete_dir("c").await.unwrap();
        assert!(ufs.stat("c").await.unwrap().is_none());
        assert!(ufs.stat("").await.unwrap().unwrap().is_dir);
    }

    #[tokio::test]
    async fn hdfs_uris_name_the_namenode_and_an_unreachable_one_is_unavailable() {
        let none = BTreeMap::new();
        let err = UnderFileSystem::open("hdfs:///data", &none).unwrap_err();
        assert!(err.to_string().contains("no namenode") && err.code() == Code::InvalidArgument, "{err}");
        // A port nothing listens on: the client must give up with UNAVAILABLE naming the path.
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let ufs = UnderFileSystem::open(&format!("hdfs://127.0.0.1:{port}/data/"), &none).unwrap();
        assert_eq!(ufs.uri(), format!("hdfs://127.0.0.1:{port}/data"));
        let started = std::time::Instant::now();
        let err = ufs.stat("").await.unwrap_err();
        assert_eq!(err.code(), Code::Unavailable, "the root of an unreachable HDFS is not a directory: {err}");
        let err = ufs.stat("x").await.unwrap_err();
        assert_eq!(err.code(), Code::Unavailable, "{err}");
        assert!(err.to_string().contains(&format!("hdfs://127.0.0.1:{port}/data/x")), "{err}");
        assert!(started.elapsed() < std::time::Duration::from_secs(60), "took {:?}", started.elapsed());
    }

    #[tokio::test]
    async fn a_planned_write_names_its_temporary_file_before_making_it() {
        let d = tempfile::tempdir().unwrap();
        let ufs = UnderFileSystem::open(d.path().to_str().unwrap(), &BTreeMap::new()).unwrap();
        let planned = ufs.plan_create("dir/f");
        let tmp = planned.temp_path().unwrap().to_owned();
        assert!(is_temp_name(&tmp) && tmp.starts_with("dir/f."), "{tmp}");
        assert!(!d.path().join("dir").exists(), "planning made something");
        let mut w = ufs.create_planned(planned).await.unwrap();
        assert!(d.path().join(&tmp).exists(), "the write goes to the planned temporary file");
        w.write(bytes::Bytes::from_static(b"x")).await.unwrap();
        w.close().await.unwrap();
        assert!(!d.path().join(&tmp).exists() && d.path().join("dir/f").exists());
    }

    #[tokio::test]
    async fn aborted_writes_leave_nothing() {
        let d = tempfile::tempdir().unwrap();
        let ufs = UnderFileSystem::open(d.path().to_str().unwrap(), &BTreeMap::new()).unwrap();
        let mut w = ufs.create("x").await.unwrap();
        w.write(Bytes::from_static(b"partial")).await.unwrap();
        w.abort().await;
        assert!(std::fs::read_dir(d.path()).unwrap().next().is_none());
    }
}
