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

use std::collections::BTreeMap;
use std::path::PathBuf;

use alluxio_common::status::{Code, HasCode};
use bytes::Bytes;
use opendal::{ErrorKind, Operator};

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
    fn dir(name: String) -> Self {
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

fn map_err(op: &'static str, path: &str, e: opendal::Error) -> UfsError {
    match e.kind() {
        ErrorKind::NotFound => UfsError::NotFound { path: path.into() },
        ErrorKind::AlreadyExists => UfsError::AlreadyExists { path: path.into() },
        ErrorKind::PermissionDenied => UfsError::PermissionDenied { path: path.into(), message: e.to_string() },
        _ => UfsError::Io { op, path: path.into(), message: e.to_string() },
    }
}

const NO_NAMENODE: &str = "no namenode: expected <scheme>://<namenode>:<port>/<path>";

/// The namenode and the path (without outer slashes) of an `hdfs://` or `webhdfs://` URI.
fn namenode_and_path(uri: &str) -> Option<(&str, &str)> {
    let rest = uri.split_once("://").map(|(_, r)| r).unwrap_or_default();
    let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
    (!host.is_empty()).then(|| (host, path.trim_matches('/')))
}

/// The first of `keys` set in `options`.
fn option<'a>(options: &'a BTreeMap<String, String>, keys: &[&str]) -> Option<&'a str> {
    keys.iter().find_map(|k| options.get(*k)).map(String::as_str).filter(|v| !v.is_empty())
}

/// The scheme of a UFS URI: `file` for plain absolute paths.
pub fn scheme_of(uri: &str) -> &str {
    match uri.split_once("://") {
        Some((s, _)) => s,
        None => "file",
    }
}

impl UnderFileSystem {
    /// Opens the UFS behind `uri` (`/abs/dir`, `file:///abs/dir`, `memory:///`).
    /// `options` are the mount's `--option` pairs.
    pub fn open(uri: &str, options: &BTreeMap<String, String>) -> Result<Self, UfsError> {
        let invalid = |reason: &str| UfsError::InvalidUri { uri: uri.into(), reason: reason.into() };
        match scheme_of(uri) {
            "file" => {
                let path = uri.strip_prefix("file://").unwrap_or(uri);
                if !path.starts_with('/') {
                    return Err(invalid("a local UFS path must be absolute"));
                }
                let root = normalize_local(path);
                // OpenDAL creates a missing root; a mount must not conjure directories.
                if !std::path::Path::new(&root).is_dir() {
                    return Err(UfsError::NotFound { path: root });
                }
                let op = Operator::new(opendal::services::Fs::default().root(&root))
                    .map_err(|e| invalid(&e.to_string()))?
                    .finish();
                Ok(UnderFileSystem { uri: root.clone(), kind: "local", op, local_root: Some(PathBuf::from(root)) })
            }
            "memory" => {
                let op =
                    Operator::new(opendal::services::Memory::default()).map_err(|e| invalid(&e.to_string()))?.finish();
                Ok(UnderFileSystem { uri: uri.into(), kind: "memory", op, local_root: None })
            }
            "s3" | "s3a" => {
                let rest = uri.split_once("://").map(|(_, r)| r).unwrap_or_default();
                let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
                if bucket.is_empty() {
                    return Err(invalid("no bucket: expected s3://<bucket>/<path>"));
                }
                let prefix = prefix.trim_matches('/');
                let mut b = opendal::services::S3::default()
                    .bucket(bucket)
                    .root(&format!("/{prefix}"))
                    // Only the mount options configure the client: no ambient AWS files.
                    .disable_config_load()
                    .disable_ec2_metadata();
                let endpoint = option(options, &["alluxio.underfs.s3.endpoint", "fs.s3a.endpoint"]);
                if let Some(e) = endpoint {
                    let e = if e.contains("://") { e.to_owned() } else { format!("https://{e}") };
                    b = b.endpoint(&e);
                }
                let region = option(options, &["alluxio.underfs.s3.endpoint.region", "alluxio.underfs.s3.region"]);
                b = b.region(region.unwrap_or("us-east-1"));
                let key = option(options, &["s3a.accessKeyId", "aws.accessKeyId", "fs.s3a.access.key"]);
                let secret = option(options, &["s3a.secretKey", "aws.secretKey", "fs.s3a.secret.key"]);
                match (key, secret) {
                    (Some(k), Some(s)) => b = b.access_key_id(k).secret_access_key(s),
                    (None, None) => b = b.allow_anonymous(),
                    _ => return Err(invalid("set both s3a.accessKeyId and s3a.secretKey, or neither")),
                }
                // Path-style requests unless virtual hosts are asked for: endpoints other than
                // AWS (SeaweedFS, MinIO, Ceph) rarely resolve bucket host names.
                if option(options, &["alluxio.underfs.s3.disable.dns.buckets"]) == Some("false") {
                    b = b.enable_virtual_host_style();
                }
                let op = Operator::new(b).map_err(|e| invalid(&e.to_string()))?.finish();
                let uri = if prefix.is_empty() { format!("s3://{bucket}") } else { format!("s3://{bucket}/{prefix}") };
                Ok(UnderFileSystem { uri, kind: "s3", op, local_root: None })
            }
            "webhdfs" => {
                let (host, path) = namenode_and_path(uri).ok_or_else(|| invalid(NO_NAMENODE))?;
                let mut b =
                    opendal::services::Webhdfs::default().endpoint(&format!("http://{host}")).root(&format!("/{path}"));
                if let Some(user) = option(options, &["alluxio.underfs.hdfs.user", "user.name"]) {
                    b = b.user_name(user);
                }
                if let Some(t) = option(options, &["alluxio.underfs.webhdfs.delegation"]) {
                    b = b.delegation(t);
                }
                let op = Operator::new(b).map_err(|e| invalid(&e.to_string()))?.finish();
                Ok(UnderFileSystem { uri: format!("webhdfs://{host}/{path}"), kind: "webhdfs", op, local_root: None })
            }
            "hdfs" => {
                let (host, path) = namenode_and_path(uri).ok_or_else(|| invalid(NO_NAMENODE))?;
                // The pure-Rust client speaks Hadoop RPC to the namenode (port 8020 or 9000 as a
                // rule) and the data transfer protocol to datanodes: no JVM, no libhdfs. It acts
                // as HADOOP_USER_NAME, or the user running the process.
                let b = opendal::services::HdfsNative::default()
                    .name_node(&format!("hdfs://{host}"))
                    .root(&format!("/{path}"))
                    .enable_append(false);
                let op = Operator::new(b).map_err(|e| invalid(&e.to_string()))?.finish();
                Ok(UnderFileSystem { uri: format!("hdfs://{host}/{path}"), kind: "hdfs", op, local_root: None })
            }
            s => Err(invalid(&format!(
                "unsupported scheme {s}:// (supported: local paths, file://, s3://, s3a://, hdfs://, webhdfs://, memory://)"
            ))),
        }
    }

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

    fn dir_path(rel: &str) -> String {
        let rel = rel.trim_matches('/');
        if rel.is_empty() {
            "/".into()
        } else {
            format!("{rel}/")
        }
    }

    fn file_path(rel: &str) -> String {
        rel.trim_matches('/').to_owned()
    }

    /// Status of a path; `None` when it does not exist.
    pub async fn stat(&self, rel: &str) -> Result<Option<UfsStatus>, UfsError> {
        let p = Self::file_path(rel);
        if p.is_empty() && self.local_root.is_none() {
            return self.stat_remote_root().await;
        }
        let target = if p.is_empty() { "/".to_owned() } else { p.clone() };
        match self.op.stat(&target).await {
            Ok(m) => Ok(Some(self.status_of(rel_name(&p), &p, &m).await)),
            Err(e) if e.kind() == ErrorKind::NotFound => {
                // Object stores: a prefix with children is a directory.
                if self.is_object_store() && !p.is_empty() {
                    match self.op.stat(&Self::dir_path(&p)).await {
                        Ok(m) => return Ok(Some(self.status_of(rel_name(&p), &p, &m).await)),
                        Err(e) if e.kind() == ErrorKind::NotFound => {}
                        Err(e) => return Err(map_err("stat", &self.full_path(rel), e)),
                    }
                    // No marker object: a prefix with objects below is still a directory.
                    if self.is_prefix(&p).await? {
                        return Ok(Some(UfsStatus::dir(rel_name(&p))));
                    }
                }
                Ok(None)
            }
            Err(e) => Err(map_err("stat", &self.full_path(rel), e)),
        }
    }

    /// The root of a remote UFS. OpenDAL answers a stat of its root without asking the
    /// service, so a missing bucket, an unreachable namenode or a wrong path would pass
    /// for a directory: listing one entry makes the service answer.
    async fn stat_remote_root(&self) -> Result<Option<UfsStatus>, UfsError> {
        use futures::TryStreamExt;
        let probe = async {
            let mut l = self.op.lister_with("/").limit(1).await?;
            l.try_next().await
        };
        match probe.await {
            Ok(_) => Ok(Some(UfsStatus::dir(String::new()))),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
            // OpenDAL reports S3's NoSuchBucket as a configuration error.
            Err(e) if e.to_string().contains("NoSuchBucket") => Ok(None),
            Err(e) => Err(map_err("stat", &self.full_path(""), e)),
        }
    }

    /// Whether some object lies below `p/` (object stores).
    async fn is_prefix(&self, p: &str) -> Result<bool, UfsError> {
        use futures::TryStreamExt;
        let mut l = self.op.lister(&Self::dir_path(p)).await.map_err(|e| map_err("list", &self.full_path(p), e))?;
        let dir = Self::dir_path(p);
        while let Some(e) = l.try_next().await.map_err(|e| map_err("list", &self.full_path(p), e))? {
            if e.path() != dir {
                return Ok(true);
            }
        }
        Ok(false)
    }

    async fn status_of(&self, name: String, rel: &str, m: &opendal::Metadata) -> UfsStatus {
        let mtime_ms = m.last_modified().map(|t| t.timestamp_millis()).unwrap_or(0);
        let length = if m.is_dir() { 0 } else { m.content_length() };
        let mut st = UfsStatus {
            name,
            is_dir: m.is_dir(),
            length,
            mtime_ms,
            owner: None,
            group: None,
            mode: None,
            content_hash: m.etag().map(str::to_owned).unwrap_or_else(|| format!("(len:{length},_modtime:{mtime_ms})")),
        };
        if let Some(root) = &self.local_root {
            let path = root.join(rel);
            if let Ok(Ok((owner, group, mode, mtime))) = tokio::task::spawn_blocking(move || local_owner(&path)).await {
                st.owner = Some(owner);
                st.group = Some(group);
                st.mode = Some(mode);
                // OpenDAL leaves directory times unset in listings; the local file system has them.
                if st.mtime_ms == 0 {
                    st.mtime_ms = mtime;
                    st.content_hash = format!("(len:{},_modtime:{mtime})", st.length);
                }
            }
        }
        st
    }

    /// Direct children of a directory.
    pub async fn list(&self, rel: &str) -> Result<Vec<UfsStatus>, UfsError> {
        let dir = Self::dir_path(rel);
        let entries = self.op.list(&dir).await.map_err(|e| map_err("list", &self.full_path(rel), e))?;
        let mut out = Vec::with_capacity(entries.len());
        for e in entries {
            let path = e.path().trim_end_matches('/').to_owned();
            if path.is_empty() || Self::dir_path(&path) == dir {
                continue; // the directory itself
            }
            let name = rel_name(&path);
            if name.is_empty() {
                continue;
            }
            let meta = if e.metadata().mode().is_dir() || self.local_root.is_none() {
                e.metadata().clone()
            } else {
                // Local listings carry no sizes: stat each file.
                match self.op.stat(&path).await {
                    Ok(m) => m,
                    Err(err) if err.kind() == ErrorKind::NotFound => continue,
                    Err(err) => return Err(map_err("stat", &self.full_path(&path), err)),
                }
            };
            out.push(self.status_of(name, &path, &meta).await);
        }
        Ok(out)
    }

    /// Creates a directory and its missing parents.
    pub async fn mkdirs(&self, rel: &str) -> Result<(), UfsError> {
        if rel.trim_matches('/').is_empty() {
            return Ok(());
        }
        self.op.create_dir(&Self::dir_path(rel)).await.map_err(|e| map_err("create directory", &self.full_path(rel), e))
    }

    /// Deletes a file; a missing file is not an error.
    pub async fn delete_file(&self, rel: &str) -> Result<(), UfsError> {
        self.op.delete(&Self::file_path(rel)).await.map_err(|e| map_err("delete", &self.full_path(rel), e))
    }

    /// Deletes the temporary files a writer of `rel` left behind (a worker killed in the middle
    /// of a write never renames or deletes its `<name>.alluxio.0x<hex>.tmp`), those last written
    /// before `before_ms` only: a new writer of the same path may have started since. Returns
    /// how many were deleted. Object stores write in place and have none.
    pub async fn remove_temp_files_of(&self, rel: &str, before_ms: i64) -> Result<usize, UfsError> {
        if self.is_object_store() {
            return Ok(0);
        }
        let file = Self::file_path(rel);
        let (parent, name) = match file.rsplit_once('/') {
            Some((p, n)) => (p.to_owned(), n.to_owned()),
            None => (String::new(), file.clone()),
        };
        let prefix = format!("{name}.alluxio.0x");
        let mut n = 0;
        let entries = match self.list(&parent).await {
            Ok(e) => e,
            Err(UfsError::NotFound { .. }) => return Ok(0),
            Err(e) => return Err(e),
        };
        for e in entries {
            if !e.is_dir && is_temp_name(&e.name) && e.name.starts_with(&prefix) && e.mtime_ms <= before_ms {
                let path = if parent.is_empty() { e.name.clone() } else { format!("{parent}/{}", e.name) };
                self.delete_file(&path).await?;
                n += 1;
            }
        }
        Ok(n)
    }

    /// Deletes a directory and everything below it.
    pub async fn delete_dir(&self, rel: &str) -> Result<(), UfsError> {
        if rel.trim_matches('/').is_empty() {
            return Err(UfsError::Io {
                op: "delete",
                path: self.uri.clone(),
                message: "refusing to delete a UFS root".into(),
            });
        }
        self.op.remove_all(&Self::dir_path(rel)).await.map_err(|e| map_err("delete", &self.full_path(rel), e))
    }

    /// Renames a file or directory. On object stores this is copy + delete and not atomic.
    pub async fn rename(&self, from: &str, to: &str) -> Result<(), UfsError> {
        let (f, t) = (Self::file_path(from), Self::file_path(to));
        if let Some(parent) = t.rsplit_once('/').map(|(p, _)| p) {
            self.mkdirs(parent).await?;
        }
        if let Some(root) = &self.local_root {
            // OpenDAL's fs rename handles files only; directories move with one rename(2).
            let (src, dst) = (root.join(&f), root.join(&t));
            return tokio::task::spawn_blocking(move || std::fs::rename(&src, &dst))
                .await
                .map_err(|e| UfsError::Io { op: "rename", path: self.full_path(from), message: e.to_string() })?
                .map_err(|e| UfsError::Io { op: "rename", path: self.full_path(from), message: e.to_string() });
        }
        if self.op.info().full_capability().rename {
            return self.op.rename(&f, &t).await.map_err(|e| map_err("rename", &self.full_path(from), e));
        }
        // Object stores: copy every object, then delete the sources (not atomic).
        let err = |e| map_err("rename", &self.full_path(from), e);
        match self.op.stat(&f).await {
            Ok(m) if !m.is_dir() => {
                self.op.copy(&f, &t).await.map_err(err)?;
                return self.op.delete(&f).await.map_err(err);
            }
            Ok(_) => {}
            Err(e) if e.kind() == ErrorKind::NotFound => {}
            Err(e) => return Err(err(e)),
        }
        let (fd, td) = (Self::dir_path(&f), Self::dir_path(&t));
        let entries = self.op.list_with(&fd).recursive(true).await.map_err(err)?;
        if entries.is_empty() {
            return Err(UfsError::NotFound { path: self.full_path(from) });
        }
        for e in &entries {
            let src = e.path();
            let dst = format!("{td}{}", &src[fd.len().min(src.len())..]);
            if src.ends_with('/') {
                self.op.create_dir(&dst).await.map_err(err)?;
            } else {
                self.op.copy(src, &dst).await.map_err(err)?;
            }
        }
        if !entries.iter().any(|e| e.path() == fd) {
            self.op.create_dir(&td).await.map_err(err)?;
        }
        self.op.remove_all(&fd).await.map_err(err)
    }

    /// Reads exactly `len` bytes at `offset`; the range must lie inside the file.
    pub async fn read(&self, rel: &str, offset: u64, len: u64) -> Result<Bytes, UfsError> {
        let buf = self
            .op
            .read_with(&Self::file_path(rel))
            .range(offset..offset + len)
            .await
            .map_err(|e| map_err("read", &self.full_path(rel), e))?;
        Ok(buf.to_bytes())
    }

    /// Reads `len` bytes at `offset` as chunks of about `chunk` bytes, from one streamed request
    /// rather than one request per chunk (on S3 a ranged GET per MiB is ten times slower).
    /// A file shorter than the range ends the stream with an error.
    pub async fn read_chunks(
        &self,
        rel: &str,
        offset: u64,
        len: u64,
        chunk: usize,
    ) -> Result<impl futures::Stream<Item = Result<Bytes, UfsError>> + Send + Unpin + 'static, UfsError> {
        use futures::StreamExt;
        let path = self.full_path(rel);
        let reader = self.op.reader(&Self::file_path(rel)).await.map_err(|e| map_err("read", &path, e))?;
        let raw = reader.into_bytes_stream(offset..offset + len).await.map_err(|e| map_err("read", &path, e))?;
        let chunk = chunk.max(1);
        let state = (raw, bytes::BytesMut::new(), 0u64, false);
        Ok(Box::pin(futures::stream::unfold(state, move |(mut raw, mut buf, mut got, done)| {
            let path = path.clone();
            async move {
                if done {
                    return None;
                }
                while buf.len() < chunk {
                    match raw.next().await {
                        Some(Ok(b)) => {
                            got += b.len() as u64;
                            buf.extend_from_slice(&b);
                        }
                        Some(Err(e)) => {
                            let err = UfsError::Io { op: "read", path, message: e.to_string() };
                            return Some((Err(err), (raw, buf, got, true)));
                        }
                        None => break,
                    }
                }
                if buf.is_empty() {
                    if got < len {
                        let err = UfsError::Io {
                            op: "read",
                            path,
                            message: format!("the file ended after {got} of {len} bytes"),
                        };
                        return Some((Err(err), (raw, buf, got, true)));
                    }
                    return None;
                }
                let out = buf.split().freeze();
                Some((Ok(out), (raw, buf, got, false)))
            }
        })))
    }

    /// Starts writing a new file at `rel`; it appears there only when the writer closes.
    pub async fn create(&self, rel: &str) -> Result<UfsWriter, UfsError> {
        let final_path = Self::file_path(rel);
        if let Some(parent) = final_path.rsplit_once('/').map(|(p, _)| p) {
            self.mkdirs(parent).await?;
        }
        let err = |e| map_err("create", &self.full_path(rel), e);
        if self.is_object_store() {
            // An object appears only when its upload completes: write in place, in parts of 8 MiB.
            let w = self.op.writer_with(&final_path).chunk(8 << 20).concurrent(4).await.map_err(err)?;
            return Ok(UfsWriter { ufs: self.clone(), w: Some(w), tmp: final_path.clone(), final_path, written: 0 });
        }
        let tmp = temp_name(&final_path);
        let w = self.op.writer(&tmp).await.map_err(err)?;
        Ok(UfsWriter { ufs: self.clone(), w: Some(w), tmp, final_path, written: 0 })
    }

    /// Sets owner and mode of a local file (no-op elsewhere); failures are only logged.
    pub async fn set_mode(&self, rel: &str, mode: i32) {
        if let Some(root) = &self.local_root {
            let p = root.join(Self::file_path(rel));
            let _ = tokio::task::spawn_blocking(move || {
                use std::os::unix::fs::PermissionsExt;
                std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode as u32 & 0o7777))
            })
            .await;
        }
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

fn rand_u64() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0));
    h.finish()
}

fn rel_name(p: &str) -> String {
    p.trim_end_matches('/').rsplit('/').next().unwrap_or("").to_owned()
}

fn normalize_local(p: &str) -> String {
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

fn local_owner(path: &std::path::Path) -> std::io::Result<(String, String, i32, i64)> {
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

/// A file being written to the UFS under a temporary name.
pub struct UfsWriter {
    ufs: UnderFileSystem,
    w: Option<opendal::Writer>,
    tmp: String,
    final_path: String,
    written: u64,
}

impl UfsWriter {
    /// The temporary path written until the file is complete, when there is one (file systems;
    /// object stores write in place).
    pub fn temp_path(&self) -> Option<&str> {
        (self.tmp != self.final_path).then_some(self.tmp.as_str())
    }

    /// Appends bytes.
    pub async fn write(&mut self, data: Bytes) -> Result<(), UfsError> {
        let n = data.len() as u64;
        let Some(w) = self.w.as_mut() else {
            return Err(UfsError::Io {
                op: "write",
                path: self.ufs.full_path(&self.final_path),
                message: "writer closed".into(),
            });
        };
        w.write(data).await.map_err(|e| map_err("write", &self.ufs.full_path(&self.final_path), e))?;
        self.written += n;
        Ok(())
    }

    /// Bytes written so far.
    pub fn written(&self) -> u64 {
        self.written
    }

    /// Finishes the file and renames it to its final name; returns the final status.
    pub async fn close(mut self) -> Result<UfsStatus, UfsError> {
        let path = self.ufs.full_path(&self.final_path);
        if let Some(mut w) = self.w.take() {
            if let Err(e) = w.close().await {
                let _ = self.ufs.op.delete(&self.tmp).await;
                return Err(map_err("write", &path, e));
            }
        }
        if self.tmp != self.final_path {
            if let Err(e) = self.ufs.rename(&self.tmp, &self.final_path).await {
                let _ = self.ufs.op.delete(&self.tmp).await;
                return Err(e);
            }
        }
        self.ufs.stat(&self.final_path).await?.ok_or(UfsError::NotFound { path })
    }

    /// Abandons the file, deleting what was written.
    pub async fn abort(mut self) {
        if let Some(mut w) = self.w.take() {
            let _ = w.abort().await;
        }
        if self.tmp != self.final_path {
            let _ = self.ufs.op.delete(&self.tmp).await;
        }
    }
}

impl Drop for UfsWriter {
    fn drop(&mut self) {
        if let Some(mut w) = self.w.take() {
            // Dropped without close/abort: cancel the upload, delete the temporary file.
            let op = self.ufs.op.clone();
            let tmp = (self.tmp != self.final_path).then(|| std::mem::take(&mut self.tmp));
            if let Ok(h) = tokio::runtime::Handle::try_current() {
                h.spawn(async move {
                    let _ = w.abort().await;
                    if let Some(tmp) = tmp {
                        let _ = op.delete(&tmp).await;
                    }
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
    async fn aborted_writes_leave_nothing() {
        let d = tempfile::tempdir().unwrap();
        let ufs = UnderFileSystem::open(d.path().to_str().unwrap(), &BTreeMap::new()).unwrap();
        let mut w = ufs.create("x").await.unwrap();
        w.write(Bytes::from_static(b"partial")).await.unwrap();
        w.abort().await;
        assert!(std::fs::read_dir(d.path()).unwrap().next().is_none());
    }
}
