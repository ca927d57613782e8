//! Inodes: the files and directories of the namespace, and their journal forms.

use std::collections::BTreeMap;
use std::sync::Arc;

use alluxio_common::id;
use alluxio_proto::grpc::TtlAction;
use alluxio_proto::journal::{InodeDirectoryEntry, InodeFileEntry, PTtlAction};

/// Parent id of the root inode.
pub const NO_PARENT: i64 = -1;

/// Alluxio's persistence states.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PersistenceState {
    NotPersisted,
    ToBePersisted,
    Persisted,
    Lost,
}

impl PersistenceState {
    pub fn as_str(self) -> &'static str {
        match self {
            PersistenceState::NotPersisted => "NOT_PERSISTED",
            PersistenceState::ToBePersisted => "TO_BE_PERSISTED",
            PersistenceState::Persisted => "PERSISTED",
            PersistenceState::Lost => "LOST",
        }
    }

    /// Parses a journal string; unknown strings count as not persisted.
    pub fn parse(s: &str) -> Self {
        match s {
            "TO_BE_PERSISTED" => PersistenceState::ToBePersisted,
            "PERSISTED" => PersistenceState::Persisted,
            "LOST" => PersistenceState::Lost,
            _ => PersistenceState::NotPersisted,
        }
    }
}

/// Fields only directories have.
#[derive(Debug, Clone, Default)]
pub struct DirData {
    pub children: BTreeMap<Arc<str>, i64>,
    pub mount_point: bool,
    /// The UFS listing of this directory has been loaded (Alluxio's `direct_children_loaded`).
    pub children_loaded: bool,
}

/// Fields only files have. Block ids derive from the file id and length (see `alluxio_common::id`).
#[derive(Debug, Clone, Default)]
pub struct FileData {
    pub block_size: i64,
    pub length: i64,
    pub completed: bool,
    pub cacheable: bool,
    pub replication_min: i32,
    pub replication_max: i32,
    pub temp_ufs_path: String,
}

#[derive(Debug, Clone)]
pub enum InodeKind {
    Dir(DirData),
    File(FileData),
}

/// One file or directory.
#[derive(Debug, Clone)]
pub struct Inode {
    pub id: i64,
    pub parent_id: i64,
    pub name: Arc<str>,
    pub creation_time_ms: i64,
    pub last_modification_time_ms: i64,
    pub last_access_time_ms: i64,
    pub owner: Arc<str>,
    pub group: Arc<str>,
    pub mode: i32,
    pub persistence: PersistenceState,
    pub pinned: bool,
    pub medium_types: Vec<String>,
    pub ttl: i64,
    pub ttl_action: TtlAction,
    pub ufs_fingerprint: String,
    /// Extended attributes; boxed because almost every inode has none.
    pub xattr: Option<Box<BTreeMap<String, Vec<u8>>>>,
    /// ACL entries beyond the mode; boxed because almost every inode has none.
    pub acl: Option<Box<crate::acl::Acl>>,
    pub kind: InodeKind,
}

impl Inode {
    pub fn is_dir(&self) -> bool {
        matches!(self.kind, InodeKind::Dir(_))
    }

    pub fn dir(&self) -> Option<&DirData> {
        match &self.kind {
            InodeKind::Dir(d) => Some(d),
            InodeKind::File(_) => None,
        }
    }

    pub fn dir_mut(&mut self) -> Option<&mut DirData> {
        match &mut self.kind {
            InodeKind::Dir(d) => Some(d),
            InodeKind::File(_) => None,
        }
    }

    pub fn file(&self) -> Option<&FileData> {
        match &self.kind {
            InodeKind::File(f) => Some(f),
            InodeKind::Dir(_) => None,
        }
    }

    pub fn file_mut(&mut self) -> Option<&mut FileData> {
        match &mut self.kind {
            InodeKind::File(f) => Some(f),
            InodeKind::Dir(_) => None,
        }
    }

    pub fn is_persisted(&self) -> bool {
        self.persistence == PersistenceState::Persisted
    }

    /// Ids of a completed file's blocks, in order.
    pub fn block_ids(&self) -> Vec<i64> {
        match &self.kind {
            InodeKind::File(f) => {
                (0..id::block_count(f.length, f.block_size)).map(|i| id::block_id(self.id, i)).collect()
            }
            InodeKind::Dir(_) => Vec::new(),
        }
    }

    /// The journal entry that recreates this inode (checkpoints, backups).
    pub fn to_entry(&self) -> alluxio_proto::journal::journal_entry::Entry {
        use alluxio_proto::journal::journal_entry::Entry;
        let ttl_action = ttl_to_journal(self.ttl_action) as i32;
        match &self.kind {
            InodeKind::Dir(d) => Entry::InodeDirectory(InodeDirectoryEntry {
                id: self.id,
                parent_id: self.parent_id,
                name: self.name.to_string(),
                persistence_state: self.persistence.as_str().into(),
                pinned: self.pinned,
                creation_time_ms: self.creation_time_ms,
                last_modification_time_ms: self.last_modification_time_ms,
                owner: self.owner.to_string(),
                group: self.group.to_string(),
                mode: self.mode,
                mount_point: d.mount_point,
                direct_children_loaded: d.children_loaded,
                ttl: self.ttl,
                ttl_action,
                last_access_time_ms: self.last_access_time_ms,
                medium_type: self.medium_types.clone(),
                xattr: self.xattr_map(),
                acl: crate::acl::to_journal(self.acl.as_deref()),
            }),
            InodeKind::File(f) => Entry::InodeFile(InodeFileEntry {
                id: self.id,
                parent_id: self.parent_id,
                name: self.name.to_string(),
                persistence_state: self.persistence.as_str().into(),
                pinned: self.pinned,
                creation_time_ms: self.creation_time_ms,
                last_modification_time_ms: self.last_modification_time_ms,
                block_size_bytes: f.block_size,
                length: f.length,
                completed: f.completed,
                cacheable: f.cacheable,
                blocks: Vec::new(),
                ttl: self.ttl,
                owner: self.owner.to_string(),
                group: self.group.to_string(),
                mode: self.mode,
                ttl_action,
                replication_max: f.replication_max,
                replication_min: f.replication_min,
                temp_ufs_path: f.temp_ufs_path.clone(),
                last_access_time_ms: self.last_access_time_ms,
                medium_type: self.medium_types.clone(),
                ufs_fingerprint: self.ufs_fingerprint.clone(),
                xattr: self.xattr_map(),
                acl: crate::acl::to_journal(self.acl.as_deref()),
            }),
        }
    }

    pub(crate) fn xattr_map(&self) -> std::collections::HashMap<String, Vec<u8>> {
        self.xattr.as_deref().map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect()).unwrap_or_default()
    }
}

pub fn ttl_to_journal(a: TtlAction) -> PTtlAction {
    match a {
        TtlAction::Delete => PTtlAction::Delete,
        TtlAction::Free => PTtlAction::Free,
    }
}

pub fn ttl_from_journal(a: i32) -> TtlAction {
    if a == PTtlAction::Free as i32 {
        TtlAction::Free
    } else {
        TtlAction::Delete
    }
}
