//! Unmounting and changing mount options. (Mounting opens the UFS to check it, so its
//! checks live with the I/O in `file_system_master::mounts`.)

use std::collections::BTreeMap;

use alluxio_common::AlluxioPath;
use alluxio_proto::journal::journal_entry::Entry;
use alluxio_proto::journal::*;

use super::{not_found, FsError, PlanResult};
use crate::namespace::Namespace;

/// `updateMount`: the options replace the old ones (nothing is inherited).
#[derive(Debug, Clone)]
pub struct MountChange {
    pub path: AlluxioPath,
    pub read_only: bool,
    pub shared: bool,
    pub properties: BTreeMap<String, String>,
}

/// `unmount`: the mount's id and the entries dropping its metadata (the UFS is untouched).
pub fn plan_unmount(ns: &Namespace, path: &AlluxioPath, op_time_ms: i64) -> PlanResult<(i64, Vec<Entry>)> {
    if path.is_root() {
        return Err(FsError::UnmountRoot);
    }
    let m = ns.mounts.get(path).ok_or_else(|| FsError::NotAMountPoint { op: "unmount", path: path.clone() })?;
    if let Some(inner) = ns.mounts.mounts_below(path).first() {
        return Err(FsError::NestedMount { path: path.clone(), inner: inner.alluxio_path.clone() });
    }
    let n = ns.find(path).ok_or_else(|| not_found(path))?;
    let entries = vec![
        Entry::DeleteFile(DeleteFileEntry {
            id: n.id,
            recursive: true,
            op_time_ms,
            alluxio_only: true,
            path: path.to_string(),
        }),
        Entry::DeleteMountPoint(DeleteMountPointEntry { alluxio_path: path.to_string() }),
    ];
    Ok((m.mount_id, entries))
}

/// `updateMount`: the mount's id and the entries replacing its options.
pub fn plan_update_mount(ns: &Namespace, req: &MountChange) -> PlanResult<(i64, Vec<Entry>)> {
    let m = ns
        .mounts
        .get(&req.path)
        .ok_or_else(|| FsError::NotAMountPoint { op: "update the mount", path: req.path.clone() })?;
    let entries = vec![
        Entry::DeleteMountPoint(DeleteMountPointEntry { alluxio_path: req.path.to_string() }),
        Entry::AddMountPoint(AddMountPointEntry {
            alluxio_path: req.path.to_string(),
            ufs_path: m.ufs_uri.clone(),
            read_only: req.read_only,
            properties: req
                .properties
                .iter()
                .map(|(k, v)| StringPairEntry { key: k.clone(), value: v.clone() })
                .collect(),
            shared: req.shared,
            mount_id: m.mount_id,
        }),
    ];
    Ok((m.mount_id, entries))
}
