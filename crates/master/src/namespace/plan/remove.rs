//! Deleting a path.

use alluxio_common::AlluxioPath;
use alluxio_proto::journal::journal_entry::Entry;
use alluxio_proto::journal::DeleteFileEntry;

use super::{not_found, FsError, PlanResult};
use crate::inode::Inode;
use crate::namespace::Namespace;

/// `rm`.
#[derive(Debug, Clone)]
pub struct Delete {
    pub path: AlluxioPath,
    pub recursive: bool,
    /// Only Alluxio's metadata goes; the UFS keeps the data.
    pub alluxio_only: bool,
    pub op_time_ms: i64,
}

/// Whether `n` (at `path`) may be deleted: not a mount point, holding none, and empty unless
/// `recursive`.
fn check_delete(ns: &Namespace, n: &Inode, path: &AlluxioPath, recursive: bool) -> PlanResult<()> {
    if path.is_root() {
        return Err(FsError::DeleteRoot);
    }
    if n.dir().is_some_and(|d| d.mount_point) {
        return Err(FsError::DeleteMountPoint { path: path.clone() });
    }
    if let Some(m) = ns.mounts.mounts_below(path).first() {
        return Err(FsError::ContainsMountPoint { path: path.clone(), mount: m.alluxio_path.clone() });
    }
    if !recursive && n.dir().is_some_and(|d| !d.children.is_empty()) {
        return Err(FsError::DirectoryNotEmpty { path: path.clone() });
    }
    Ok(())
}

/// `rm`: one entry removing the subtree at the path.
pub fn plan_delete(ns: &Namespace, req: &Delete) -> PlanResult<Vec<Entry>> {
    if req.path.is_root() {
        return Err(FsError::DeleteRoot);
    }
    let n = ns.find(&req.path).ok_or_else(|| not_found(&req.path))?;
    check_delete(ns, n, &req.path, req.recursive)?;
    Ok(vec![Entry::DeleteFile(DeleteFileEntry {
        id: n.id,
        recursive: req.recursive,
        op_time_ms: req.op_time_ms,
        alluxio_only: req.alluxio_only,
        path: req.path.to_string(),
    })])
}

/// Whether deleting or renaming `n` must reach the UFS: it is persisted, or it is a directory
/// created implicitly (never marked persisted) that the UFS still holds because a file below
/// it was persisted.
pub fn in_ufs(ns: &Namespace, n: &Inode, recursive: bool) -> bool {
    n.is_persisted() || (recursive && n.is_dir() && ns.has_persisted_descendant(n))
}
