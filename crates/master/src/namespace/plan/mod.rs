//! What each file-system operation changes, decided without I/O.
//!
//! A `plan_*` function takes the namespace, the request and (where it matters) the caller,
//! validates the request and returns the journal entries that carry it out. It reads the
//! namespace and nothing else: no clock (the request carries its time), no UFS, no locks.
//! `FileSystemMaster` runs a plan twice around its UFS side effect: once under the read
//! lock to decide what to do in the UFS, once under the write lock to get the entries it
//! applies and journals, so a change that raced in between is caught.
//!
//! Every refusal is an [`FsError`] with the paths it is about; its status code is what
//! clients see, its message is Alluxio's wording where Alluxio has one.

use alluxio_common::status::{Code, HasCode};
use alluxio_common::AlluxioPath;
use alluxio_proto::journal::journal_entry::Entry;
use alluxio_proto::journal::UpdateInodeEntry;

use super::Namespace;
use crate::inode::{PersistenceState, NO_PARENT};

mod access;
mod attributes;
mod create;
mod load;
#[cfg(test)]
mod model_tests;
mod mounts;
mod remove;
mod rename;

pub use access::{mode_string, Access, Bits, Denial, Op, STICKY};
pub use attributes::{
    blocks_to_free, check_attributes, plan_schedule_persist, plan_set_acl, plan_set_attribute, AttributeChange,
    Attributes,
};
pub use create::{
    check_create, plan_complete_file, plan_create_directory, plan_create_file, Completion, NewDirectory, NewFile,
};
pub use load::{plan_load_children, plan_load_path, plan_sync, UfsFacts, UfsView};
pub use mounts::{plan_mount, plan_unmount, plan_update_mount, MountChange, NewMount};
pub use remove::{in_ufs, plan_delete, Delete};
pub use rename::{check_rename, plan_rename, Rename};

/// Who is asking (SIMPLE authentication: the name the client asserts).
#[derive(Debug, Clone)]
pub struct Caller {
    pub user: String,
    /// The primary group: new inodes get it.
    pub group: String,
    /// Every group of the user on the master (the primary one included).
    pub groups: Vec<String>,
}

impl Caller {
    pub fn in_group(&self, group: &str) -> bool {
        self.group == group || self.groups.iter().any(|g| g == group)
    }
}

/// Who may do what: whether permissions are checked, and who the superuser is (the user
/// that started the master, and members of the supergroup).
#[derive(Debug, Clone)]
pub struct Permissions {
    pub enabled: bool,
    pub super_user: String,
    pub supergroup: String,
}

impl Permissions {
    pub fn is_super(&self, c: &Caller) -> bool {
        c.user == self.super_user || c.in_group(&self.supergroup)
    }
}

/// What a path was expected to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    File,
    Directory,
}

impl std::fmt::Display for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Kind::File => "file",
            Kind::Directory => "directory",
        })
    }
}

/// A request the namespace refuses. Nothing was changed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FsError {
    #[error("Path \"{path}\" does not exist.")]
    NotFound { path: AlluxioPath },
    #[error("Not allowed to create {kind} because path already exists: {path}{}", if *.being_written { " (it is being written)" } else { "" })]
    AlreadyExists { kind: Kind, path: AlluxioPath, being_written: bool },
    #[error("Cannot create {kind} {path}: ancestor {ancestor} is a file")]
    AncestorIsFile { kind: Kind, path: AlluxioPath, ancestor: AlluxioPath },
    #[error("Path \"{path} (file id {file_id})\" does not exist.")]
    FileReplaced { path: AlluxioPath, file_id: i64 },
    #[error("{path} is a directory, not a file")]
    NotAFile { path: AlluxioPath },
    #[error("File {path} has already been completed.")]
    AlreadyCompleted { path: AlluxioPath },
    #[error("Cannot persist incomplete file {path}")]
    Incomplete { path: AlluxioPath },
    #[error("{path} is a directory; persist its files")]
    PersistDirectory { path: AlluxioPath },
    #[error("Cannot delete the root directory /")]
    DeleteRoot,
    #[error("{path} is a mount point; use `alluxio fs unmount {path}` to remove it")]
    DeleteMountPoint { path: AlluxioPath },
    #[error("Cannot delete {path}: it contains the mount point {mount}; unmount it first")]
    ContainsMountPoint { path: AlluxioPath, mount: AlluxioPath },
    #[error("Cannot delete non-empty directory {path} without the recursive option")]
    DirectoryNotEmpty { path: AlluxioPath },
    #[error("Cannot rename {src} to {dst}: the root cannot be renamed or replaced")]
    RenameRoot { src: AlluxioPath, dst: AlluxioPath },
    #[error("Cannot rename {src} to {dst}: a path cannot be moved into itself")]
    RenameIntoItself { src: AlluxioPath, dst: AlluxioPath },
    #[error("Cannot rename {src}: it is or contains a mount point; unmount and mount it again instead")]
    RenameMountPoint { src: AlluxioPath },
    #[error("Renaming {src} to {dst} is a mount point across mount points, which is not supported")]
    RenameAcrossMounts { src: AlluxioPath, dst: AlluxioPath },
    #[error("Cannot rename {src} to {dst} because the destination already exists")]
    RenameDestinationExists { src: AlluxioPath, dst: AlluxioPath },
    #[error("Cannot rename {src} to {dst}: {parent} is a file")]
    RenameParentIsFile { src: AlluxioPath, dst: AlluxioPath, parent: AlluxioPath },
    #[error("Invalid {what} '{name}' for {path}: a {what} name cannot be empty")]
    EmptyName { what: &'static str, name: String, path: AlluxioPath },
    #[error("Invalid mode {mode:o} for {path}")]
    InvalidMode { mode: i32, path: AlluxioPath },
    #[error("{source} (path {path})")]
    Acl { source: crate::acl::AclError, path: AlluxioPath },
    #[error("Invalid TTL {ttl} for {path}: use -1 for none or a positive number of ms")]
    InvalidTtl { ttl: i64, path: AlluxioPath },
    #[error("Permission denied: user={user} is not the owner of path={path}")]
    NotOwner { user: String, path: AlluxioPath },
    #[error("Permission denied: {user} is not a super user or in super group")]
    NotSuperUser { user: String },
    #[error("Permission denied: {0}")]
    AccessDenied(Box<Denial>),
    #[error("Permission denied: user={user} cannot {op} {path}: its directory has the sticky bit, so only its owner ({owner}) or the directory's owner ({dir_owner}) may")]
    StickyBit { user: String, op: &'static str, path: AlluxioPath, owner: String, dir_owner: String },
    #[error("Permission denied: user={user} is not in group {group}, so cannot give it {path}")]
    NotInGroup { user: String, group: String, path: AlluxioPath },
    #[error("Cannot mount on the root: it is mounted from alluxio.master.mount.table.root.ufs")]
    MountOnRoot,
    #[error("Mount point {path} already exists")]
    MountPointExists { path: AlluxioPath },
    #[error("Cannot mount at {path}: {parent} is a file")]
    MountParentIsFile { path: AlluxioPath, parent: AlluxioPath },
    #[error("Mount point {outer} is a prefix of {inner}: UFS paths of two mounts may not contain each other (already mounted at {mounted_at})")]
    NestedUfs { outer: String, inner: String, mounted_at: AlluxioPath },
    #[error("Cannot unmount the root mount point")]
    UnmountRoot,
    #[error("Failed to {op} {path}: {path} is not a mount point")]
    NotAMountPoint { op: &'static str, path: AlluxioPath },
    #[error("Cannot unmount {path}: the mount point {inner} is nested inside it; unmount that first")]
    NestedMount { path: AlluxioPath, inner: AlluxioPath },
    #[error(
        "Invalid block size {size} for {path}: a block is at least {min} bytes (1MB; \
             alluxio.user.block.size.bytes.default, or blockSizeBytes of the request)"
    )]
    InvalidBlockSize { size: i64, min: i64, path: AlluxioPath },
    #[error("Invalid length {length} for {path}")]
    InvalidLength { length: i64, path: AlluxioPath },
    #[error("Cannot free directory {path} which is not empty; use -R")]
    FreeNonEmptyDirectory { path: AlluxioPath },
    #[error("Cannot free file {path} which is not persisted")]
    FreeNotPersisted { path: AlluxioPath },
    #[error("Cannot free file {path}: it is pinned (use free -f to force)")]
    FreePinned { path: AlluxioPath },
    #[error("A write operation on {path} under a readonly mount point {mount} is not allowed")]
    ReadOnlyMount { path: AlluxioPath, mount: AlluxioPath },
    #[error(
        "A write operation on {path} is not allowed: its under storage {ufs} is in {mode} mode \
             (alluxio fsadmin ufs --mode readWrite {ufs} allows writes again)"
    )]
    UfsNotWritable { path: AlluxioPath, ufs: String, mode: &'static str },
}

impl HasCode for FsError {
    fn code(&self) -> Code {
        use FsError::*;
        match self {
            NotFound { .. } | FileReplaced { .. } => Code::NotFound,
            AlreadyExists { .. } | RenameDestinationExists { .. } | MountPointExists { .. } => Code::AlreadyExists,
            AlreadyCompleted { .. }
            | Incomplete { .. }
            | ContainsMountPoint { .. }
            | DirectoryNotEmpty { .. }
            | NestedMount { .. } => Code::FailedPrecondition,
            AncestorIsFile { .. }
            | NotAFile { .. }
            | PersistDirectory { .. }
            | DeleteRoot
            | DeleteMountPoint { .. }
            | RenameRoot { .. }
            | RenameIntoItself { .. }
            | RenameMountPoint { .. }
            | RenameAcrossMounts { .. }
            | RenameParentIsFile { .. }
            | UnmountRoot
            | MountOnRoot
            | MountParentIsFile { .. }
            | NestedUfs { .. }
            | NotAMountPoint { .. }
            | EmptyName { .. }
            | InvalidMode { .. }
            | Acl { .. }
            | InvalidTtl { .. }
            | InvalidBlockSize { .. }
            | InvalidLength { .. }
            | FreeNonEmptyDirectory { .. } => Code::InvalidArgument,
            FreeNotPersisted { .. } | FreePinned { .. } => Code::FailedPrecondition,
            NotOwner { .. }
            | NotSuperUser { .. }
            | AccessDenied(_)
            | StickyBit { .. }
            | NotInGroup { .. }
            | ReadOnlyMount { .. }
            | UfsNotWritable { .. } => Code::PermissionDenied,
        }
    }
}

pub type PlanResult<T> = Result<T, FsError>;

fn not_found(path: &AlluxioPath) -> FsError {
    FsError::NotFound { path: path.clone() }
}

/// The first `depth` components of `path`.
fn prefix_of(path: &AlluxioPath, depth: usize) -> AlluxioPath {
    let mut p = AlluxioPath::root();
    for c in path.components().take(depth) {
        p = p.join(c);
    }
    p
}

/// Entries marking the ancestors of a file that was just persisted as persisted (the UFS
/// created them as directories to hold it), so deletes and renames of them reach the UFS.
pub fn persisted_ancestors(ns: &Namespace, id: i64) -> impl Iterator<Item = Entry> {
    ns.unpersisted_ancestors(id).into_iter().map(mark_persisted)
}

/// [`persisted_ancestors`] of something placed in directory `dir`: `dir` and its ancestors.
fn persisted_dirs(ns: &Namespace, dir: i64) -> impl Iterator<Item = Entry> {
    let own = ns.get(dir).filter(|d| !d.is_persisted() && d.parent_id != NO_PARENT).map(|d| d.id);
    own.into_iter().chain(ns.unpersisted_ancestors(dir)).map(mark_persisted)
}

fn mark_persisted(id: i64) -> Entry {
    Entry::UpdateInode(UpdateInodeEntry {
        id,
        persistence_state: Some(PersistenceState::Persisted.as_str().into()),
        ..Default::default()
    })
}
