//! Changing attributes (owner, mode, pinning, TTL...) and scheduling persistence.

use std::collections::HashMap;

use alluxio_common::AlluxioPath;
use alluxio_proto::journal::journal_entry::Entry;
use alluxio_proto::journal::UpdateInodeEntry;

use super::{not_found, persisted_ancestors, Access, Caller, FsError, Op, Permissions, PlanResult};
use crate::acl::Action;
use crate::inode::{Inode, PersistenceState};
use crate::namespace::Namespace;

/// `setAttribute`: what to change (`None`: leave as it is).
#[derive(Debug, Clone, Default)]
pub struct Attributes {
    pub owner: Option<String>,
    pub group: Option<String>,
    pub mode: Option<i32>,
    pub pinned: Option<bool>,
    pub pinned_media: Vec<String>,
    pub ttl: Option<i64>,
    /// The journal's TTL action number.
    pub ttl_action: Option<i32>,
    /// `Some(true)`: mark a file persisted (a file the client wrote to the UFS itself).
    pub persisted: Option<bool>,
    pub replication_min: Option<i32>,
    pub replication_max: Option<i32>,
    pub xattr: HashMap<String, Vec<u8>>,
    pub xattr_delete: Vec<String>,
    /// Apply to every inode below the path too.
    pub recursive: bool,
}

/// The entries of a `setAttribute`, and the blocks whose protection from eviction changes
/// (pinning) with the protection they get.
#[derive(Debug, Default)]
pub struct AttributeChange {
    pub entries: Vec<Entry>,
    pub protect: Vec<(Vec<i64>, bool)>,
}

/// Checks the values of `a`, before anything is loaded or changed.
pub fn check_attributes(path: &AlluxioPath, a: &Attributes) -> PlanResult<()> {
    for (what, name) in [("owner", &a.owner), ("group", &a.group)] {
        if let Some(n) = name.as_deref().filter(|n| n.trim().is_empty()) {
            return Err(FsError::EmptyName { what, name: n.to_owned(), path: path.clone() });
        }
    }
    if let Some(mode) = a.mode.filter(|m| !(0..=0o7777).contains(m)) {
        return Err(FsError::InvalidMode { mode, path: path.clone() });
    }
    if let Some(ttl) = a.ttl.filter(|t| *t < -1) {
        return Err(FsError::InvalidTtl { ttl, path: path.clone() });
    }
    Ok(())
}

/// `setAttribute` on `path` (and its subtree with `recursive`).
pub fn plan_set_attribute(
    ns: &Namespace,
    path: &AlluxioPath,
    a: &Attributes,
    caller: &Caller,
    perms: &Permissions,
) -> PlanResult<AttributeChange> {
    check_attributes(path, a)?;
    let n = ns.find(path).ok_or_else(|| not_found(path))?;
    let op = Op::SetAttribute {
        path,
        owner: a.owner.as_deref(),
        group: a.group.as_deref(),
        mode: a.mode.is_some(),
        recursive: a.recursive,
    };
    Access { caller, perms }.authorize(ns, op)?;
    let targets: Vec<&Inode> = if a.recursive { ns.subtree(n.id) } else { vec![n] };
    let mut change = AttributeChange { entries: Vec::with_capacity(targets.len()), protect: Vec::new() };
    for t in targets {
        let mut u = UpdateInodeEntry {
            id: t.id,
            owner: a.owner.clone(),
            group: a.group.clone(),
            mode: a.mode,
            ttl: a.ttl,
            ttl_action: a.ttl_action,
            replication_min: a.replication_min,
            replication_max: a.replication_max,
            xattr: a.xattr.clone(),
            xattr_delete: a.xattr_delete.clone(),
            ..Default::default()
        };
        if let Some(p) = a.pinned {
            u.pinned = Some(p);
            u.set_medium_type = true;
            u.medium_type = if p { a.pinned_media.clone() } else { Vec::new() };
            if t.file().is_some() {
                // Unpinned blocks of unpersisted files stay protected.
                change.protect.push((t.block_ids(), p || !t.is_persisted()));
            }
        }
        let persists = a.persisted == Some(true) && !t.is_persisted() && t.file().is_some();
        if persists {
            u.persistence_state = Some(PersistenceState::Persisted.as_str().into());
        }
        change.entries.push(Entry::UpdateInode(u));
        if persists {
            change.entries.extend(persisted_ancestors(ns, t.id));
        }
    }
    Ok(change)
}

/// `setfacl` on `path` (and, with `recursive`, everything below it, default entries going to
/// directories only): the owner of each inode or the superuser. Each inode gets its new mode
/// (the mask is its group bits) and its whole ACL.
pub fn plan_set_acl(
    ns: &Namespace,
    path: &AlluxioPath,
    action: &Action,
    recursive: bool,
    access: Access<'_>,
) -> PlanResult<Vec<Entry>> {
    let n = ns.find(path).ok_or_else(|| not_found(path))?;
    let targets: Vec<&Inode> = if recursive { ns.subtree(n.id) } else { vec![n] };
    let mut entries = Vec::with_capacity(targets.len());
    for t in targets {
        let at = if t.id == n.id { path.clone() } else { ns.path_of(t.id).unwrap_or_else(|| path.clone()) };
        let op = Op::SetAttribute { path: &at, owner: None, group: None, mode: true, recursive: false };
        access.authorize(ns, op)?;
        let action = if t.id != n.id && !t.is_dir() { action.without_defaults() } else { action.clone() };
        let (mode, acl) = crate::acl::apply(t.mode, t.acl.as_deref(), &action, t.is_dir())
            .map_err(|source| FsError::Acl { source, path: at.clone() })?;
        entries.push(Entry::UpdateInode(UpdateInodeEntry {
            id: t.id,
            mode: Some(mode),
            acl: crate::acl::to_journal(acl.as_ref()),
            set_acl: true,
            ..Default::default()
        }));
    }
    Ok(entries)
}

/// `persist`: schedules asynchronous persistence of a completed, unpersisted file (nothing to
/// do when it is persisted or scheduled already).
pub fn plan_schedule_persist(ns: &Namespace, path: &AlluxioPath) -> PlanResult<Vec<Entry>> {
    let n = ns.find(path).ok_or_else(|| not_found(path))?;
    let f = n.file().ok_or_else(|| FsError::PersistDirectory { path: path.clone() })?;
    if !f.completed {
        return Err(FsError::Incomplete { path: path.clone() });
    }
    if n.persistence != PersistenceState::NotPersisted {
        return Ok(Vec::new());
    }
    Ok(vec![Entry::UpdateInode(UpdateInodeEntry {
        id: n.id,
        persistence_state: Some(PersistenceState::ToBePersisted.as_str().into()),
        ..Default::default()
    })])
}

/// `free`: the cached blocks to drop under `path`. Only persisted files may lose their cached
/// copies (the UFS keeps the data); pinned ones only when `forced`.
pub fn blocks_to_free(ns: &Namespace, path: &AlluxioPath, recursive: bool, forced: bool) -> PlanResult<Vec<i64>> {
    let n = ns.find(path).ok_or_else(|| not_found(path))?;
    if n.is_dir() && !recursive && n.dir().is_some_and(|d| !d.children.is_empty()) {
        return Err(FsError::FreeNonEmptyDirectory { path: path.clone() });
    }
    let mut blocks = Vec::new();
    for t in ns.subtree(n.id) {
        if t.file().is_none() {
            continue;
        }
        let path_of = || ns.path_of(t.id).unwrap_or_else(|| path.clone());
        if !t.is_persisted() {
            return Err(FsError::FreeNotPersisted { path: path_of() });
        }
        if t.pinned && !forced {
            return Err(FsError::FreePinned { path: path_of() });
        }
        blocks.extend(t.block_ids());
    }
    Ok(blocks)
}
