//! `FileSystem`: connections, metadata calls, and the factories of in/out streams.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use alluxio_common::status::Code;
use alluxio_common::version::{PROTOCOL_VERSION, VERSION};
use alluxio_common::{AlluxioPath, Conf};
use alluxio_proto::grpc::block::block_master_client_service_client::BlockMasterClientServiceClient;
use alluxio_proto::grpc::block::block_worker_client::BlockWorkerClient;
use alluxio_proto::grpc::block::{BlockMasterInfo, GetBlockMasterInfoPRequest, GetWorkerInfoListPRequest, WorkerInfo};
use alluxio_proto::grpc::file::file_system_master_client_service_client::FileSystemMasterClientServiceClient;
use alluxio_proto::grpc::file::*;
use alluxio_proto::grpc::meta::meta_master_client_service_client::MetaMasterClientServiceClient;
use alluxio_proto::grpc::meta::service_version_client_service_client::ServiceVersionClientServiceClient;
use alluxio_proto::grpc::meta::{
    CheckpointPRequest, GetMasterInfoPRequest, GetServiceVersionPRequest, MasterInfo, PingPRequest,
};
use alluxio_proto::grpc::{FileInfo, ReadPType, TtlAction, WorkerNetAddress, WritePType};
use alluxio_proto::masters::MasterChannels;
use alluxio_proto::version::VersionStamp;
use parking_lot::Mutex;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;

use crate::error::{ClientError, Result};
use crate::in_stream::FileInStream;
use crate::out_stream::FileOutStream;

type Svc = InterceptedService<Channel, VersionStamp>;
pub(crate) type WorkerClient = BlockWorkerClient<Svc>;

/// Client settings read from the configuration once.
#[derive(Debug, Clone)]
pub struct ClientConf {
    pub master_address: String,
    pub user: String,
    pub block_size: i64,
    pub write_type: WritePType,
    pub read_type: ReadPType,
    pub chunk_size: usize,
    pub short_circuit: bool,
    pub local_hosts: Vec<String>,
    pub retry_duration: Duration,
    pub write_tier: i32,
    /// Copy blocks read from a remote worker to the local one (`alluxio.user.file.passive.cache.enabled`).
    pub passive_cache: bool,
    /// `alluxio.user.block.write.location.policy.class`, simple name.
    pub write_policy: String,
    pub replication_min: i32,
    pub replication_max: i32,
    /// `alluxio.user.file.metadata.sync.interval` in ms; negative: never sync.
    pub sync_interval_ms: i64,
}

impl ClientConf {
    pub fn from_conf(conf: &Conf) -> Result<Self> {
        // `alluxio.master.rpc.addresses` lists every master; the client uses the one that answers.
        let master_address = match conf.get_list("alluxio.master.rpc.addresses")? {
            l if !l.is_empty() => l.join(","),
            _ => format!("{}:{}", conf.get_str("alluxio.master.hostname")?, conf.get_i64("alluxio.master.rpc.port")?),
        };
        let user = conf.get("alluxio.security.login.username")?.unwrap_or_else(alluxio_common::user::current_user);
        let write_type = crate::parse_write_type(&conf.get_enum("alluxio.user.file.writetype.default")?)
            .unwrap_or(WritePType::AsyncThrough);
        let read_type =
            crate::parse_read_type(&conf.get_enum("alluxio.user.file.readtype.default")?).unwrap_or(ReadPType::Cache);
        let mut local_hosts =
            vec!["localhost".to_owned(), "127.0.0.1".to_owned(), alluxio_common::user::local_hostname()];
        if let Some(h) = conf.get("alluxio.user.hostname")? {
            local_hosts.push(h);
        }
        Ok(ClientConf {
            master_address,
            user,
            block_size: conf.get_bytes("alluxio.user.block.size.bytes.default")? as i64,
            write_type,
            read_type,
            chunk_size: conf.get_bytes("alluxio.user.network.writer.chunk.size.bytes")?.max(4096) as usize,
            short_circuit: conf.get_bool("alluxio.user.short.circuit.enabled")?,
            local_hosts,
            retry_duration: conf.get_duration("alluxio.user.rpc.retry.max.duration")?,
            write_tier: conf.get_i64("alluxio.user.file.write.tier.default")? as i32,
            passive_cache: conf.get_bool("alluxio.user.file.passive.cache.enabled")?,
            replication_min: conf.get_i64("alluxio.user.file.replication.min")? as i32,
            sync_interval_ms: conf.get_duration_ms("alluxio.user.file.metadata.sync.interval")?,
            replication_max: conf.get_i64("alluxio.user.file.replication.max")? as i32,
            write_policy: {
                let c = conf.get_str("alluxio.user.block.write.location.policy.class")?;
                c.rsplit('.').next().unwrap_or(&c).to_owned()
            },
        })
    }
}

/// Options of [`FileSystem::create_file`].
#[derive(Debug, Clone, Default)]
pub struct CreateFileOptions {
    pub write_type: Option<WritePType>,
    pub block_size: Option<i64>,
    pub recursive: bool,
    pub mode: Option<i32>,
    pub ttl: Option<i64>,
    pub ttl_action: Option<TtlAction>,
}

struct Inner {
    conf: ClientConf,
    /// One channel per address of `master_address`.
    masters: MasterChannels,
    workers: Mutex<HashMap<String, Channel>>,
    worker_list: Mutex<Option<(Instant, Vec<WorkerInfo>)>>,
    round_robin: std::sync::atomic::AtomicUsize,
    /// Idle connections to workers' block data ports.
    data_conns: Mutex<HashMap<String, Vec<tokio::net::TcpStream>>>,
    /// Workers (`host:rpc port`) that could not be reached, and when: no data is sent to them
    /// for [`FAILED_WORKER_PAUSE`].
    failed_workers: Mutex<HashMap<String, Instant>>,
}

/// How long a worker that could not be reached is left out of writes.
const FAILED_WORKER_PAUSE: Duration = Duration::from_secs(30);

fn worker_key(a: &WorkerNetAddress) -> String {
    format!("{}:{}", a.host, a.rpc_port)
}

/// A connection to an Alluxio cluster. Cheap to clone.
#[derive(Clone)]
pub struct FileSystem {
    inner: Arc<Inner>,
}

/// A failure of the connection itself, not an answer: tonic builds those from a transport error
/// it keeps as the source. A status a server sent never has a source, so a master's message
/// that quotes a connection error (an unreachable UFS, say) is not retried as one.
fn is_connect_error(e: &tonic::Status) -> bool {
    use std::error::Error;
    matches!(e.code(), tonic::Code::Unavailable | tonic::Code::Unknown | tonic::Code::Internal | tonic::Code::Cancelled)
        && e.source().is_some()
}

/// Errors after which another master may answer: no connection, or a refusal marked as a
/// failover (a standby, or a leader that lost leadership before acknowledging).
fn is_failover(e: &tonic::Status) -> bool {
    is_connect_error(e) || alluxio_proto::status::standby_refusal(e).is_some()
}

impl FileSystem {
    /// Connects to the master named by the configuration and checks versions.
    pub async fn connect(conf: &Conf) -> Result<Self> {
        Self::connect_with(ClientConf::from_conf(conf)?).await
    }

    pub async fn connect_with(conf: ClientConf) -> Result<Self> {
        let masters = MasterChannels::new(&conf.master_address, Duration::from_secs(5))
            .map_err(|e| ClientError::new(Code::InvalidArgument, e))?;
        let fs = FileSystem {
            inner: Arc::new(Inner {
                conf,
                masters,
                workers: Mutex::new(HashMap::new()),
                worker_list: Mutex::new(None),
                round_robin: Default::default(),
                data_conns: Mutex::new(HashMap::new()),
                failed_workers: Mutex::new(HashMap::new()),
            }),
        };
        fs.handshake().await?;
        Ok(fs)
    }

    /// Exchanges versions with the master: an incompatible peer is a clear error, never a decode failure.
    async fn handshake(&self) -> Result<()> {
        let deadline = Instant::now() + self.inner.conf.retry_duration.min(Duration::from_secs(10));
        let mut tried: usize = 0;
        let v = loop {
            let mut c = ServiceVersionClientServiceClient::with_interceptor(self.master(), self.stamp());
            match c.get_service_version(GetServiceVersionPRequest { client_software_version: VERSION.into(), client_protocol_version: PROTOCOL_VERSION }).await {
                Ok(v) => break v.into_inner(),
                // Another master may answer; after a full round, wait a little.
                Err(e) if is_failover(&e) && Instant::now() < deadline => {
                    self.follow(&e);
                    tried += 1;
                    if tried.is_multiple_of(self.inner.masters.len()) {
                        tokio::time::sleep(Duration::from_millis(200)).await;
                    }
                }
                Err(e) if is_failover(&e) && !is_connect_error(&e) => return Err(e.into()),
                Err(e) if is_connect_error(&e) => {
                    return Err(ClientError::new(
                        Code::Unavailable,
                        format!(
                            "cannot connect to the Alluxio master at {} (alluxio.master.rpc.addresses, or alluxio.master.hostname and alluxio.master.rpc.port): is it running? ({})",
                            self.inner.conf.master_address,
                            e.message()
                        ),
                    ))
                }
                Err(e) => return Err(e.into()),
            }
        };
        if !(v.min_protocol_version..=v.protocol_version).contains(&PROTOCOL_VERSION) {
            return Err(ClientError::new(
                Code::FailedPrecondition,
                format!(
                    "this client (alluxio-rs {VERSION}, protocol {PROTOCOL_VERSION}) cannot talk to the master at {} \
                     (alluxio-rs {}, protocol {}..={}); use matching versions",
                    self.inner.conf.master_address, v.software_version, v.min_protocol_version, v.protocol_version
                ),
            ));
        }
        Ok(())
    }

    pub fn conf(&self) -> &ClientConf {
        &self.inner.conf
    }

    /// The channel to the master last found answering.
    fn master(&self) -> Channel {
        self.inner.masters.current()
    }

    /// After a failover error: to the leader a standby named, else to the next master.
    /// Returns whether a leader was named.
    fn follow(&self, e: &tonic::Status) -> bool {
        self.inner.masters.follow(e)
    }

    fn stamp(&self) -> VersionStamp {
        VersionStamp::new(Some(&self.inner.conf.user))
    }

    pub(crate) fn fs_client(&self) -> FileSystemMasterClientServiceClient<Svc> {
        FileSystemMasterClientServiceClient::with_interceptor(self.master(), self.stamp())
            .max_decoding_message_size(256 << 20)
    }

    fn meta_client(&self) -> MetaMasterClientServiceClient<Svc> {
        MetaMasterClientServiceClient::with_interceptor(self.master(), self.stamp())
    }

    fn block_client(&self) -> BlockMasterClientServiceClient<Svc> {
        BlockMasterClientServiceClient::with_interceptor(self.master(), self.stamp())
    }

    /// A client of the worker at `addr` (one cached channel per worker).
    pub(crate) fn worker_client(&self, addr: &WorkerNetAddress) -> Result<WorkerClient> {
        let key = format!("{}:{}", addr.host, addr.rpc_port);
        let ch = {
            let mut m = self.inner.workers.lock();
            match m.get(&key) {
                Some(c) => c.clone(),
                None => {
                    let c = Channel::from_shared(format!("http://{key}"))
                        .map_err(|e| ClientError::new(Code::InvalidArgument, format!("bad worker address {key}: {e}")))?
                        .connect_timeout(Duration::from_secs(5))
                        .tcp_nodelay(true)
                        .initial_stream_window_size(Some(8 << 20))
                        .initial_connection_window_size(Some(32 << 20))
                        // Block data: large HTTP/2 frames, not 16 KiB ones.
                        .max_frame_size(Some(1 << 20))
                        .connect_lazy();
                    m.insert(key, c.clone());
                    c
                }
            }
        };
        Ok(BlockWorkerClient::with_interceptor(ch, self.stamp())
            .max_decoding_message_size(64 << 20)
            .max_encoding_message_size(64 << 20))
    }

    /// Whether a worker runs on this host (short-circuit and local-first writes).
    pub(crate) fn is_local(&self, addr: &WorkerNetAddress) -> bool {
        self.inner.conf.local_hosts.iter().any(|h| h == &addr.host)
    }

    /// Live workers to write to (cached for a few seconds), leaving out those this client
    /// could not reach lately unless no other is left.
    pub async fn workers(&self) -> Result<Vec<WorkerInfo>> {
        let cached = self
            .inner
            .worker_list
            .lock()
            .as_ref()
            .and_then(|(t, l)| (t.elapsed() < Duration::from_secs(5) && !l.is_empty()).then(|| l.clone()));
        let all = match cached {
            Some(l) => l,
            None => {
                // Decommissioned workers take no new data.
                let l: Vec<WorkerInfo> =
                    self.worker_infos(false).await?.into_iter().filter(|w| w.state != "Decommissioned").collect();
                *self.inner.worker_list.lock() = Some((Instant::now(), l.clone()));
                l
            }
        };
        let mut failed = self.inner.failed_workers.lock();
        failed.retain(|_, t| t.elapsed() < FAILED_WORKER_PAUSE);
        let reachable: Vec<WorkerInfo> = all
            .iter()
            .filter(|w| w.address.as_ref().is_none_or(|a| !failed.contains_key(&worker_key(a))))
            .cloned()
            .collect();
        Ok(if reachable.is_empty() { all } else { reachable })
    }

    /// A worker this client could not reach: left out of writes for a while, and the worker
    /// list is asked again (the master may know it is gone).
    pub(crate) fn worker_failed(&self, a: &WorkerNetAddress) {
        tracing::info!("worker {}:{} cannot be reached; writing elsewhere", a.host, a.rpc_port);
        self.inner.failed_workers.lock().insert(worker_key(a), Instant::now());
        self.forget_workers();
    }

    /// Whether the master is in safe mode: it started lately and workers may still be
    /// registering, so a missing worker or block location is worth waiting for.
    pub(crate) async fn master_in_safe_mode(&self) -> bool {
        self.master_info().await.is_ok_and(|m| m.safe_mode)
    }

    /// The time by which an operation waiting for workers gives up.
    pub(crate) fn retry_deadline(&self) -> Instant {
        Instant::now() + self.inner.conf.retry_duration
    }

    /// The next position of the round-robin write policy.
    pub(crate) fn take_data_conn(&self, key: &str) -> Option<tokio::net::TcpStream> {
        self.inner.data_conns.lock().get_mut(key).and_then(Vec::pop)
    }

    /// Returns a connection whose response was read completely.
    pub(crate) fn return_data_conn(&self, key: String, c: tokio::net::TcpStream) {
        let mut m = self.inner.data_conns.lock();
        let v = m.entry(key).or_default();
        if v.len() < 4 {
            v.push(c);
        }
    }

    pub(crate) fn next_round_robin(&self) -> usize {
        self.inner.round_robin.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    }

    pub(crate) fn forget_workers(&self) {
        *self.inner.worker_list.lock() = None;
    }

    /// Retries calls that failed for want of a leading master (connection refused, a standby,
    /// a failover in progress) on the other masters, for up to
    /// `alluxio.user.rpc.retry.max.duration`.
    async fn retry<T, F, Fut>(&self, mut call: F) -> Result<T>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<T, tonic::Status>>,
    {
        let deadline = Instant::now() + self.inner.conf.retry_duration;
        let mut wait = Duration::from_millis(20);
        let mut tried = 0usize;
        loop {
            match call().await {
                Ok(v) => return Ok(v),
                Err(e) if is_failover(&e) && Instant::now() + wait < deadline => {
                    tried += 1;
                    // Straight to a named leader; otherwise pause after each full round.
                    if !self.follow(&e) && tried.is_multiple_of(self.inner.masters.len()) {
                        tokio::time::sleep(wait).await;
                        wait = (wait * 2).min(Duration::from_millis(250));
                    }
                }
                Err(e) => return Err(e.into()),
            }
        }
    }

    async fn fs_call<T, F, Fut>(&self, call: F) -> Result<T>
    where
        F: Fn(FileSystemMasterClientServiceClient<Svc>) -> Fut,
        Fut: std::future::Future<Output = Result<tonic::Response<T>, tonic::Status>>,
    {
        Ok(self.retry(|| call(self.fs_client())).await?.into_inner())
    }

    async fn meta_call<T, F, Fut>(&self, call: F) -> Result<T>
    where
        F: Fn(MetaMasterClientServiceClient<Svc>) -> Fut,
        Fut: std::future::Future<Output = Result<tonic::Response<T>, tonic::Status>>,
    {
        Ok(self.retry(|| call(self.meta_client())).await?.into_inner())
    }

    async fn block_call<T, F, Fut>(&self, call: F) -> Result<T>
    where
        F: Fn(BlockMasterClientServiceClient<Svc>) -> Fut,
        Fut: std::future::Future<Output = Result<tonic::Response<T>, tonic::Status>>,
    {
        Ok(self.retry(|| call(self.block_client())).await?.into_inner())
    }

    // ------------------------------------------------------------------ metadata

    pub async fn get_status(&self, path: &AlluxioPath) -> Result<FileInfo> {
        self.get_status_opts(path, false).await
    }

    pub(crate) async fn get_status_opts(&self, path: &AlluxioPath, include_blocks: bool) -> Result<FileInfo> {
        let r = self
            .retry(|| {
                let mut c = self.fs_client();
                let req = GetStatusPRequest {
                    path: path.to_string(),
                    options: Some(GetStatusPOptions {
                        include_blocks,
                        sync_interval_ms: (self.inner.conf.sync_interval_ms >= 0)
                            .then_some(self.inner.conf.sync_interval_ms),
                        ..Default::default()
                    }),
                };
                async move { c.get_status(req).await }
            })
            .await?;
        r.into_inner().file_info.ok_or_else(|| ClientError::new(Code::Internal, "master sent no file info"))
    }

    pub async fn exists(&self, path: &AlluxioPath) -> Result<bool> {
        match self.get_status(path).await {
            Ok(_) => Ok(true),
            Err(e) if e.code == Code::NotFound => Ok(false),
            Err(e) => Err(e),
        }
    }

    pub async fn list_status(&self, path: &AlluxioPath, recursive: bool) -> Result<Vec<FileInfo>> {
        let resp = self
            .retry(|| {
                let mut c = self.fs_client();
                let req = ListStatusPRequest {
                    path: path.to_string(),
                    options: Some(ListStatusPOptions {
                        recursive,
                        sync_interval_ms: (self.inner.conf.sync_interval_ms >= 0)
                            .then_some(self.inner.conf.sync_interval_ms),
                        ..Default::default()
                    }),
                };
                async move { c.list_status(req).await }
            })
            .await?;
        let mut stream = resp.into_inner();
        let mut out = Vec::new();
        while let Some(batch) = stream.message().await? {
            out.extend(batch.file_infos);
        }
        Ok(out)
    }

    pub async fn create_directory(
        &self,
        path: &AlluxioPath,
        recursive: bool,
        allow_exists: bool,
        write_type: Option<WritePType>,
    ) -> Result<()> {
        let wt = write_type.unwrap_or(self.inner.conf.write_type);
        self.retry(|| {
            let mut c = self.fs_client();
            let req = CreateDirectoryPRequest {
                path: path.to_string(),
                options: Some(CreateDirectoryPOptions {
                    recursive,
                    allow_exists,
                    write_type: wt as i32,
                    ..Default::default()
                }),
            };
            async move { c.create_directory(req).await }
        })
        .await?;
        Ok(())
    }

    /// Creates a file and opens it for writing; the file is complete when the stream closes.
    pub async fn create_file(&self, path: &AlluxioPath, o: CreateFileOptions) -> Result<FileOutStream> {
        let wt = o.write_type.unwrap_or(self.inner.conf.write_type);
        let block_size = o.block_size.unwrap_or(self.inner.conf.block_size);
        let resp = self
            .retry(|| {
                let mut c = self.fs_client();
                let req = CreateFilePRequest {
                    path: path.to_string(),
                    options: Some(CreateFilePOptions {
                        block_size_bytes: block_size,
                        recursive: o.recursive,
                        mode: o.mode,
                        write_type: wt as i32,
                        ttl: o.ttl,
                        ttl_action: o.ttl_action.unwrap_or(TtlAction::Delete) as i32,
                        replication_min: self.inner.conf.replication_min,
                        replication_max: self.inner.conf.replication_max,
                        ..Default::default()
                    }),
                };
                async move { c.create_file(req).await }
            })
            .await?;
        let resp = resp.into_inner();
        let renew = Duration::from_millis(resp.lease_renew_interval_ms.max(100) as u64);
        let info = resp.file_info.ok_or_else(|| ClientError::new(Code::Internal, "master sent no file info"))?;
        FileOutStream::new(self.clone(), path.clone(), info, wt, renew).await
    }

    /// Opens a file for reading.
    pub async fn open_file(&self, path: &AlluxioPath, read_type: Option<ReadPType>) -> Result<FileInStream> {
        let info = self.get_status_opts(path, true).await?;
        if info.folder {
            return Err(ClientError::new(Code::InvalidArgument, format!("Path \"{path}\" is a directory, not a file")));
        }
        if !info.completed {
            return Err(ClientError::new(
                Code::FailedPrecondition,
                format!("File {path} is incomplete: it is still being written"),
            ));
        }
        Ok(FileInStream::new(self.clone(), info, read_type.unwrap_or(self.inner.conf.read_type)))
    }

    pub async fn delete(&self, path: &AlluxioPath, recursive: bool, alluxio_only: bool) -> Result<()> {
        let req = DeletePRequest {
            path: path.to_string(),
            options: Some(DeletePOptions { recursive, alluxio_only, unchecked: false }),
        };
        self.fs_call(|mut c| {
            let req = req.clone();
            async move { c.remove(req).await }
        })
        .await?;
        Ok(())
    }

    pub async fn rename(&self, src: &AlluxioPath, dst: &AlluxioPath) -> Result<()> {
        let req = RenamePRequest { path: src.to_string(), dst_path: dst.to_string() };
        self.fs_call(|mut c| {
            let req = req.clone();
            async move { c.rename(req).await }
        })
        .await?;
        Ok(())
    }

    pub async fn set_attribute(&self, path: &AlluxioPath, options: SetAttributePOptions) -> Result<()> {
        let req = SetAttributePRequest { path: path.to_string(), options: Some(options) };
        self.fs_call(|mut c| {
            let req = req.clone();
            async move { c.set_attribute(req).await }
        })
        .await?;
        Ok(())
    }

    pub async fn mount(&self, path: &AlluxioPath, ufs: &str, options: MountPOptions) -> Result<()> {
        let req = MountPRequest { alluxio_path: path.to_string(), ufs_path: ufs.into(), options: Some(options) };
        self.fs_call(|mut c| {
            let req = req.clone();
            async move { c.mount(req).await }
        })
        .await?;
        Ok(())
    }

    pub async fn unmount(&self, path: &AlluxioPath) -> Result<()> {
        let req = UnmountPRequest { alluxio_path: path.to_string() };
        self.fs_call(|mut c| {
            let req = req.clone();
            async move { c.unmount(req).await }
        })
        .await?;
        Ok(())
    }

    pub async fn update_mount(&self, path: &AlluxioPath, options: MountPOptions) -> Result<()> {
        let req = UpdateMountPRequest { alluxio_path: path.to_string(), options: Some(options) };
        self.fs_call(|mut c| {
            let req = req.clone();
            async move { c.update_mount(req).await }
        })
        .await?;
        Ok(())
    }

    /// `fsadmin ufs --mode`: `mode` is NO_ACCESS, READ_ONLY or READ_WRITE.
    pub async fn update_ufs_mode(&self, ufs_path: &str, mode: &str) -> Result<()> {
        let req = UpdateUfsModePRequest { ufs_path: ufs_path.into(), ufs_mode: mode.into() };
        self.fs_call(|mut c| {
            let req = req.clone();
            async move { c.update_ufs_mode(req).await }
        })
        .await?;
        Ok(())
    }

    pub async fn mount_table(&self) -> Result<HashMap<String, MountPointInfo>> {
        Ok(self.fs_call(|mut c| async move { c.get_mount_table(GetMountTablePRequest {}).await }).await?.mount_points)
    }

    pub async fn free(&self, path: &AlluxioPath, recursive: bool, forced: bool) -> Result<()> {
        let req = FreePRequest { path: path.to_string(), options: Some(FreePOptions { recursive, forced }) };
        self.fs_call(|mut c| {
            let req = req.clone();
            async move { c.free(req).await }
        })
        .await?;
        Ok(())
    }

    /// Renews the lease on files being written.
    pub(crate) async fn keep_alive(&self, file_ids: Vec<i64>) -> Result<()> {
        let req = KeepAlivePRequest { file_ids };
        self.fs_call(|mut c| {
            let req = req.clone();
            async move { c.keep_alive(req).await }
        })
        .await?;
        Ok(())
    }

    pub async fn persist(&self, path: &AlluxioPath) -> Result<()> {
        let req = ScheduleAsyncPersistencePRequest { path: path.to_string() };
        self.fs_call(|mut c| {
            let req = req.clone();
            async move { c.schedule_async_persistence(req).await }
        })
        .await?;
        Ok(())
    }

    pub(crate) async fn complete_file(
        &self,
        path: &AlluxioPath,
        file_id: i64,
        length: i64,
        fingerprint: String,
        wt: WritePType,
        xattr: HashMap<String, Vec<u8>>,
    ) -> Result<FileInfo> {
        let req = CompleteFilePRequest {
            path: path.to_string(),
            file_id,
            options: Some(CompleteFilePOptions { length, ufs_fingerprint: fingerprint, write_type: wt as i32, xattr }),
        };
        let r = self
            .fs_call(|mut c| {
                let req = req.clone();
                async move { c.complete_file(req).await }
            })
            .await?;
        r.file_info.ok_or_else(|| ClientError::new(Code::Internal, "master sent no file info"))
    }

    // ------------------------------------------------------------------ cluster

    pub async fn master_info(&self) -> Result<MasterInfo> {
        let r = self
            .retry(|| {
                let mut c = self.meta_client();
                async move { c.get_master_info(GetMasterInfoPRequest {}).await }
            })
            .await?;
        r.into_inner().master_info.ok_or_else(|| ClientError::new(Code::Internal, "master sent no info"))
    }

    pub async fn worker_infos(&self, include_lost: bool) -> Result<Vec<WorkerInfo>> {
        Ok(self
            .block_call(|mut c| async move { c.get_worker_info_list(GetWorkerInfoListPRequest { include_lost }).await })
            .await?
            .worker_infos)
    }

    /// Decommissions workers (`host:port`); returns (blocks still only on them, unknown addresses).
    pub async fn decommission_workers(&self, addresses: Vec<String>) -> Result<(i64, Vec<String>)> {
        let req = alluxio_proto::grpc::block::DecommissionWorkerPRequest { addresses };
        let r = self
            .block_call(|mut c| {
                let req = req.clone();
                async move { c.decommission_worker(req).await }
            })
            .await?;
        Ok((r.blocks_left, r.unknown_addresses))
    }

    pub async fn block_master_info(&self) -> Result<BlockMasterInfo> {
        self.block_call(|mut c| async move { c.get_block_master_info(GetBlockMasterInfoPRequest {}).await })
            .await?
            .block_master_info
            .ok_or_else(|| ClientError::new(Code::Internal, "master sent no block info"))
    }

    /// Asks the master to write a journal checkpoint now; returns (host, sequence).
    pub async fn checkpoint(&self) -> Result<(String, i64)> {
        let r = self.meta_call(|mut c| async move { c.checkpoint(CheckpointPRequest {}).await }).await?;
        Ok((r.master_hostname, r.sequence_number))
    }

    /// Starts a backup on the leading master (asynchronously); poll with [`FileSystem::backup_status`].
    pub async fn backup(
        &self,
        directory: &str,
        local: bool,
        allow_leader: bool,
    ) -> Result<alluxio_proto::grpc::meta::BackupPStatus> {
        let req = alluxio_proto::grpc::meta::BackupPRequest {
            options: Some(alluxio_proto::grpc::meta::BackupPOptions {
                target_directory: directory.to_owned(),
                local_file_system: local,
                allow_leader,
                run_async: true,
            }),
        };
        self.meta_call(|mut c| {
            let req = req.clone();
            async move { c.backup(req).await }
        })
        .await
    }

    pub async fn backup_status(&self, backup_id: &str) -> Result<alluxio_proto::grpc::meta::BackupPStatus> {
        let req = alluxio_proto::grpc::meta::BackupStatusPRequest { backup_id: backup_id.to_owned() };
        self.meta_call(|mut c| {
            let req = req.clone();
            async move { c.get_backup_status(req).await }
        })
        .await
    }

    /// `fsadmin journal quorum info`: (journal address, available, leader) of each member.
    pub async fn quorum_info(&self) -> Result<Vec<alluxio_proto::grpc::journal::QuorumServerInfo>> {
        use alluxio_proto::grpc::journal::*;
        let r = self
            .retry(|| {
                let mut c = self.journal_client();
                async move { c.get_quorum_info(GetQuorumInfoPRequest { domain: JournalDomain::Master as i32 }).await }
            })
            .await?;
        Ok(r.into_inner().server_info)
    }

    /// `fsadmin journal quorum remove -address <host:port>`.
    pub async fn remove_quorum_server(&self, address: &str) -> Result<()> {
        use alluxio_proto::grpc::journal::*;
        let req = RemoveQuorumServerPRequest { domain: JournalDomain::Master as i32, server_address: address.into() };
        self.retry(|| {
            let (mut c, req) = (self.journal_client(), req.clone());
            async move { c.remove_quorum_server(req).await }
        })
        .await?;
        Ok(())
    }

    /// `fsadmin journal quorum elect -address <host:port>`.
    pub async fn transfer_leadership(&self, address: &str) -> Result<()> {
        use alluxio_proto::grpc::journal::*;
        let req = TransferLeadershipPRequest { domain: JournalDomain::Master as i32, server_address: address.into() };
        self.retry(|| {
            let (mut c, req) = (self.journal_client(), req.clone());
            async move { c.transfer_leadership(req).await }
        })
        .await?;
        Ok(())
    }

    fn journal_client(
        &self,
    ) -> alluxio_proto::grpc::journal::journal_master_client_service_client::JournalMasterClientServiceClient<Svc> {
        alluxio_proto::grpc::journal::journal_master_client_service_client::JournalMasterClientServiceClient::with_interceptor(
            self.master(),
            self.stamp(),
        )
    }

    /// The no-op RPC (benchmark baseline).
    pub async fn ping(&self) -> Result<()> {
        ServiceVersionClientServiceClient::with_interceptor(self.master(), self.stamp()).ping(PingPRequest {}).await?;
        Ok(())
    }

    /// The master's configuration (secrets redacted).
    pub async fn master_configuration(&self) -> Result<Vec<alluxio_proto::grpc::meta::ConfigProperty>> {
        Ok(self
            .meta_call(|mut c| async move {
                c.get_configuration(alluxio_proto::grpc::meta::GetConfigurationPRequest {}).await
            })
            .await?
            .properties)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn transport(kind: std::io::ErrorKind) -> tonic::Status {
        tonic::Status::from_error(Box::new(std::io::Error::new(kind, "tcp connect error")))
    }

    #[test]
    fn only_transport_failures_count_as_connection_errors() {
        assert!(is_connect_error(&transport(std::io::ErrorKind::ConnectionRefused)));
        assert!(is_failover(&transport(std::io::ErrorKind::ConnectionReset)));
        // A master's answer that quotes a connection error (an unreachable UFS) is an answer.
        let quoted = tonic::Status::unavailable("UFS hdfs://nn:8020/ is not accessible: Connection refused");
        assert!(!is_connect_error(&quoted));
        assert!(!is_failover(&quoted));
        let quoted = tonic::Status::unknown("transport error: tcp connect timed out");
        assert!(!is_connect_error(&quoted));
    }

    #[test]
    fn standbys_and_lost_leaders_send_clients_to_another_master() {
        let standby = alluxio_proto::status::standby_status("m1:19998", Some("m2:19998"));
        assert!(is_failover(&standby) && !is_connect_error(&standby));
        assert_eq!(alluxio_proto::status::standby_refusal(&standby), Some(Some("m2:19998".to_owned())));
        let lost = alluxio_proto::status::failover_status("leadership lost".into(), None);
        assert!(is_failover(&lost));
        assert_eq!(alluxio_proto::status::standby_refusal(&lost), Some(None));
        // UNAVAILABLE for any other reason (safe mode, no worker) is retried in place, not failed over.
        assert!(!is_failover(&tonic::Status::unavailable("No Alluxio worker is available")));
        // The marker counts only on UNAVAILABLE.
        let mut odd = tonic::Status::not_found("x");
        odd.metadata_mut().insert(alluxio_proto::status::FAILOVER, tonic::metadata::MetadataValue::from_static("1"));
        assert!(!is_failover(&odd));
    }

    #[test]
    fn client_errors_keep_the_code_and_say_when_the_server_was_not_reached() {
        let e = ClientError::from(transport(std::io::ErrorKind::ConnectionRefused));
        assert!(e.message.starts_with("cannot reach the Alluxio server"), "{}", e.message);
        let e = ClientError::from(tonic::Status::not_found("Path \"/a\" does not exist."));
        assert_eq!((e.code, e.message.as_str()), (Code::NotFound, "Path \"/a\" does not exist."));
    }
}
