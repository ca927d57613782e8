//! Creating directories and files, and completing files.

use std::collections::HashMap;

use alluxio_common::AlluxioPath;
use alluxio_proto::journal::journal_entry::Entry;
use alluxio_proto::journal::*;

use super::{not_found, persisted_ancestors, prefix_of, Caller, FsError, Kind, PlanResult};
use crate::acl::DefaultAcl;
use crate::inode::{Inode, PersistenceState};
use crate::namespace::{IdAllocator, Lookup, Namespace};

/// `mkdir`.
#[derive(Debug, Clone)]
pub struct NewDirectory {
    pub path: AlluxioPath,
    /// Create missing ancestors too.
    pub recursive: bool,
    /// An existing directory at `path` is success, not ALREADY_EXISTS.
    pub allow_exists: bool,
    /// Mode asked for the new directories (before the umask, which a parent's default ACL
    /// replaces).
    pub mode: i32,
    pub umask: i32,
    /// The directories were created in the UFS too.
    pub persisted: bool,
    pub op_time_ms: i64,
}

/// `createFile`: an incomplete file the client then writes and completes.
#[derive(Debug, Clone)]
pub struct NewFile {
    pub path: AlluxioPath,
    pub recursive: bool,
    /// Modes asked for the file and for missing ancestors it creates (before the umask,
    /// which a parent's default ACL replaces).
    pub mode: i32,
    pub dir_mode: i32,
    pub umask: i32,
    /// Missing ancestors were created in the UFS too.
    pub persisted_dirs: bool,
    pub block_size: i64,
    pub cacheable: bool,
    pub ttl: i64,
    pub ttl_action: i32,
    pub replication_min: i32,
    pub replication_max: i32,
    pub op_time_ms: i64,
}

/// `completeFile`: seals a file a client wrote.
#[derive(Debug, Clone)]
pub struct Completion {
    pub path: AlluxioPath,
    /// The id the writer got from `createFile` (0: whichever file is at `path`).
    pub file_id: i64,
    pub length: i64,
    pub state: PersistenceState,
    pub fingerprint: String,
    pub xattr: HashMap<String, Vec<u8>>,
    pub op_time_ms: i64,
}

/// Checks the parent of `path` for a create: exists (or `recursive`), is a directory, and
/// `path` itself does not exist. Returns the depth of the deepest existing ancestor.
pub fn check_create(ns: &Namespace, path: &AlluxioPath, recursive: bool, kind: Kind) -> PlanResult<usize> {
    match ns.lookup(path) {
        Lookup::Found(n) => Err(FsError::AlreadyExists {
            kind,
            path: path.clone(),
            being_written: kind == Kind::File && n.file().is_some_and(|f| !f.completed),
        }),
        Lookup::NotADirectory { file, .. } => Err(FsError::AncestorIsFile {
            kind,
            path: path.clone(),
            ancestor: ns.path_of(file.id).unwrap_or_else(AlluxioPath::root),
        }),
        Lookup::Missing { depth, .. } => {
            if depth + 1 < path.depth() && !recursive {
                return Err(not_found(&path.parent().unwrap_or_else(AlluxioPath::root)));
            }
            Ok(depth)
        }
    }
}

/// A new directory's entry.
struct DirSpec<'a> {
    mode: i32,
    umask: i32,
    persisted: bool,
    op_time_ms: i64,
    caller: &'a Caller,
}

/// Directory entries for the missing ancestors of `path` (from component `depth`) and, when
/// `include_self`, for `path` itself. Returns the id of the last one (the parent of what
/// comes next).
fn dir_entries(
    ns: &Namespace,
    ids: &mut IdAllocator,
    path: &AlluxioPath,
    (depth, include_self): (usize, bool),
    spec: &DirSpec<'_>,
    entries: &mut Vec<Entry>,
) -> PlanResult<i64> {
    let comps: Vec<&str> = path.components().collect();
    let top = ns.find(&prefix_of(path, depth)).ok_or_else(|| not_found(&prefix_of(path, depth)))?;
    let mut parent = top.id;
    // New directories inherit the default ACL of the existing one above them, and pass it on.
    let default_acl = top.acl.as_ref().and_then(|a| a.default.as_ref());
    let (mode, acl) = created_mode(default_acl, spec.mode, spec.umask, true);
    let end = if include_self { comps.len() } else { comps.len().saturating_sub(1) };
    let state = if spec.persisted { PersistenceState::Persisted } else { PersistenceState::NotPersisted };
    for name in &comps[depth..end] {
        let id = ids.directory_id(entries);
        entries.push(Entry::InodeDirectory(InodeDirectoryEntry {
            id,
            parent_id: parent,
            name: (*name).into(),
            persistence_state: state.as_str().into(),
            creation_time_ms: spec.op_time_ms,
            last_modification_time_ms: spec.op_time_ms,
            owner: spec.caller.user.clone(),
            group: spec.caller.group.clone(),
            mode,
            acl: acl.clone(),
            // New directories are empty in the UFS too: nothing to load.
            direct_children_loaded: true,
            ttl: -1,
            ..Default::default()
        }));
        parent = id;
    }
    Ok(parent)
}

/// The mode (and journal ACL lines) of a new inode asked for with `mode`: inherited from the
/// parent's default ACL when it has one (no umask then, as in POSIX), else `mode` less the
/// umask.
fn created_mode(default_acl: Option<&DefaultAcl>, mode: i32, umask: i32, is_dir: bool) -> (i32, Vec<String>) {
    match default_acl {
        Some(d) => {
            let (mode, acl) = crate::acl::inherit(d, mode, is_dir);
            (mode, crate::acl::to_journal(acl.as_ref()))
        }
        None => (alluxio_common::mode::apply_umask(mode, umask), Vec::new()),
    }
}

/// The default ACL of directory `id`: an existing one, or one `entries` just created.
fn default_acl_of(ns: &Namespace, entries: &[Entry], id: i64) -> Option<DefaultAcl> {
    if let Some(n) = ns.get(id) {
        return n.acl.as_ref().and_then(|a| a.default.clone());
    }
    entries.iter().find_map(|e| match e {
        Entry::InodeDirectory(d) if d.id == id => {
            crate::acl::from_journal(&d.acl).ok().flatten().and_then(|a| a.default)
        }
        _ => None,
    })
}

/// `mkdir`: the directory and, with `recursive`, its missing ancestors.
pub fn plan_create_directory(ns: &Namespace, req: &NewDirectory, caller: &Caller) -> PlanResult<Vec<Entry>> {
    if req.allow_exists && ns.find(&req.path).is_some_and(Inode::is_dir) {
        return Ok(Vec::new());
    }
    let depth = check_create(ns, &req.path, req.recursive, Kind::Directory)?;
    let spec =
        DirSpec { mode: req.mode, umask: req.umask, persisted: req.persisted, op_time_ms: req.op_time_ms, caller };
    let mut entries = Vec::new();
    dir_entries(ns, &mut IdAllocator::new(ns), &req.path, (depth, true), &spec, &mut entries)?;
    Ok(entries)
}

/// `createFile`: returns the new file's id and the entries creating it (and its missing
/// ancestors, with `recursive`).
pub fn plan_create_file(ns: &Namespace, req: &NewFile, caller: &Caller) -> PlanResult<(i64, Vec<Entry>)> {
    let path = &req.path;
    let depth = check_create(ns, path, req.recursive, Kind::File)?;
    let mut ids = IdAllocator::new(ns);
    let mut entries = Vec::new();
    let spec = DirSpec {
        mode: req.dir_mode,
        umask: req.umask,
        persisted: req.persisted_dirs,
        op_time_ms: req.op_time_ms,
        caller,
    };
    let parent = dir_entries(ns, &mut ids, path, (depth, false), &spec, &mut entries)?;
    let default_acl = default_acl_of(ns, &entries, parent);
    let (mode, acl) = created_mode(default_acl.as_ref(), req.mode, req.umask, false);
    let file_id = ids.file_id(&mut entries);
    entries.push(Entry::InodeFile(InodeFileEntry {
        id: file_id,
        parent_id: parent,
        name: path.name().into(),
        persistence_state: PersistenceState::NotPersisted.as_str().into(),
        creation_time_ms: req.op_time_ms,
        last_modification_time_ms: req.op_time_ms,
        block_size_bytes: req.block_size,
        length: 0,
        completed: false,
        cacheable: req.cacheable,
        ttl: req.ttl,
        ttl_action: req.ttl_action,
        owner: caller.user.clone(),
        group: caller.group.clone(),
        mode,
        acl,
        replication_min: req.replication_min,
        replication_max: req.replication_max,
        ..Default::default()
    }));
    Ok((file_id, entries))
}

/// `completeFile`: returns the file's id and the entries sealing it. No entries: the same
/// writer retrying a completion whose answer it never got (a restart or failover after the
/// commit), which is success with nothing to change.
pub fn plan_complete_file(ns: &Namespace, req: &Completion) -> PlanResult<(i64, Vec<Entry>)> {
    let path = &req.path;
    let n = ns.find(path).ok_or_else(|| not_found(path))?;
    let f = n.file().ok_or_else(|| FsError::NotAFile { path: path.clone() })?;
    if req.file_id != 0 && n.id != req.file_id {
        // Another file took the path (the writer's was deleted): not the writer's file.
        return Err(FsError::FileReplaced { path: path.clone(), file_id: req.file_id });
    }
    if f.completed {
        if req.file_id == n.id && f.length == req.length {
            return Ok((n.id, Vec::new()));
        }
        return Err(FsError::AlreadyCompleted { path: path.clone() });
    }
    let mut entries = vec![
        Entry::UpdateInodeFile(UpdateInodeFileEntry {
            id: n.id,
            length: Some(req.length),
            completed: Some(true),
            ..Default::default()
        }),
        Entry::UpdateInode(UpdateInodeEntry {
            id: n.id,
            persistence_state: Some(req.state.as_str().into()),
            last_modification_time_ms: Some(req.op_time_ms),
            ufs_fingerprint: (!req.fingerprint.is_empty()).then(|| req.fingerprint.clone()),
            xattr: req.xattr.clone(),
            ..Default::default()
        }),
    ];
    if req.state == PersistenceState::Persisted {
        entries.extend(persisted_ancestors(ns, n.id));
    }
    Ok((n.id, entries))
}
