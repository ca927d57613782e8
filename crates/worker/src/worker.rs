//! The worker's shared state: its block store, its identity at the master, UFS handles,
//! and the master RPC clients.

use std::collections::{BTreeMap, HashSet};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use alluxio_proto::grpc::block::block_master_worker_service_client::BlockMasterWorkerServiceClient;
use alluxio_proto::grpc::block::block_worker_client::BlockWorkerClient;
use alluxio_proto::grpc::block::{CommitBlockPRequest, LocationBlockIdListEntry};
use alluxio_proto::grpc::file::file_system_master_client_service_client::FileSystemMasterClientServiceClient;
use alluxio_proto::grpc::file::GetUfsInfoPRequest;
use alluxio_proto::grpc::WorkerNetAddress;
use alluxio_proto::masters::MasterChannels;
use alluxio_proto::transport::Transport;
use alluxio_proto::version::VersionStamp;
use alluxio_ufs::UnderFileSystem;
use parking_lot::Mutex;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;

use crate::block_store::BlockStore;
use crate::error::{Result, WorkerError};

pub type MasterBlockClient = BlockMasterWorkerServiceClient<InterceptedService<Channel, VersionStamp>>;
pub type PeerClient =
    alluxio_proto::grpc::block::block_worker_client::BlockWorkerClient<InterceptedService<Channel, VersionStamp>>;
pub type MasterFsClient = FileSystemMasterClientServiceClient<InterceptedService<Channel, VersionStamp>>;

/// How long a block commit waits for the master to know this worker (a restart's
/// registration, a failover) before the write fails.
pub const COMMIT_PATIENCE: std::time::Duration = std::time::Duration::from_secs(10);

/// Everything the worker's services and loops share.
pub struct Worker {
    pub store: Arc<BlockStore>,
    pub address: WorkerNetAddress,
    pub id: AtomicI64,
    /// Channels to every master (`alluxio.master.rpc.addresses`).
    masters: MasterChannels,
    /// Mounts' under storages, with when their access mode was last asked of the master and
    /// whether that mode allows access (`fsadmin ufs --mode noAccess` stops UFS reads).
    ufs: Mutex<BTreeMap<i64, (UnderFileSystem, std::time::Instant, bool)>>,
    /// Blocks being cached from the UFS in the background.
    pub caching: Mutex<HashSet<i64>>,
    /// Channels to other workers (block copies).
    peers: Mutex<BTreeMap<String, Channel>>,
    pub chunk_size: usize,
    pub start_time_ms: i64,
    /// When blocks are checked against their checksums.
    pub verify: crate::block_check::VerifyMode,
    /// The user this worker runs as, named in its requests to the masters.
    user: String,
    /// Plaintext or TLS, for every connection it makes and serves.
    pub transport: Transport,
}

impl Worker {
    /// Runs a call of the block store (which creates, renames and deletes files) on the
    /// blocking pool.
    pub async fn on_store<T, F>(&self, f: F) -> T
    where
        F: FnOnce(&BlockStore) -> T + Send + 'static,
        T: Send + 'static,
    {
        let store = self.store.clone();
        crate::blocking::run(move || f(&store)).await
    }

    pub fn new(
        store: Arc<BlockStore>,
        address: WorkerNetAddress,
        master_addr: &str,
        chunk_size: usize,
        verify: crate::block_check::VerifyMode,
        transport: Transport,
    ) -> Result<Self> {
        let masters = MasterChannels::new(master_addr, Duration::from_secs(3), &transport)
            .map_err(|e| WorkerError::InvalidArgument(e.to_string()))?;
        Ok(Worker {
            store,
            address,
            id: AtomicI64::new(0),
            masters,
            ufs: Mutex::new(BTreeMap::new()),
            caching: Mutex::new(HashSet::new()),
            peers: Mutex::new(BTreeMap::new()),
            chunk_size,
            start_time_ms: alluxio_common::now_ms(),
            verify,
            user: alluxio_common::user::current_user(),
            transport,
        })
    }

    fn master(&self) -> Channel {
        self.masters.current()
    }

    /// After a failed call to the master: if it was a standby, go to the leader it named (or
    /// the next master); if the master is unreachable and there are others, try the next one.
    /// Returns whether the error means "not the leading master" (so the worker must register
    /// again).
    pub fn follow_master(&self, s: &tonic::Status) -> bool {
        if alluxio_proto::status::standby_refusal(s).is_some() {
            self.masters.follow(s);
            return true;
        }
        if s.code() == tonic::Code::Unavailable && self.masters.len() > 1 {
            self.masters.next();
            return true;
        }
        false
    }

    pub fn master_blocks(&self) -> MasterBlockClient {
        BlockMasterWorkerServiceClient::with_interceptor(self.master(), VersionStamp::new(None))
            .max_decoding_message_size(256 << 20)
            .max_encoding_message_size(256 << 20)
    }

    /// A client of another worker.
    pub fn peer(&self, a: &WorkerNetAddress) -> Result<PeerClient> {
        let key = format!("{}:{}", a.host, a.rpc_port);
        let ch = {
            let mut m = self.peers.lock();
            match m.get(&key) {
                Some(c) => c.clone(),
                None => {
                    let ep = Transport::endpoint(&key)
                        .map_err(|e| WorkerError::InvalidArgument(format!("bad worker address {key}: {e}")))?
                        .connect_timeout(Duration::from_secs(3))
                        .tcp_nodelay(true);
                    let c = self.transport.channel(&ep);
                    m.insert(key, c.clone());
                    c
                }
            }
        };
        Ok(BlockWorkerClient::with_interceptor(ch, VersionStamp::new(None)).max_decoding_message_size(64 << 20))
    }

    /// The file-system master as the worker's own user (asking for mount options needs a
    /// superuser: run workers as the masters' user or a member of their supergroup).
    fn master_fs(&self) -> MasterFsClient {
        FileSystemMasterClientServiceClient::with_interceptor(self.master(), VersionStamp::new(Some(&self.user)))
    }

    /// The UFS of a mount, asking the master for its URI and options once and for its access
    /// mode at most once a second.
    pub async fn ufs(&self, mount_id: i64) -> Result<UnderFileSystem> {
        let cached = self.ufs.lock().get(&mount_id).cloned();
        if let Some((u, at, ok)) = &cached {
            if at.elapsed() < std::time::Duration::from_secs(1) {
                return if *ok { Ok(u.clone()) } else { Err(no_access(u)) };
            }
        }
        let info = self
            .master_fs()
            .get_ufs_info(GetUfsInfoPRequest { mount_id })
            .await
            .map_err(|s| {
                WorkerError::Unavailable(format!(
                    "cannot get UFS info of mount {mount_id} from the master: {}",
                    s.message()
                ))
            })?
            .into_inner()
            .ufs_info
            .ok_or_else(|| WorkerError::Internal(format!("master sent no UFS info for mount {mount_id}")))?;
        let ok = info.ufs_mode != "NO_ACCESS";
        let u = match cached {
            Some((u, _, _)) => u,
            None => UnderFileSystem::open(&info.uri, &info.properties.into_iter().collect())?,
        };
        self.ufs.lock().insert(mount_id, (u.clone(), std::time::Instant::now(), ok));
        if ok {
            Ok(u)
        } else {
            Err(no_access(&u))
        }
    }

    /// Tells the master a block was committed here, before the writer hears of success: an
    /// acknowledged block is one the master can hand to readers. While this worker is not
    /// registered (it just restarted) or the master cannot be reached, the commit is retried
    /// for up to [`COMMIT_PATIENCE`]; after that the write fails (the block stays here and is
    /// reported with the next registration or heartbeat). A block the master does not know
    /// (its file was deleted meanwhile) is dropped.
    pub async fn commit_to_master(&self, block_id: i64, length: u64, tier: &str, used_on_tier: i64) -> Result<()> {
        let deadline = std::time::Instant::now() + COMMIT_PATIENCE;
        loop {
            let req = CommitBlockPRequest {
                // Read each time: a registration in between gives this worker its id.
                worker_id: self.id.load(Ordering::SeqCst),
                used_bytes_on_tier: used_on_tier,
                tier_alias: tier.into(),
                block_id,
                length: length as i64,
                medium_type: tier.into(),
            };
            match self.master_blocks().commit_block(req).await {
                Ok(resp) if resp.get_ref().known => {
                    self.store.reported(&[block_id]);
                    return Ok(());
                }
                Ok(_) => {
                    self.store.reported(&[block_id]);
                    self.on_store(move |s| s.remove(block_id)).await;
                    return Err(WorkerError::InvalidArgument(format!(
                        "Block {block_id} belongs to no file (deleted while written?); dropped"
                    )));
                }
                Err(s) if std::time::Instant::now() < deadline => {
                    self.follow_master(&s);
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                }
                Err(s) => {
                    return Err(WorkerError::Unavailable(format!(
                        "cannot commit block {block_id} to the master ({}); the write is not acknowledged, \
                         the block will be reported later",
                        s.message()
                    )))
                }
            }
        }
    }

    /// Blocks grouped for a report to the master.
    pub fn block_lists(blocks: Vec<(String, Vec<i64>)>) -> Vec<LocationBlockIdListEntry> {
        blocks
            .into_iter()
            .map(|(t, ids)| LocationBlockIdListEntry { medium_type: t.clone(), tier_alias: t, block_ids: ids })
            .collect()
    }
}

/// The UFS path relative to a mount's root, from a full UFS path.
pub fn relative_to(ufs: &UnderFileSystem, full: &str) -> Result<String> {
    let root = ufs.uri().trim_end_matches('/');
    if full.trim_end_matches('/') == root {
        return Ok(String::new());
    }
    full.strip_prefix(root)
        .and_then(|r| r.strip_prefix('/'))
        .map(str::to_owned)
        .ok_or_else(|| WorkerError::InvalidArgument(format!("UFS path {full} is not under its mount's UFS {root}")))
}
fn no_access(u: &UnderFileSystem) -> WorkerError {
    WorkerError::PermissionDenied(format!(
        "the under storage {} is in NO_ACCESS mode (alluxio fsadmin ufs --mode readOnly|readWrite {} allows access)",
        u.uri(),
        u.uri()
    ))
}
