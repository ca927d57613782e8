//! Metadata from the UFS: inodes for paths Alluxio does not know yet, and what a metadata
//! sync changes. The UFS was read before planning; these functions only compare.

use std::collections::HashMap;

use alluxio_common::AlluxioPath;
use alluxio_proto::journal::journal_entry::Entry;
use alluxio_proto::journal::*;
use alluxio_ufs::{is_temp_name, UfsStatus};

use crate::inode::{Inode, PersistenceState};
use crate::namespace::{IdAllocator, Lookup, Namespace};

/// What loaded inodes get from the mount and the master. Statuses must carry their owner and
/// group (the caller fills in the master's user and its group where the UFS has none).
#[derive(Debug, Clone, Copy)]
pub struct UfsFacts<'a> {
    /// The UFS type, part of a file's fingerprint.
    pub kind: &'a str,
    pub block_size: i64,
    /// The time of inodes whose UFS status has none.
    pub op_time_ms: i64,
}

/// The inode entry for one UFS status (ids from `ids`; generator entries go to `entries`).
fn inode_from_ufs(
    ids: &mut IdAllocator,
    parent: i64,
    name: &str,
    st: &UfsStatus,
    ufs: &UfsFacts<'_>,
    entries: &mut Vec<Entry>,
) -> Entry {
    let owner = st.owner.clone().unwrap_or_default();
    let group = st.group.clone().unwrap_or_default();
    let t = if st.mtime_ms > 0 { st.mtime_ms } else { ufs.op_time_ms };
    let persisted = PersistenceState::Persisted.as_str().to_owned();
    if st.is_dir {
        Entry::InodeDirectory(InodeDirectoryEntry {
            id: ids.directory_id(entries),
            parent_id: parent,
            name: name.into(),
            persistence_state: persisted,
            creation_time_ms: t,
            last_modification_time_ms: t,
            owner,
            group,
            mode: st.mode.unwrap_or(0o755),
            direct_children_loaded: false,
            ttl: -1,
            ..Default::default()
        })
    } else {
        Entry::InodeFile(InodeFileEntry {
            id: ids.file_id(entries),
            parent_id: parent,
            name: name.into(),
            persistence_state: persisted,
            creation_time_ms: t,
            last_modification_time_ms: t,
            block_size_bytes: ufs.block_size,
            length: st.length as i64,
            completed: true,
            cacheable: true,
            ttl: -1,
            owner,
            group,
            mode: st.mode.unwrap_or(0o644),
            replication_max: -1,
            ufs_fingerprint: st.fingerprint(ufs.kind),
            ..Default::default()
        })
    }
}

/// Loads `path`: `statuses` are the UFS statuses of its components from `start_depth` on
/// (the deepest ancestor Alluxio knew when the UFS was read). Nothing when the tree changed
/// shape meanwhile.
pub fn plan_load_path(
    ns: &Namespace,
    path: &AlluxioPath,
    start_depth: usize,
    statuses: &[UfsStatus],
    ufs: &UfsFacts<'_>,
) -> Vec<Entry> {
    let comps: Vec<&str> = path.components().collect();
    let (mut parent, depth) = match ns.lookup(path) {
        Lookup::Missing { deepest, depth } if deepest.is_dir() && depth >= start_depth => (deepest.id, depth),
        _ => return Vec::new(), // created meanwhile (or changed shape): nothing to load
    };
    let mut ids = IdAllocator::new(ns);
    let mut entries = Vec::new();
    for (i, st) in statuses.iter().enumerate().skip(depth - start_depth) {
        let e = inode_from_ufs(&mut ids, parent, comps[start_depth + i], st, ufs, &mut entries);
        parent = match &e {
            Entry::InodeDirectory(d) => d.id,
            Entry::InodeFile(f) => f.id,
            _ => parent,
        };
        entries.push(e);
    }
    entries
}

/// Loads the UFS `listing` of directory `dir_id`: its children Alluxio does not know, then
/// the directory marked loaded. With `again`, a directory loaded before is listed again.
pub fn plan_load_children(
    ns: &Namespace,
    dir_id: i64,
    listing: &[UfsStatus],
    again: bool,
    ufs: &UfsFacts<'_>,
) -> Vec<Entry> {
    let mut entries = Vec::new();
    let Some(d) = ns.get(dir_id).and_then(|n| n.dir()) else {
        return entries;
    };
    if d.children_loaded && !again {
        return entries;
    }
    let mut ids = IdAllocator::new(ns);
    let missing = listing.iter().filter(|s| !is_temp_name(&s.name) && !d.children.contains_key(s.name.as_str()));
    for st in missing {
        let e = inode_from_ufs(&mut ids, dir_id, &st.name, st, ufs, &mut entries);
        entries.push(e);
    }
    if !d.children_loaded {
        entries.push(loaded(dir_id));
    }
    entries
}

fn loaded(id: i64) -> Entry {
    Entry::UpdateInodeDirectory(UpdateInodeDirectoryEntry {
        id,
        direct_children_loaded: Some(true),
        ..Default::default()
    })
}

/// One change of a metadata sync.
enum Step<'a> {
    Delete(i64, AlluxioPath),
    Create(i64, String, &'a UfsStatus),
}

/// What the UFS holds at a synced path: nothing, a file, or a directory and its listing.
#[derive(Debug, Clone, Copy)]
pub enum UfsView<'a> {
    Absent,
    File(&'a UfsStatus),
    Dir(&'a [UfsStatus]),
}

/// Whether a sync may replace or remove `n`: only what Alluxio got from the UFS (persisted,
/// complete, not a mount point); data Alluxio has not persisted is left alone.
fn synced_away(n: &Inode) -> bool {
    n.is_persisted() && !n.dir().is_some_and(|d| d.mount_point) && n.file().is_none_or(|f| f.completed)
}

/// The content hash part of a UFS fingerprint.
fn content(fp: &str) -> &str {
    fp.split("CONTENT_HASH|").nth(1).unwrap_or("")
}

/// A metadata sync of `path` (known to Alluxio) against what the UFS holds: files changed
/// there are replaced, files gone are removed, new ones appear.
pub fn plan_sync(ns: &Namespace, path: &AlluxioPath, view: UfsView<'_>, ufs: &UfsFacts<'_>) -> Vec<Entry> {
    let Some(n) = ns.find(path) else { return Vec::new() };
    let mut steps = Vec::new();
    match view {
        UfsView::Absent if synced_away(n) && !path.is_root() => steps.push(Step::Delete(n.id, path.clone())),
        UfsView::Absent => {}
        UfsView::File(st) => {
            let changed = n.file().is_none() || content(&n.ufs_fingerprint) != st.content_hash;
            if changed && synced_away(n) && !path.is_root() {
                steps.push(Step::Delete(n.id, path.clone()));
                steps.push(Step::Create(n.parent_id, path.name().to_owned(), st));
            }
        }
        UfsView::Dir(listing) => steps = sync_children(ns, n, path, listing),
    }
    let mut ids = IdAllocator::new(ns);
    let mut entries = Vec::new();
    for step in steps {
        match step {
            Step::Delete(id, p) => entries.push(Entry::DeleteFile(DeleteFileEntry {
                id,
                recursive: true,
                op_time_ms: ufs.op_time_ms,
                alluxio_only: true,
                path: p.to_string(),
            })),
            Step::Create(parent, name, st) => {
                let e = inode_from_ufs(&mut ids, parent, &name, st, ufs, &mut entries);
                entries.push(e);
            }
        }
    }
    if matches!(view, UfsView::Dir(_)) && !n.dir().is_some_and(|d| d.children_loaded) {
        entries.push(loaded(n.id));
    }
    entries
}

/// The steps syncing the children of directory `n` with its UFS `listing`.
fn sync_children<'a>(ns: &Namespace, n: &Inode, path: &AlluxioPath, listing: &'a [UfsStatus]) -> Vec<Step<'a>> {
    let mut steps = Vec::new();
    let in_ufs: HashMap<&str, &UfsStatus> =
        listing.iter().filter(|s| !is_temp_name(&s.name)).map(|s| (s.name.as_str(), s)).collect();
    let Some(d) = n.dir() else { return steps };
    for (name, cid) in &d.children {
        let Some(c) = ns.get(*cid).filter(|c| synced_away(c)) else { continue };
        match in_ufs.get(name.as_ref()) {
            None => steps.push(Step::Delete(*cid, path.join(name))),
            Some(st) if st.is_dir != c.is_dir() || (!st.is_dir && content(&c.ufs_fingerprint) != st.content_hash) => {
                steps.push(Step::Delete(*cid, path.join(name)));
                steps.push(Step::Create(n.id, name.to_string(), st));
            }
            Some(_) => {}
        }
    }
    for st in in_ufs.values() {
        if !d.children.contains_key(st.name.as_str()) {
            steps.push(Step::Create(n.id, st.name.clone(), st));
        }
    }
    steps
}
