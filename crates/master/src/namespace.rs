//! The master's metadata state and the one function that changes it: [`Namespace::apply`].
//!
//! Live operations, journal replay, checkpoint loading and backup restore all go through
//! `apply`, so they cannot disagree. **Architecture invariant:** this module does no I/O and
//! never fails on an entry the live path produced; an entry it cannot apply during replay
//! means the journal is damaged and stops the start-up.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::sync::Arc;

use alluxio_common::{id, AlluxioPath};
use alluxio_proto::journal::journal_entry::Entry;
use alluxio_proto::journal::*;
use rustc_hash::FxHashMap;

use crate::inode::{ttl_from_journal, DirData, FileData, Inode, InodeKind, PersistenceState, NO_PARENT};
use crate::mount_table::{MountInfo, MountTable};

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
}

/// Container ids are reserved in the journal this many at a time.
pub const CONTAINER_RESERVATION: i64 = 1000;

/// Id generators' state.
#[derive(Debug, Clone, Default)]
pub struct Ids {
    /// Containers below this may have been handed out (journaled).
    pub container_reserved: i64,
    /// The next container to hand out (in memory; starts at `container_reserved` after a restart).
    pub next_container: i64,
    /// Container from which directory ids are taken, and its next sequence number.
    pub dir_container: i64,
    pub dir_next_seq: i64,
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

/// All journaled metadata of the master.
#[derive(Default)]
pub struct Namespace {
    inodes: FxHashMap<i64, Inode>,
    root: Option<i64>,
    pub mounts: MountTable,
    pub ids: Ids,
    pub cluster_id: String,
    pub path_properties: BTreeMap<String, BTreeMap<String, String>>,
    pub ufs_modes: BTreeMap<String, i32>,
    /// Files waiting for asynchronous persistence (derived from inode states).
    pub to_be_persisted: BTreeSet<i64>,
    names: HashSet<Arc<str>>,
}

impl Namespace {
    pub fn new() -> Self {
        Namespace::default()
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

    /// A new file id (one container per file). The entry reserving more containers, when
    /// one is needed, is pushed to `entries`.
    pub fn next_file_id(&mut self, entries: &mut Vec<Entry>) -> i64 {
        let c = self.take_container(entries);
        id::file_id_of_container(c)
    }

    fn take_container(&mut self, entries: &mut Vec<Entry>) -> i64 {
        if self.ids.next_container == 0 {
            self.ids.next_container = 1;
        }
        if self.ids.next_container >= self.ids.container_reserved {
            let e = Entry::BlockContainerIdGenerator(BlockContainerIdGeneratorEntry {
                next_container_id: self.ids.next_container + CONTAINER_RESERVATION,
            });
            self.apply_entry(&e, &mut Vec::new()).ok();
            entries.push(e);
        }
        let c = self.ids.next_container;
        self.ids.next_container += 1;
        c
    }

    /// A new directory id; may push a generator entry to `entries`.
    pub fn next_directory_id(&mut self, entries: &mut Vec<Entry>) -> i64 {
        if self.ids.dir_container == 0 || self.ids.dir_next_seq >= id::MAX_SEQUENCE {
            let c = self.take_container(entries);
            let e = Entry::InodeDirectoryIdGenerator(InodeDirectoryIdGeneratorEntry {
                container_id: c,
                sequence_number: 0,
            });
            self.apply_entry(&e, &mut Vec::new()).ok();
            entries.push(e);
        }
        let i = id::create_id(self.ids.dir_container, self.ids.dir_next_seq);
        self.ids.dir_next_seq += 1;
        i
    }

    /// Called once replay is over: never hand out an id that may have been used before the restart.
    pub fn finish_recovery(&mut self) {
        self.ids.next_container = self.ids.next_container.max(self.ids.container_reserved);
        // A fresh directory container on every start, so directory ids are never reused either.
        self.ids.dir_container = 0;
    }

    /// Applies one journal entry. `removed` receives inodes a delete took out of the tree.
    pub fn apply(&mut self, e: &JournalEntry, removed: &mut Vec<Inode>) -> Result<(), ApplyError> {
        match &e.entry {
            Some(entry) => self.apply_entry(entry, removed),
            None => Err(ApplyError::Empty),
        }
    }

    pub fn apply_entry(&mut self, entry: &Entry, removed: &mut Vec<Inode>) -> Result<(), ApplyError> {
        match entry {
            Entry::InodeDirectory(d) => {
                let owner = self.intern(&d.owner);
                let group = self.intern(&d.group);
                let inode = Inode {
                    id: d.id,
                    parent_id: d.parent_id,
                    name: Arc::from(d.name.as_str()),
                    creation_time_ms: d.creation_time_ms,
                    last_modification_time_ms: d.last_modification_time_ms,
                    last_access_time_ms: d.last_access_time_ms,
                    owner,
                    group,
                    mode: d.mode,
                    persistence: PersistenceState::parse(&d.persistence_state),
                    pinned: d.pinned,
                    medium_types: d.medium_type.clone(),
                    ttl: d.ttl,
                    ttl_action: ttl_from_journal(d.ttl_action),
                    ufs_fingerprint: String::new(),
                    xattr: xattr_of(&d.xattr),
                    kind: InodeKind::Dir(DirData {
                        children: BTreeMap::new(),
                        mount_point: d.mount_point,
                        children_loaded: d.direct_children_loaded,
                    }),
                };
                if id::container_id(d.id) == self.ids.dir_container {
                    self.ids.dir_next_seq = self.ids.dir_next_seq.max(id::sequence_number(d.id) + 1);
                }
                self.insert(inode)
            }
            Entry::InodeFile(f) => {
                let owner = self.intern(&f.owner);
                let group = self.intern(&f.group);
                let persistence = PersistenceState::parse(&f.persistence_state);
                let inode = Inode {
                    id: f.id,
                    parent_id: f.parent_id,
                    name: Arc::from(f.name.as_str()),
                    creation_time_ms: f.creation_time_ms,
                    last_modification_time_ms: f.last_modification_time_ms,
                    last_access_time_ms: f.last_access_time_ms,
                    owner,
                    group,
                    mode: f.mode,
                    persistence,
                    pinned: f.pinned,
                    medium_types: f.medium_type.clone(),
                    ttl: f.ttl,
                    ttl_action: ttl_from_journal(f.ttl_action),
                    ufs_fingerprint: f.ufs_fingerprint.clone(),
                    xattr: xattr_of(&f.xattr),
                    kind: InodeKind::File(FileData {
                        block_size: f.block_size_bytes,
                        length: f.length,
                        completed: f.completed,
                        cacheable: f.cacheable,
                        replication_min: f.replication_min,
                        replication_max: f.replication_max,
                        temp_ufs_path: f.temp_ufs_path.clone(),
                    }),
                };
                let c = id::container_id(f.id);
                self.ids.next_container = self.ids.next_container.max(c + 1);
                if persistence == PersistenceState::ToBePersisted {
                    self.to_be_persisted.insert(f.id);
                }
                self.insert(inode)
            }
            Entry::UpdateInode(u) => {
                let medium = u.set_medium_type.then(|| u.medium_type.clone());
                let owner = u.owner.as_deref().map(|o| self.intern(o));
                let group = u.group.as_deref().map(|g| self.intern(g));
                let n = self.inodes.get_mut(&u.id).ok_or(ApplyError::Unknown {
                    op: "update",
                    expected: "inode",
                    id: u.id,
                })?;
                if let Some(s) = &u.persistence_state {
                    n.persistence = PersistenceState::parse(s);
                    if n.persistence == PersistenceState::ToBePersisted {
                        self.to_be_persisted.insert(u.id);
                    } else {
                        self.to_be_persisted.remove(&u.id);
                    }
                }
                if let Some(p) = u.pinned {
                    n.pinned = p;
                }
                if let Some(t) = u.last_modification_time_ms {
                    n.last_modification_time_ms = t;
                }
                if let Some(t) = u.last_access_time_ms {
                    n.last_access_time_ms = t;
                }
                if let Some(o) = owner {
                    n.owner = o;
                }
                if let Some(g) = group {
                    n.group = g;
                }
                if let Some(m) = u.mode {
                    n.mode = m;
                }
                if let Some(t) = u.ttl {
                    n.ttl = t;
                }
                if let Some(a) = u.ttl_action {
                    n.ttl_action = ttl_from_journal(a);
                }
                if let Some(m) = medium {
                    n.medium_types = m;
                }
                if let Some(fp) = &u.ufs_fingerprint {
                    n.ufs_fingerprint = fp.clone();
                }
                if !u.xattr.is_empty() || !u.xattr_delete.is_empty() {
                    let mut m = n.xattr.take().map(|b| *b).unwrap_or_default();
                    m.extend(u.xattr.iter().map(|(k, v)| (k.clone(), v.clone())));
                    for k in &u.xattr_delete {
                        m.remove(k);
                    }
                    n.xattr = (!m.is_empty()).then(|| Box::new(m));
                }
                if let Some(f) = n.file_mut() {
                    if let Some(r) = u.replication_min {
                        f.replication_min = r;
                    }
                    if let Some(r) = u.replication_max {
                        f.replication_max = r;
                    }
                }
                Ok(())
            }
            Entry::UpdateInodeDirectory(u) => {
                let n = self.inodes.get_mut(&u.id).ok_or(ApplyError::Unknown {
                    op: "update",
                    expected: "directory",
                    id: u.id,
                })?;
                let d = n.dir_mut().ok_or(ApplyError::WrongKind { id: u.id, expected: "directory" })?;
                if let Some(m) = u.mount_point {
                    d.mount_point = m;
                }
                if let Some(l) = u.direct_children_loaded {
                    d.children_loaded = l;
                }
                Ok(())
            }
            Entry::UpdateInodeFile(u) => {
                let n = self.inodes.get_mut(&u.id).ok_or(ApplyError::Unknown {
                    op: "update",
                    expected: "file",
                    id: u.id,
                })?;
                let f = n.file_mut().ok_or(ApplyError::WrongKind { id: u.id, expected: "file" })?;
                if let Some(l) = u.length {
                    f.length = l;
                }
                if let Some(c) = u.completed {
                    f.completed = c;
                }
                if let Some(b) = u.block_size_bytes {
                    f.block_size = b;
                }
                if let Some(c) = u.cacheable {
                    f.cacheable = c;
                }
                if let Some(t) = &u.temp_ufs_path {
                    f.temp_ufs_path = t.clone();
                }
                Ok(())
            }
            Entry::DeleteFile(d) => {
                let n =
                    self.inodes.get(&d.id).ok_or(ApplyError::Unknown { op: "delete", expected: "inode", id: d.id })?;
                let (parent, name) = (n.parent_id, n.name.clone());
                if let Some(p) = self.inodes.get_mut(&parent) {
                    if let Some(dir) = p.dir_mut() {
                        dir.children.remove(&name);
                    }
                    p.last_modification_time_ms = p.last_modification_time_ms.max(d.op_time_ms);
                }
                let ids: Vec<i64> = self.subtree(d.id).iter().map(|i| i.id).collect();
                for i in ids {
                    if let Some(n) = self.inodes.remove(&i) {
                        self.to_be_persisted.remove(&i);
                        removed.push(n);
                    }
                }
                Ok(())
            }
            Entry::Rename(r) => {
                let n =
                    self.inodes.get(&r.id).ok_or(ApplyError::Unknown { op: "rename", expected: "inode", id: r.id })?;
                let (old_parent, old_name) = (n.parent_id, n.name.clone());
                if !self.inodes.get(&r.new_parent_id).is_some_and(Inode::is_dir) {
                    return Err(ApplyError::Unknown { op: "rename into", expected: "directory", id: r.new_parent_id });
                }
                if let Some(p) = self.inodes.get_mut(&old_parent) {
                    if let Some(d) = p.dir_mut() {
                        d.children.remove(&old_name);
                    }
                    p.last_modification_time_ms = r.op_time_ms;
                }
                let new_name: Arc<str> = Arc::from(r.new_name.as_str());
                if let Some(n) = self.inodes.get_mut(&r.id) {
                    n.parent_id = r.new_parent_id;
                    n.name = new_name.clone();
                }
                if let Some(p) = self.inodes.get_mut(&r.new_parent_id) {
                    if let Some(d) = p.dir_mut() {
                        d.children.insert(new_name, r.id);
                    }
                    p.last_modification_time_ms = r.op_time_ms;
                }
                Ok(())
            }
            Entry::AddMountPoint(m) => {
                let path = AlluxioPath::parse(&m.alluxio_path)?;
                self.mounts.add(MountInfo {
                    alluxio_path: path,
                    ufs_uri: m.ufs_path.clone(),
                    read_only: m.read_only,
                    shared: m.shared,
                    properties: m.properties.iter().map(|p| (p.key.clone(), p.value.clone())).collect(),
                    mount_id: m.mount_id,
                });
                Ok(())
            }
            Entry::DeleteMountPoint(m) => {
                let path = AlluxioPath::parse(&m.alluxio_path)?;
                self.mounts.remove(&path);
                Ok(())
            }
            Entry::BlockContainerIdGenerator(g) => {
                self.ids.container_reserved = self.ids.container_reserved.max(g.next_container_id);
                Ok(())
            }
            Entry::InodeDirectoryIdGenerator(g) => {
                self.ids.dir_container = g.container_id;
                self.ids.dir_next_seq = g.sequence_number;
                self.ids.next_container = self.ids.next_container.max(g.container_id + 1);
                Ok(())
            }
            Entry::ClusterInfo(c) => {
                self.cluster_id = c.cluster_id.clone();
                Ok(())
            }
            Entry::PathProperties(p) => {
                let props = self.path_properties.entry(p.path.clone()).or_default();
                for (k, v) in &p.properties {
                    props.insert(k.clone(), v.clone());
                }
                Ok(())
            }
            Entry::RemovePathProperties(p) => {
                if p.keys.is_empty() {
                    self.path_properties.remove(&p.path);
                } else if let Some(props) = self.path_properties.get_mut(&p.path) {
                    for k in &p.keys {
                        props.remove(k);
                    }
                    if props.is_empty() {
                        self.path_properties.remove(&p.path);
                    }
                }
                Ok(())
            }
            Entry::UpdateUfsMode(u) => {
                self.ufs_modes.insert(u.ufs_path.clone(), u.ufs_mode);
                Ok(())
            }
            // Block lengths derive from file lengths; these entries are accepted and ignored.
            Entry::BlockInfo(_) | Entry::DeleteBlock(_) => Ok(()),
            Entry::BackupHeader(_) | Entry::BackupTrailer(_) => Err(ApplyError::BackupMarker),
        }
    }

    fn insert(&mut self, inode: Inode) -> Result<(), ApplyError> {
        let id = inode.id;
        if inode.parent_id == NO_PARENT {
            self.root = Some(id);
        } else {
            let parent = self.inodes.get_mut(&inode.parent_id).ok_or_else(|| ApplyError::UnknownParent {
                id,
                name: inode.name.to_string(),
                parent: inode.parent_id,
            })?;
            let ctime = inode.creation_time_ms;
            let dir = parent.dir_mut().ok_or(ApplyError::WrongKind { id: inode.parent_id, expected: "directory" })?;
            dir.children.insert(inode.name.clone(), id);
            parent.last_modification_time_ms = parent.last_modification_time_ms.max(ctime);
        }
        self.inodes.insert(id, inode);
        Ok(())
    }

    /// [`Namespace::snapshot`] collected (for callers that copy under the lock and write after).
    pub fn entries(&self) -> Vec<Entry> {
        let mut v = Vec::with_capacity(self.inodes.len() + 16);
        let _ = self.snapshot(|e| {
            v.push(e);
            Ok::<(), std::convert::Infallible>(())
        });
        v
    }

    /// The whole state as journal entries, parents before children: what checkpoints and
    /// backups hold. Applying them in order to an empty namespace rebuilds this one.
    pub fn snapshot<E>(&self, mut emit: impl FnMut(Entry) -> Result<(), E>) -> Result<(), E> {
        emit(Entry::ClusterInfo(ClusterInfoEntry { cluster_id: self.cluster_id.clone() }))?;
        emit(Entry::BlockContainerIdGenerator(BlockContainerIdGeneratorEntry {
            next_container_id: self.ids.container_reserved.max(self.ids.next_container),
        }))?;
        for m in self.mounts.iter() {
            emit(Entry::AddMountPoint(AddMountPointEntry {
                alluxio_path: m.alluxio_path.to_string(),
                ufs_path: m.ufs_uri.clone(),
                read_only: m.read_only,
                properties: m
                    .properties
                    .iter()
                    .map(|(k, v)| StringPairEntry { key: k.clone(), value: v.clone() })
                    .collect(),
                shared: m.shared,
                mount_id: m.mount_id,
            }))?;
        }
        if let Some(root) = self.root {
            // Breadth-first so every parent precedes its children.
            let mut queue = std::collections::VecDeque::from([root]);
            while let Some(i) = queue.pop_front() {
                let Some(n) = self.inodes.get(&i) else {
                    continue;
                };
                emit(n.to_entry())?;
                if let Some(d) = n.dir() {
                    queue.extend(d.children.values());
                }
            }
        }
        for (path, props) in &self.path_properties {
            emit(Entry::PathProperties(PathPropertiesEntry {
                path: path.clone(),
                properties: props.clone().into_iter().collect(),
            }))?;
        }
        for (ufs, mode) in &self.ufs_modes {
            emit(Entry::UpdateUfsMode(UpdateUfsModeEntry { ufs_path: ufs.clone(), ufs_mode: *mode }))?;
        }
        Ok(())
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
mod tests {
    use super::*;

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

    fn file_entry(id: i64, parent: i64, name: &str, len: i64) -> Entry {
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

    #[test]
    fn ids_are_never_reused_after_recovery() {
        let mut ns = Namespace::new();
        let mut entries = Vec::new();
        let a = ns.next_file_id(&mut entries);
        assert_eq!(entries.len(), 1, "the first id reserves a range");
        // Replay only the reservation (the file itself was never journaled): no reuse.
        let mut replayed = Namespace::new();
        for e in &entries {
            replayed.apply_entry(e, &mut Vec::new()).unwrap();
        }
        replayed.finish_recovery();
        let b = replayed.next_file_id(&mut Vec::new());
        assert!(id::container_id(b) > id::container_id(a));
    }
}
