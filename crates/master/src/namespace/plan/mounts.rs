//! Mounting, unmounting and changing mount options. (Mounting opens the UFS and reads its root
//! first; the plan gets what was found.)

use std::collections::BTreeMap;

use alluxio_common::AlluxioPath;
use alluxio_proto::journal::journal_entry::Entry;
use alluxio_proto::journal::*;

use super::{not_found, FsError, PlanResult};
use crate::inode::PersistenceState;
use crate::namespace::{IdAllocator, Namespace};

/// `mount`: the UFS at `ufs_uri` (normalised) at the new directory `path`.
#[derive(Debug, Clone)]
pub struct NewMount {
    pub path: AlluxioPath,
    pub ufs_uri: String,
    pub read_only: bool,
    pub shared: bool,
    pub properties: BTreeMap<String, String>,
    /// The id of the new mount (unused by any other).
    pub mount_id: i64,
    /// Owner, group and mode of the UFS root: the mount point's.
    pub owner: String,
    pub group: String,
    pub mode: i32,
    /// The normalised UFS URI of every existing mount, by mount path: two mounts may not
    /// contain each other.
    pub mounted: Vec<(AlluxioPath, String)>,
    pub op_time_ms: i64,
}

/// Whether UFS URI `a` is `b` or an ancestor of it (same scheme and authority).
pub fn uri_prefix(a: &str, b: &str) -> bool {
    let a = a.trim_end_matches('/');
    let b = b.trim_end_matches('/');
    b == a || (b.starts_with(a) && b.as_bytes().get(a.len()) == Some(&b'/'))
}

/// `mount`: the mount table entry and the mount point's directory.
pub fn plan_mount(ns: &Namespace, req: &NewMount) -> PlanResult<Vec<Entry>> {
    let path = &req.path;
    if path.is_root() {
        return Err(FsError::MountOnRoot);
    }
    if ns.find(path).is_some() {
        return Err(FsError::MountPointExists { path: path.clone() });
    }
    let parent = path.parent().unwrap_or_else(AlluxioPath::root);
    let p = ns.find(&parent).ok_or_else(|| not_found(&parent))?;
    if !p.is_dir() {
        return Err(FsError::MountParentIsFile { path: path.clone(), parent });
    }
    for (at, other) in &req.mounted {
        let (outer, inner) = if uri_prefix(other, &req.ufs_uri) {
            (other, &req.ufs_uri)
        } else if uri_prefix(&req.ufs_uri, other) {
            (&req.ufs_uri, other)
        } else {
            continue;
        };
        return Err(FsError::NestedUfs { outer: outer.clone(), inner: inner.clone(), mounted_at: at.clone() });
    }
    let mut entries = vec![Entry::AddMountPoint(AddMountPointEntry {
        alluxio_path: path.to_string(),
        ufs_path: req.ufs_uri.clone(),
        read_only: req.read_only,
        properties: req.properties.iter().map(|(k, v)| StringPairEntry { key: k.clone(), value: v.clone() }).collect(),
        shared: req.shared,
        mount_id: req.mount_id,
    })];
    let id = IdAllocator::new(ns).directory_id(&mut entries);
    entries.push(Entry::InodeDirectory(InodeDirectoryEntry {
        id,
        parent_id: p.id,
        name: path.name().into(),
        persistence_state: PersistenceState::Persisted.as_str().into(),
        creation_time_ms: req.op_time_ms,
        last_modification_time_ms: req.op_time_ms,
        owner: req.owner.clone(),
        group: req.group.clone(),
        mode: req.mode,
        mount_point: true,
        direct_children_loaded: false,
        ttl: -1,
        ..Default::default()
    }));
    Ok(entries)
}

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
