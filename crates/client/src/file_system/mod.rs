//! `FileSystem`: connections to the masters and workers, retries and failover; the calls
//! themselves are in `namespace` (metadata, streams) and `admin` (cluster operations).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use alluxio_common::status::Code;
use alluxio_common::version::{PROTOCOL_VERSION, VERSION};
use alluxio_common::Conf;
use alluxio_proto::grpc::block::block_master_client_service_client::BlockMasterClientServiceClient;
use alluxio_proto::grpc::block::block_worker_client::BlockWorkerClient;
use alluxio_proto::grpc::block::WorkerInfo;
use alluxio_proto::grpc::file::file_system_master_client_service_client::FileSystemMasterClientServiceClient;
use alluxio_proto::grpc::meta::meta_master_client_service_client::MetaMasterClientServiceClient;
use alluxio_proto::grpc::meta::service_version_client_service_client::ServiceVersionClientServiceClient;
use alluxio_proto::grpc::meta::GetServiceVersionPRequest;
use alluxio_proto::grpc::WorkerNetAddress;
use alluxio_proto::masters::MasterChannels;
use alluxio_proto::transport::{root_cause, tls_failure, Stream, Transport};
use alluxio_proto::version::VersionStamp;
use parking_lot::Mutex;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;

use crate::conf::ClientConf;
use crate::error::{ClientError, Result};

pub(crate) type Svc = InterceptedService<Channel, VersionStamp>;
pub(crate) type WorkerClient = BlockWorkerClient<Svc>;

mod admin;
mod namespace;

struct Inner {
    conf: ClientConf,
    /// One channel per address of `master_address`.
    masters: MasterChannels,
    workers: Mutex<HashMap<String, Channel>>,
    worker_list: Mutex<Option<(Instant, Vec<WorkerInfo>)>>,
    round_robin: std::sync::atomic::AtomicUsize,
    /// Idle connections to workers' block data ports.
    data_conns: Mutex<HashMap<String, Vec<Stream>>>,
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
    /// Set by [`FileSystem::impersonating`]: the user requests act for.
    acting_for: Option<Arc<str>>,
}

/// A failure of the connection itself, not an answer: tonic builds those from a transport error
/// it keeps as the source. A status a server sent never has a source, so a master's message
/// that quotes a connection error (an unreachable UFS, say) is not retried as one.
fn is_connect_error(e: &tonic::Status) -> bool {
    use std::error::Error;
    matches!(e.code(), tonic::Code::Unavailable | tonic::Code::Unknown | tonic::Code::Internal | tonic::Code::Cancelled)
        && e.source().is_some()
}

fn tls_failed(e: &tonic::Status) -> bool {
    std::error::Error::source(e).and_then(tls_failure).is_some()
}

/// Errors after which another master may answer: no connection, or a refusal marked as a
/// failover (a standby, or a leader that lost leadership before acknowledging).
fn is_failover(e: &tonic::Status) -> bool {
    is_connect_error(e) || alluxio_proto::status::standby_refusal(e).is_some()
}

impl FileSystem {
    /// Connects to the master named by the configuration and checks versions. With
    /// `alluxio.user.conf.cluster.default.enabled` (the default), client settings this
    /// configuration leaves at their defaults come from the masters' configuration, as in
    /// Alluxio: a write type set in the masters' site file applies to every client.
    pub async fn connect(conf: &Conf) -> Result<Self> {
        let mut fs = Self::connect_with(ClientConf::from_conf(conf)?).await?;
        if conf.get_bool("alluxio.user.conf.cluster.default.enabled")? {
            let cluster = fs.master_configuration().await?;
            let mut merged = conf.clone();
            // The masters' own defaults are this client's too: only what they were told.
            let told = cluster.into_iter().filter(|p| p.source != "DEFAULT").map(|p| (p.name, p.value));
            if !merged.merge_cluster_defaults(told).is_empty() {
                let mut with_defaults = ClientConf::from_conf(&merged)?;
                with_defaults.transport = fs.inner.conf.transport.clone();
                // Nothing else holds the connection yet.
                if let Some(inner) = Arc::get_mut(&mut fs.inner) {
                    inner.conf = with_defaults;
                }
            }
        }
        Ok(fs)
    }

    pub async fn connect_with(conf: ClientConf) -> Result<Self> {
        let masters = MasterChannels::new(&conf.master_address, Duration::from_secs(5), &conf.transport)
            .map_err(|e| ClientError::new(Code::InvalidArgument, e.to_string()))?;
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
            acting_for: None,
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
            match c
                .get_service_version(GetServiceVersionPRequest {
                    client_software_version: VERSION.into(),
                    client_protocol_version: PROTOCOL_VERSION,
                })
                .await
            {
                Ok(v) => break v.into_inner(),
                // Another master may answer; after a full round, wait a little. A failed TLS
                // handshake is a setting to fix, not worth waiting on.
                Err(e) if is_failover(&e) && Instant::now() < deadline && !tls_failed(&e) => {
                    self.follow(&e);
                    tried += 1;
                    if tried.is_multiple_of(self.inner.masters.len()) {
                        tokio::time::sleep(Duration::from_millis(200)).await;
                    }
                }
                Err(e) if is_failover(&e) && !is_connect_error(&e) => return Err(e.into()),
                Err(e) if is_connect_error(&e) => {
                    if let Some(why) = std::error::Error::source(&e).and_then(tls_failure) {
                        return Err(ClientError::new(Code::Unavailable, why));
                    }
                    return Err(ClientError::new(
                        Code::Unavailable,
                        format!(
                            "cannot connect to the Alluxio master at {} (alluxio.master.rpc.addresses, or alluxio.master.hostname and alluxio.master.rpc.port): is it running? ({})",
                            self.inner.conf.master_address,
                            std::error::Error::source(&e).map_or_else(|| e.message().to_owned(), root_cause)
                        ),
                    ));
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
        let acting_for = self.acting_for.as_deref().or(self.inner.conf.impersonation.as_deref());
        VersionStamp::new(Some(&self.inner.conf.user)).acting_for(acting_for)
    }

    /// This connection acting for `user` (impersonation): what a gateway does for its end
    /// users. Shares the connections; the master allows it only as its
    /// `alluxio.master.security.impersonation.*` properties say (or for a superuser).
    pub fn impersonating(&self, user: &str) -> FileSystem {
        let acting_for = (user != self.inner.conf.user).then(|| Arc::from(user));
        FileSystem { inner: self.inner.clone(), acting_for }
    }

    /// The user requests act for: the impersonated user, else the login user.
    pub fn user(&self) -> &str {
        self.acting_for.as_deref().or(self.inner.conf.impersonation.as_deref()).unwrap_or(&self.inner.conf.user)
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
                    let ep = Transport::endpoint(&key)
                        .map_err(|e| ClientError::new(Code::InvalidArgument, format!("bad worker address {key}: {e}")))?
                        .connect_timeout(Duration::from_secs(5))
                        .tcp_nodelay(true)
                        .initial_stream_window_size(Some(8 << 20))
                        .initial_connection_window_size(Some(32 << 20))
                        // Block data: large HTTP/2 frames, not 16 KiB ones.
                        .max_frame_size(Some(1 << 20));
                    let c = self.inner.conf.transport.channel(&ep);
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

    /// An idle connection to the block data port `key`, if one is pooled.
    pub(crate) fn take_data_conn(&self, key: &str) -> Option<Stream> {
        self.inner.data_conns.lock().get_mut(key).and_then(Vec::pop)
    }

    /// Returns a connection whose response was read completely.
    pub(crate) fn return_data_conn(&self, key: String, c: Stream) {
        let mut m = self.inner.data_conns.lock();
        let v = m.entry(key).or_default();
        if v.len() < 4 {
            v.push(c);
        }
    }

    /// The next position of the round-robin write policy.
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
