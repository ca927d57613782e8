//! [`Namespace::apply_entry`]: one function per entry, grouped by what it changes (inodes
//! entering the tree, inode attributes, tree moves, the tables beside the tree).

use std::collections::BTreeMap;
use std::sync::Arc;

use alluxio_common::{id, AlluxioPath};
use alluxio_proto::journal::journal_entry::Entry;
use alluxio_proto::journal::*;

use super::{xattr_of, ApplyError, Namespace};
use crate::inode::{ttl_from_journal, DirData, FileData, Inode, InodeKind, PersistenceState, NO_PARENT};
use crate::mount_table::MountInfo;

impl Namespace {
    /// Applies one journal entry. `removed` receives inodes a delete took out of the tree.
    pub fn apply_entry(&mut self, entry: &Entry, removed: &mut Vec<Inode>) -> Result<(), ApplyError> {
        match entry {
            Entry::InodeDirectory(d) => self.add_directory(d),
            Entry::InodeFile(f) => self.add_file(f),
            Entry::UpdateInode(u) => self.update_inode(u),
            Entry::UpdateInodeDirectory(u) => self.update_directory(u),
            Entry::UpdateInodeFile(u) => self.update_file(u),
            Entry::DeleteFile(d) => self.delete(d, removed),
            Entry::Rename(r) => self.rename(r),
            Entry::AddMountPoint(m) => self.add_mount(m),
            Entry::DeleteMountPoint(m) => self.delete_mount(m),
            Entry::BlockContainerIdGenerator(g) => self.reserve_containers(g),
            Entry::InodeDirectoryIdGenerator(g) => self.start_directory_container(g),
            Entry::ClusterInfo(c) => self.set_cluster(c),
            Entry::PathProperties(p) => self.set_path_properties(p),
            Entry::RemovePathProperties(p) => self.remove_path_properties(p),
            Entry::UpdateUfsMode(u) => self.set_ufs_mode(u),
            // Block lengths derive from file lengths; these entries are accepted and ignored.
            Entry::BlockInfo(_) | Entry::DeleteBlock(_) => Ok(()),
            Entry::BackupHeader(_) | Entry::BackupTrailer(_) => Err(ApplyError::BackupMarker),
        }
    }

    // ------------------------------------------------------------ inodes entering the tree

    /// A directory enters the tree.
    fn add_directory(&mut self, d: &InodeDirectoryEntry) -> Result<(), ApplyError> {
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
            acl: acl_of(d.id, &d.acl)?,
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

    /// A file enters the tree.
    fn add_file(&mut self, f: &InodeFileEntry) -> Result<(), ApplyError> {
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
            acl: acl_of(f.id, &f.acl)?,
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

    // ------------------------------------------------------------ inode attributes

    /// Attributes every inode has.
    fn update_inode(&mut self, u: &UpdateInodeEntry) -> Result<(), ApplyError> {
        let medium = u.set_medium_type.then(|| u.medium_type.clone());
        let owner = u.owner.as_deref().map(|o| self.intern(o));
        let group = u.group.as_deref().map(|g| self.intern(g));
        let n = self.inodes.get_mut(&u.id).ok_or(ApplyError::Unknown { op: "update", expected: "inode", id: u.id })?;
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
        if u.set_acl {
            n.acl = acl_of(u.id, &u.acl)?;
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

    /// Attributes of directories.
    fn update_directory(&mut self, u: &UpdateInodeDirectoryEntry) -> Result<(), ApplyError> {
        let n =
            self.inodes.get_mut(&u.id).ok_or(ApplyError::Unknown { op: "update", expected: "directory", id: u.id })?;
        let d = n.dir_mut().ok_or(ApplyError::WrongKind { id: u.id, expected: "directory" })?;
        if let Some(m) = u.mount_point {
            d.mount_point = m;
        }
        if let Some(l) = u.direct_children_loaded {
            d.children_loaded = l;
        }
        Ok(())
    }

    /// Attributes of files (length, completion...).
    fn update_file(&mut self, u: &UpdateInodeFileEntry) -> Result<(), ApplyError> {
        let n = self.inodes.get_mut(&u.id).ok_or(ApplyError::Unknown { op: "update", expected: "file", id: u.id })?;
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

    // ------------------------------------------------------------ tree moves

    /// A subtree leaves the tree; its inodes go to `removed`.
    fn delete(&mut self, d: &DeleteFileEntry, removed: &mut Vec<Inode>) -> Result<(), ApplyError> {
        let n = self.inodes.get(&d.id).ok_or(ApplyError::Unknown { op: "delete", expected: "inode", id: d.id })?;
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

    /// An inode moves to another parent or name.
    fn rename(&mut self, r: &RenameEntry) -> Result<(), ApplyError> {
        let n = self.inodes.get(&r.id).ok_or(ApplyError::Unknown { op: "rename", expected: "inode", id: r.id })?;
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

    // ------------------------------------------------------------ tables beside the tree

    fn add_mount(&mut self, m: &AddMountPointEntry) -> Result<(), ApplyError> {
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

    fn delete_mount(&mut self, m: &DeleteMountPointEntry) -> Result<(), ApplyError> {
        let path = AlluxioPath::parse(&m.alluxio_path)?;
        self.mounts.remove(&path);
        Ok(())
    }

    fn reserve_containers(&mut self, g: &BlockContainerIdGeneratorEntry) -> Result<(), ApplyError> {
        self.ids.container_reserved = self.ids.container_reserved.max(g.next_container_id);
        Ok(())
    }

    fn start_directory_container(&mut self, g: &InodeDirectoryIdGeneratorEntry) -> Result<(), ApplyError> {
        self.ids.dir_container = g.container_id;
        self.ids.dir_next_seq = g.sequence_number;
        self.ids.next_container = self.ids.next_container.max(g.container_id + 1);
        Ok(())
    }

    fn set_cluster(&mut self, c: &ClusterInfoEntry) -> Result<(), ApplyError> {
        self.cluster_id = c.cluster_id.clone();
        Ok(())
    }

    fn set_path_properties(&mut self, p: &PathPropertiesEntry) -> Result<(), ApplyError> {
        let props = self.path_properties.entry(p.path.clone()).or_default();
        for (k, v) in &p.properties {
            props.insert(k.clone(), v.clone());
        }
        Ok(())
    }

    fn remove_path_properties(&mut self, p: &RemovePathPropertiesEntry) -> Result<(), ApplyError> {
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

    fn set_ufs_mode(&mut self, u: &UpdateUfsModeEntry) -> Result<(), ApplyError> {
        self.ufs_modes.insert(u.ufs_path.clone(), u.ufs_mode);
        Ok(())
    }
}

/// An inode's ACL from its journal entries.
fn acl_of(id: i64, lines: &[String]) -> Result<Option<Box<crate::acl::Acl>>, ApplyError> {
    Ok(crate::acl::from_journal(lines).map_err(|source| ApplyError::Acl { id, source })?.map(Box::new))
}
