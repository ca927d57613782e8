//! Options of the file-system calls, in the client's own terms (the wire messages are built
//! from them in one place each).

use std::collections::{BTreeMap, HashMap};

use alluxio_proto::grpc::file::{MountPOptions, SetAttributePOptions};
use alluxio_proto::grpc::{TtlAction, WritePType};

/// Options of [`FileSystem::create_file`](crate::FileSystem::create_file).
#[derive(Debug, Clone, Default)]
pub struct CreateFileOptions {
    pub write_type: Option<WritePType>,
    pub block_size: Option<i64>,
    pub recursive: bool,
    pub mode: Option<i32>,
    pub ttl: Option<i64>,
    pub ttl_action: Option<TtlAction>,
}

/// What [`FileSystem::set_acl`](crate::FileSystem::set_acl) does (`setfacl`'s options).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AclAction {
    /// `--set`: exactly the given entries.
    Replace,
    /// `-m`: add or change the given entries.
    Modify,
    /// `-x`: remove the given entries.
    Remove,
    /// `-b`: keep only the mode's entries.
    RemoveAll,
    /// `-k`: remove the default ACL.
    RemoveDefault,
}

impl From<AclAction> for alluxio_proto::grpc::file::SetAclAction {
    fn from(a: AclAction) -> Self {
        use alluxio_proto::grpc::file::SetAclAction as P;
        match a {
            AclAction::Replace => P::Replace,
            AclAction::Modify => P::Modify,
            AclAction::Remove => P::Remove,
            AclAction::RemoveAll => P::RemoveAll,
            AclAction::RemoveDefault => P::RemoveDefault,
        }
    }
}

/// What [`FileSystem::set_attribute`](crate::FileSystem::set_attribute) changes; `None`
/// leaves an attribute as it is.
#[derive(Debug, Clone, Default)]
pub struct SetAttributeOptions {
    pub owner: Option<String>,
    pub group: Option<String>,
    pub mode: Option<i32>,
    /// Pin (keep cached) or unpin; `pinned_media` restricts where pinned blocks live.
    pub pinned: Option<bool>,
    pub pinned_media: Vec<String>,
    /// Time to live in ms (-1: none) and what happens when it expires.
    pub ttl: Option<i64>,
    pub ttl_action: Option<TtlAction>,
    /// Mark a file persisted (its data was written to the UFS by other means).
    pub persisted: Option<bool>,
    pub replication_min: Option<i32>,
    pub replication_max: Option<i32>,
    /// Extended attributes to set, and to remove.
    pub xattr: HashMap<String, Vec<u8>>,
    pub xattr_delete: Vec<String>,
    /// Change every path below too.
    pub recursive: bool,
}

impl From<SetAttributeOptions> for SetAttributePOptions {
    fn from(o: SetAttributeOptions) -> Self {
        SetAttributePOptions {
            owner: o.owner,
            group: o.group,
            mode: o.mode,
            pinned: o.pinned,
            pinned_media: o.pinned_media,
            ttl: o.ttl,
            ttl_action: o.ttl_action.map(|a| a as i32),
            persisted: o.persisted,
            replication_min: o.replication_min,
            replication_max: o.replication_max,
            xattr: o.xattr,
            xattr_delete: o.xattr_delete,
            recursive: o.recursive,
        }
    }
}

/// Options of [`FileSystem::mount`](crate::FileSystem::mount) and `update_mount` (an update
/// replaces all of them).
#[derive(Debug, Clone, Default)]
pub struct MountOptions {
    pub read_only: bool,
    pub shared: bool,
    /// UFS settings (credentials, endpoint...).
    pub properties: BTreeMap<String, String>,
}

impl From<MountOptions> for MountPOptions {
    fn from(o: MountOptions) -> Self {
        MountPOptions { read_only: o.read_only, shared: o.shared, properties: o.properties.into_iter().collect() }
    }
}
