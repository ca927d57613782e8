//! The alluxio-rs master: the namespace (inode tree and mount table), the block master
//! (workers and block locations), the journal that makes metadata durable, and the gRPC
//! services clients and workers call.
//!
//! Entry point: [`server::run`]. The state that the journal rebuilds is [`namespace::Namespace`];
//! operations on it live in [`fs::FileSystemMaster`].

pub mod acl;
pub mod audit;
pub mod authn;
pub mod backup;
pub mod block_master;
pub mod embedded;
pub mod error;
pub mod fs;
pub mod inode;
pub mod mount_table;
pub mod namespace;
pub mod persistence;
pub mod policies;
pub mod registration;
pub mod server;
pub mod service;
pub mod web;

pub use error::MasterError;
