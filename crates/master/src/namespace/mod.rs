//! The master's metadata state and the one function that changes it: [`Namespace::apply`].
//!
//! Live operations, journal replay, checkpoint loading and backup restore all go through
//! `apply`, so they cannot disagree. **Architecture invariant:** this module does no I/O and
//! never fails on an entry the live path produced; an entry it cannot apply during replay
//! means the journal is damaged and stops the start-up.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::sync::Arc;

use alluxio_common::AlluxioPath;
use alluxio_proto::journal::*;
use rustc_hash::FxHashMap;

use crate::inode::{Inode, InodeKind, NO_PARENT};
use crate::mount_table::MountTable;

/// A journal entry that does not fit the namespace it is applied to: the journal does not match
/// its own history (or validation let a bad change through).
#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    #[error("empty journal entry")]
    Empty,
    #[error("{op} of unknown {expected} {id}")]
    Unknown { op: &'static str, expected: &'static str, id: i64 },
    #[error("inode {id} is not a {expected}")]
    WrongKind { id: i64, expected: &'static str },
    #[error("inode {id} ({name}) has unknown parent {parent}")]
    UnknownParent { id: i64, name: String, parent: i64 },
    #[error("a backup marker inside the journal")]
    BackupMarker,
    #[error("mount point: {0}")]
    MountPath(#[from] alluxio_common::path::PathError),
    #[error("ACL of inode {id}: {source}")]
    Acl { id: i64, source: crate::acl::AclError },
}

/// The result of resolving a path.
pub enum Lookup<'a> {
    Found(&'a Inode),
    /// The path does not exist; `deepest` is its deepest existing ancestor, at `depth` components.
    Missing {
        deepest: &'a Inode,
        depth: usize,
    },
    /// A component before the last is a file.
    NotADirectory {
        file: &'a Inode,
        depth: usize,
    },
}

mod apply;
mod ids;
pub mod plan;
mod snapshot;

pub use ids::{IdAllocator, Ids, CONTAINER_RESERVATION};

/// All journaled metadata of the master.
#[derive(Default)]
pub struct Namespace {
    inodes: FxHashMap<i64, Inode>,
    root: Option<i64>,
    mounts: MountTable,
    ids: Ids,
    cluster_id: String,
    path_properties: BTreeMap<String, BTreeMap<String, String>>,
    ufs_modes: BTreeMap<String, i32>,
    /// Files waiting for asynchronous persistence (derived from inode states).
    to_be_persisted: BTreeSet<i64>,
    names: HashSet<Arc<str>>,
}

impl Namespace {
    pub fn new() -> Self {
        Namespace::default()
    }

    /// The mount table.
    pub fn mounts(&self) -> &MountTable {
        &self.mounts
    }

    /// The cluster this namespace is (created with it; workers record it).
    pub fn cluster_id(&self) -> &str {
        &self.cluster_id
    }

    /// Properties set on paths (`fsadmin pathConf`), by path.
    pub fn path_properties(&self) -> &BTreeMap<String, BTreeMap<String, String>> {
        &self.path_properties
    }

    /// Access modes of under storages (`fsadmin ufs --mode`), by UFS URI.
    pub fn ufs_modes(&self) -> &BTreeMap<String, i32> {
        &self.ufs_modes
    }

    /// Files waiting for asynchronous persistence.
    pub fn to_be_persisted(&self) -> &BTreeSet<i64> {
        &self.to_be_persisted
    }

    pub fn root_id(&self) -> Option<i64> {
        self.root
    }

    pub fn inode_count(&self) -> usize {
        self.inodes.len()
    }

    pub fn get(&self, id: i64) -> Option<&Inode> {
        self.inodes.get(&id)
    }

    /// Interns owner and group names: a namespace has few distinct ones.
    fn intern(&mut self, s: &str) -> Arc<str> {
        if let Some(a) = self.names.get(s) {
            return a.clone();
        }
        let a: Arc<str> = Arc::from(s);
        self.names.insert(a.clone());
        a
    }

    /// Resolves a path to its inode.
    pub fn lookup(&self, path: &AlluxioPath) -> Lookup<'_> {
        let Some(mut cur) = self.root.and_then(|r| self.inodes.get(&r)) else {
            // Before the root exists nothing resolves; callers create the root first.
            unreachable_root()
        };
        for (depth, name) in path.components().enumerate() {
            let dir = match &cur.kind {
                InodeKind::Dir(d) => d,
                InodeKind::File(_) => return Lookup::NotADirectory { file: cur, depth },
            };
            match dir.children.get(name).and_then(|id| self.inodes.get(id)) {
                Some(child) => cur = child,
                None => return Lookup::Missing { deepest: cur, depth },
            }
        }
        Lookup::Found(cur)
    }

    /// The inode at `path`, if it exists.
    pub fn find(&self, path: &AlluxioPath) -> Option<&Inode> {
        match self.lookup(path) {
            Lookup::Found(i) => Some(i),
            _ => None,
        }
    }

    /// Every inode, in no particular order.
    pub fn inodes(&self) -> impl Iterator<Item = &Inode> {
        self.inodes.values()
    }

    /// Ids of files still being written.
    pub fn incomplete_files(&self) -> Vec<i64> {
        self.inodes.values().filter(|n| n.file().is_some_and(|f| !f.completed)).map(|n| n.id).collect()
    }

    /// The absolute path of an inode.
    pub fn path_of(&self, id: i64) -> Option<AlluxioPath> {
        let mut names = Vec::new();
        let mut cur = self.inodes.get(&id)?;
        while cur.parent_id != NO_PARENT {
            names.push(cur.name.clone());
            cur = self.inodes.get(&cur.parent_id)?;
        }
        let mut p = AlluxioPath::root();
        for n in names.iter().rev() {
            p = p.join(n);
        }
        Some(p)
    }

    /// Children of a directory, in name order.
    pub fn children<'a>(&'a self, dir: &'a Inode) -> impl Iterator<Item = &'a Inode> + 'a {
        dir.dir().into_iter().flat_map(|d| d.children.values()).filter_map(|id| self.inodes.get(id))
    }

    /// Whether anything below `dir` is persisted (its UFS directory then exists and holds data).
    pub fn has_persisted_descendant(&self, dir: &Inode) -> bool {
        let mut stack: Vec<&Inode> = self.children(dir).collect();
        while let Some(n) = stack.pop() {
            if n.is_persisted() {
                return true;
            }
            stack.extend(self.children(n));
        }
        false
    }

    /// The ancestors of `id` (below the root) not marked persisted, nearest first: once `id`
    /// is persisted, the UFS holds every one of them as a directory.
    pub fn unpersisted_ancestors(&self, id: i64) -> Vec<i64> {
        let mut out = Vec::new();
        let mut cur = self.inodes.get(&id).and_then(|n| self.inodes.get(&n.parent_id));
        while let Some(n) = cur.filter(|n| n.parent_id != NO_PARENT) {
            if !n.is_persisted() {
                out.push(n.id);
            }
            cur = self.inodes.get(&n.parent_id);
        }
        out
    }

    /// Every inode below `id` (inclusive), parents before children.
    pub fn subtree(&self, id: i64) -> Vec<&Inode> {
        let mut out = Vec::new();
        let mut stack = vec![id];
        while let Some(i) = stack.pop() {
            if let Some(n) = self.inodes.get(&i) {
                out.push(n);
                if let Some(d) = n.dir() {
                    stack.extend(d.children.values().rev());
                }
            }
        }
        out
    }

    /// Applies one journal entry. `removed` receives inodes a delete took out of the tree.
    pub fn apply(&mut self, e: &JournalEntry, removed: &mut Vec<Inode>) -> Result<(), ApplyError> {
        match &e.entry {
            Some(entry) => self.apply_entry(entry, removed),
            None => Err(ApplyError::Empty),
        }
    }
}

fn unreachable_root() -> ! {
    panic!("the namespace has no root inode: the master creates it before serving")
}

// Boxed on purpose: an empty `Option<Box<_>>` costs each inode 8 bytes, an empty map 24.
#[allow(clippy::box_collection)]
fn xattr_of(m: &std::collections::HashMap<String, Vec<u8>>) -> Option<Box<BTreeMap<String, Vec<u8>>>> {
    (!m.is_empty()).then(|| Box::new(m.iter().map(|(k, v)| (k.clone(), v.clone())).collect()))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::inode::NO_PARENT;
    use alluxio_common::id;
    use alluxio_proto::journal::journal_entry::Entry;

    pub(crate) fn dir_entry(id: i64, parent: i64, name: &str) -> Entry {
        Entry::InodeDirectory(InodeDirectoryEntry {
            id,
            parent_id: parent,
            name: name.into(),
            owner: "u".into(),
            group: "g".into(),
            mode: 0o755,
            ..Default::default()
        })
    }

    pub(crate) fn file_entry(id: i64, parent: i64, name: &str, len: i64) -> Entry {
        Entry::InodeFile(InodeFileEntry {
            id,
            parent_id: parent,
            name: name.into(),
            owner: "u".into(),
            group: "g".into(),
            mode: 0o644,
            block_size_bytes: 10,
            length: len,
            completed: true,
            ..Default::default()
        })
    }

    fn p(s: &str) -> AlluxioPath {
        AlluxioPath::parse(s).unwrap()
    }

    #[test]
    fn builds_renames_deletes_and_snapshots() {
        let mut ns = Namespace::new();
        let mut rm = Vec::new();
        ns.apply_entry(&dir_entry(1, NO_PARENT, ""), &mut rm).unwrap();
        ns.apply_entry(&dir_entry(2, 1, "a"), &mut rm).unwrap();
        let f = id::file_id_of_container(5);
        ns.apply_entry(&file_entry(f, 2, "f", 25), &mut rm).unwrap();
        assert_eq!(ns.find(&p("/a/f")).unwrap().block_ids().len(), 3);
        assert!(matches!(ns.lookup(&p("/a/f/x")), Lookup::NotADirectory { .. }));
        assert!(matches!(ns.lookup(&p("/a/g")), Lookup::Missing { depth: 1, .. }));
        assert_eq!(ns.ids.next_container, 6);

        ns.apply_entry(
            &Entry::Rename(RenameEntry {
                id: f,
                new_parent_id: 1,
                new_name: "g".into(),
                op_time_ms: 7,
                ..Default::default()
            }),
            &mut rm,
        )
        .unwrap();
        assert!(ns.find(&p("/a/f")).is_none());
        assert_eq!(ns.path_of(f).unwrap(), p("/g"));

        // A snapshot replayed into an empty namespace gives the same tree.
        let entries = ns.entries();
        let mut copy = Namespace::new();
        for e in &entries {
            copy.apply_entry(e, &mut rm).unwrap();
        }
        assert_eq!(copy.inode_count(), 3);
        assert!(copy.find(&p("/g")).is_some() && copy.find(&p("/a")).is_some());

        ns.apply_entry(&Entry::DeleteFile(DeleteFileEntry { id: 2, recursive: true, ..Default::default() }), &mut rm)
            .unwrap();
        assert_eq!(rm.len(), 1);
        assert_eq!(ns.inode_count(), 2);
    }

    #[test]
    fn entries_that_do_not_fit_are_typed_errors_naming_the_inode() {
        let mut ns = Namespace::new();
        let mut rm = Vec::new();
        ns.apply_entry(&dir_entry(1, NO_PARENT, ""), &mut rm).unwrap();
        let f = id::file_id_of_container(1);
        ns.apply_entry(&file_entry(f, 1, "f", 0), &mut rm).unwrap();
        let orphan = ns.apply_entry(&file_entry(id::file_id_of_container(2), 99, "o", 0), &mut rm).unwrap_err();
        assert!(matches!(&orphan, ApplyError::UnknownParent { parent: 99, name, .. } if name == "o"), "{orphan}");
        let under_file = ns.apply_entry(&dir_entry(7, f, "d"), &mut rm).unwrap_err();
        assert!(matches!(under_file, ApplyError::WrongKind { id, expected: "directory" } if id == f));
        let delete = Entry::DeleteFile(DeleteFileEntry { id: 42, ..Default::default() });
        let gone = ns.apply_entry(&delete, &mut rm).unwrap_err();
        assert!(matches!(gone, ApplyError::Unknown { op: "delete", id: 42, .. }));
        assert_eq!(gone.to_string(), "delete of unknown inode 42");
        assert!(matches!(ns.apply(&JournalEntry::default(), &mut rm), Err(ApplyError::Empty)));
        // Nothing of the refused entries was applied.
        assert!(ns.find(&p("/o")).is_none() && ns.find(&p("/f/d")).is_none());
    }
}
