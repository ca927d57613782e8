//! Opening an under storage from its URI and mount options: one function per scheme.

use std::collections::BTreeMap;
use std::path::PathBuf;

use opendal::Operator;

use crate::{normalize_local, scheme_of, UfsError, UnderFileSystem};

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

impl UnderFileSystem {
    /// Opens the UFS behind `uri` (`/abs/dir`, `file:///abs/dir`, `s3://bucket/dir`,
    /// `hdfs://namenode:port/dir`, `webhdfs://...`, `memory:///`). `options` are the mount's
    /// `--option` pairs.
    pub fn open(uri: &str, options: &BTreeMap<String, String>) -> Result<Self, UfsError> {
        match scheme_of(uri) {
            "file" => open_local(uri),
            "memory" => open_memory(uri),
            "s3" | "s3a" => open_s3(uri, options),
            "webhdfs" => open_webhdfs(uri, options),
            "hdfs" => open_hdfs(uri),
            s => Err(invalid(uri, &format!(
                "unsupported scheme {s}:// (supported: local paths, file://, s3://, s3a://, hdfs://, webhdfs://, memory://)"
            ))),
        }
    }
}

fn invalid(uri: &str, reason: &str) -> UfsError {
    UfsError::InvalidUri { uri: uri.into(), reason: reason.into() }
}

/// A local directory, which must exist: a mount never conjures directories.
fn open_local(uri: &str) -> Result<UnderFileSystem, UfsError> {
    let invalid = |reason: &str| invalid(uri, reason);
    let path = uri.strip_prefix("file://").unwrap_or(uri);
    if !path.starts_with('/') {
        return Err(invalid("a local UFS path must be absolute"));
    }
    let root = normalize_local(path);
    // OpenDAL creates a missing root; a mount must not conjure directories.
    if !std::path::Path::new(&root).is_dir() {
        return Err(UfsError::NotFound { path: root });
    }
    let op = Operator::new(opendal::services::Fs::default().root(&root)).map_err(|e| invalid(&e.to_string()))?.finish();
    Ok(UnderFileSystem { uri: root.clone(), kind: "local", op, local_root: Some(PathBuf::from(root)) })
}

fn open_memory(uri: &str) -> Result<UnderFileSystem, UfsError> {
    let invalid = |reason: &str| invalid(uri, reason);
    let op = Operator::new(opendal::services::Memory::default()).map_err(|e| invalid(&e.to_string()))?.finish();
    Ok(UnderFileSystem { uri: uri.into(), kind: "memory", op, local_root: None })
}

/// An S3 bucket and prefix; credentials, endpoint and region from the mount options only.
fn open_s3(uri: &str, options: &BTreeMap<String, String>) -> Result<UnderFileSystem, UfsError> {
    let invalid = |reason: &str| invalid(uri, reason);
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

fn open_webhdfs(uri: &str, options: &BTreeMap<String, String>) -> Result<UnderFileSystem, UfsError> {
    let invalid = |reason: &str| invalid(uri, reason);
    let (host, path) = namenode_and_path(uri).ok_or_else(|| invalid(NO_NAMENODE))?;
    let mut b = opendal::services::Webhdfs::default().endpoint(&format!("http://{host}")).root(&format!("/{path}"));
    if let Some(user) = option(options, &["alluxio.underfs.hdfs.user", "user.name"]) {
        b = b.user_name(user);
    }
    if let Some(t) = option(options, &["alluxio.underfs.webhdfs.delegation"]) {
        b = b.delegation(t);
    }
    let op = Operator::new(b).map_err(|e| invalid(&e.to_string()))?.finish();
    Ok(UnderFileSystem { uri: format!("webhdfs://{host}/{path}"), kind: "webhdfs", op, local_root: None })
}

/// HDFS over the pure-Rust client: Hadoop RPC to the namenode, the data transfer protocol to
/// datanodes; no JVM, no libhdfs.
fn open_hdfs(uri: &str) -> Result<UnderFileSystem, UfsError> {
    let invalid = |reason: &str| invalid(uri, reason);
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
