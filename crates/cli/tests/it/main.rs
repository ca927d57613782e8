//! End-to-end scenarios: real `alluxio` processes on 127.0.0.1, each test with its own ports,
//! temporary home and tmpfs tier directory, so tests run in parallel.

mod backup;
mod bad_input;
mod cluster;
mod compat;
mod crash;
mod data_plane;
mod data_safety;
mod durability;
mod ha;
mod lifecycle;
pub(crate) mod proxy;
mod s3_server;
mod s3_ufs;
mod security;
mod tls;
mod ufs_and_worker;
