//! The alluxio-rs worker: a tiered block cache on local RAM/SSD/HDD that serves block
//! reads and writes, reads through to the UFS on a miss, and persists files for the master.
//!
//! Entry point: [`server::run`]. Blocks live in [`block_store::BlockStore`]; the gRPC
//! service is [`service::BlockWorkerService`]; [`master_sync`] registers and heartbeats.

pub mod block_check;
pub mod block_store;
pub mod blocking;
pub mod cluster_id;
pub mod data_server;
pub mod error;
pub mod master_sync;
pub mod server;
pub mod service;
pub mod ufs_writes;
pub mod web;
pub mod worker;

pub use error::WorkerError;
