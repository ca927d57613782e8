//! Renaming a path.

use alluxio_common::AlluxioPath;
use alluxio_proto::journal::journal_entry::Entry;
use alluxio_proto::journal::RenameEntry;

use super::{not_found, persisted_dirs, FsError, PlanResult};
use crate::inode::Inode;
use crate::namespace::Namespace;

/// `mv`.
#[derive(Debug, Clone)]
pub struct Rename {
    pub src: AlluxioPath,
    pub dst: AlluxioPath,
    /// The UFS rename happened (it created the destination's directories there).
    pub in_ufs: bool,
    pub op_time_ms: i64,
}

/// Whether `src` may move to `dst`; returns the inode moving and its new parent's id.
pub fn check_rename<'a>(ns: &'a Namespace, src: &AlluxioPath, dst: &AlluxioPath) -> PlanResult<(&'a Inode, i64)> {
    if src.is_root() || dst.is_root() {
        return Err(FsError::RenameRoot { src: src.clone(), dst: dst.clone() });
    }
    let n = ns.find(src).ok_or_else(|| not_found(src))?;
    if src.is_ancestor_of(dst) {
        return Err(FsError::RenameIntoItself { src: src.clone(), dst: dst.clone() });
    }
    if n.dir().is_some_and(|d| d.mount_point) || !ns.mounts.mounts_below(src).is_empty() {
        return Err(FsError::RenameMountPoint { src: src.clone() });
    }
    if ns.find(dst).is_some() {
        return Err(FsError::RenameDestinationExists { src: src.clone(), dst: dst.clone() });
    }
    let parent = dst.parent().unwrap_or_else(AlluxioPath::root);
    let p = ns.find(&parent).ok_or_else(|| not_found(&parent))?;
    if !p.is_dir() {
        return Err(FsError::RenameParentIsFile { src: src.clone(), dst: dst.clone(), parent });
    }
    let mount_of = |path| ns.mounts.resolve(path).map(|(m, _)| m.mount_id);
    if mount_of(src) != mount_of(dst) {
        return Err(FsError::RenameAcrossMounts { src: src.clone(), dst: dst.clone() });
    }
    Ok((n, p.id))
}

/// `mv`: the rename entry, and with `in_ufs` the destination's directories marked persisted.
pub fn plan_rename(ns: &Namespace, req: &Rename) -> PlanResult<Vec<Entry>> {
    let (n, new_parent) = check_rename(ns, &req.src, &req.dst)?;
    let mut entries = vec![Entry::Rename(RenameEntry {
        id: n.id,
        new_parent_id: new_parent,
        new_name: req.dst.name().into(),
        path: req.src.to_string(),
        new_path: req.dst.to_string(),
        op_time_ms: req.op_time_ms,
    })];
    if req.in_ufs {
        entries.extend(persisted_dirs(ns, new_parent));
    }
    Ok(entries)
}
