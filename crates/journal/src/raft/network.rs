//! Masters talking to each other on the embedded journal port: openraft's messages over
//! [`wire`] connections, and the gRPC `RaftJournalService` for the rarer questions (who are
//! you, let me join, start an election).

use std::sync::Arc;
use std::time::{Duration, Instant};

use alluxio_proto::grpc::journal::raft_journal_service_client::RaftJournalServiceClient;
use alluxio_proto::grpc::journal::raft_journal_service_server::RaftJournalService;
use alluxio_proto::grpc::journal::*;
use alluxio_proto::transport::Transport;
use openraft::error::{InstallSnapshotError, NetworkError, RPCError, RaftError, RemoteError, Unreachable};
use openraft::network::{RPCOption, RaftNetwork, RaftNetworkFactory};
use openraft::raft::{
    AppendEntriesRequest, AppendEntriesResponse, InstallSnapshotRequest, InstallSnapshotResponse, VoteRequest,
    VoteResponse,
};
use openraft::{AnyError, BasicNode, Raft};
use tonic::transport::Channel;
use tonic::{Request, Response, Status};

use super::{wire, RaftJournal, Shared, TypeConfig};

type RpcErr<E = openraft::error::Infallible> = RPCError<u64, BasicNode, RaftError<u64, E>>;

fn channel(transport: &Transport, addr: &str, timeout: Duration) -> Result<Channel, Status> {
    let ep = Transport::endpoint(addr)
        .map_err(|e| Status::invalid_argument(format!("bad embedded journal address {addr}: {e}")))?
        .connect_timeout(timeout)
        .tcp_nodelay(true);
    Ok(transport.channel(&ep))
}

fn client(transport: &Transport, addr: &str) -> Result<RaftJournalServiceClient<Channel>, Status> {
    Ok(RaftJournalServiceClient::new(channel(transport, addr, Duration::from_secs(1))?))
}

/// Creates one [`Peer`] per member openraft replicates to.
pub struct Network {
    pub(crate) shared: Arc<Shared>,
}

impl RaftNetworkFactory<TypeConfig> for Network {
    type Network = Peer;
    async fn new_client(&mut self, target: u64, node: &BasicNode) -> Peer {
        Peer { target, addr: node.addr.clone(), conn: None, shared: self.shared.clone() }
    }
}

/// The connection to one other master, opened on first use and again after any failure.
pub struct Peer {
    target: u64,
    addr: String,
    conn: Option<wire::Connection>,
    shared: Arc<Shared>,
}

fn unreachable<E: std::error::Error>(e: impl std::fmt::Display) -> RPCError<u64, BasicNode, RaftError<u64, E>> {
    RPCError::Unreachable(Unreachable::new(&AnyError::error(e.to_string())))
}

impl Peer {
    async fn call<Req: serde::Serialize, Resp: serde::de::DeserializeOwned, E>(
        &mut self,
        kind: wire::Kind,
        req: &Req,
        ttl: Duration,
    ) -> Result<Resp, RPCError<u64, BasicNode, RaftError<u64, E>>>
    where
        E: std::error::Error + serde::de::DeserializeOwned,
    {
        let data = bincode::serialize(req).map_err(|e| RPCError::Network(NetworkError::new(&e)))?;
        let (addr, conn, transport) = (&self.addr, &mut self.conn, &self.shared.opts.transport);
        let exchange = async {
            if conn.is_none() {
                *conn = Some(wire::Connection::open(transport, addr).await?);
            }
            let c = conn.as_mut().expect("just opened");
            let body = c.call(kind, &data).await?;
            Ok::<_, std::io::Error>(bincode::deserialize::<Result<Resp, RaftError<u64, E>>>(body))
        };
        let decoded = match tokio::time::timeout(ttl, exchange).await {
            Ok(Ok(d)) => d,
            Ok(Err(e)) => {
                self.conn = None;
                return Err(unreachable(format!("{}: {e}", self.addr)));
            }
            Err(_) => {
                // The answer may still arrive: the connection cannot be reused.
                self.conn = None;
                return Err(unreachable(format!("no answer from {} within {ttl:?}", self.addr)));
            }
        };
        self.shared.seen.lock().insert(self.target, Instant::now());
        let r = decoded.map_err(|e| RPCError::Network(NetworkError::new(&e)))?;
        r.map_err(|e| RPCError::RemoteError(RemoteError::new(self.target, e)))
    }
}

impl RaftNetwork<TypeConfig> for Peer {
    async fn append_entries(
        &mut self,
        rpc: AppendEntriesRequest<TypeConfig>,
        option: RPCOption,
    ) -> Result<AppendEntriesResponse<u64>, RpcErr> {
        self.call(wire::Kind::AppendEntries, &rpc, option.hard_ttl()).await
    }

    async fn install_snapshot(
        &mut self,
        rpc: InstallSnapshotRequest<TypeConfig>,
        option: RPCOption,
    ) -> Result<InstallSnapshotResponse<u64>, RpcErr<InstallSnapshotError>> {
        self.call(wire::Kind::InstallSnapshot, &rpc, option.hard_ttl()).await
    }

    async fn vote(&mut self, rpc: VoteRequest<u64>, option: RPCOption) -> Result<VoteResponse<u64>, RpcErr> {
        self.call(wire::Kind::Vote, &rpc, option.hard_ttl()).await
    }
}

/// `NodeInfo` of the master at `addr` (embedded journal address).
pub async fn node_info(transport: &Transport, addr: &str) -> Result<NodeInfoPResponse, Status> {
    let mut c = client(transport, addr)?;
    match tokio::time::timeout(Duration::from_secs(2), c.node_info(NodeInfoPRequest {})).await {
        Ok(r) => Ok(r?.into_inner()),
        Err(_) => Err(Status::unavailable(format!("no answer from {addr}"))),
    }
}

/// Why a join failed.
#[derive(Debug, thiserror::Error)]
pub enum JoinError {
    #[error("{} is not the leader", .0.as_deref().unwrap_or("the master asked"))]
    NotLeader(Option<String>),
    #[error("{0}")]
    Failed(String),
}

/// Asks the master at `addr` to add `me` to the quorum.
pub async fn join(transport: &Transport, addr: &str, me: &str, rpc_address: &str) -> Result<(), JoinError> {
    let mut c = client(transport, addr).map_err(|e| JoinError::Failed(e.message().to_owned()))?;
    let req = JoinPRequest { journal_address: me.to_owned(), rpc_address: rpc_address.to_owned() };
    match c.join(req).await {
        Ok(_) => Ok(()),
        Err(s) if s.code() == tonic::Code::FailedPrecondition && s.message().starts_with("not the leader") => {
            let leader = s.message().strip_prefix("not the leader; leader: ").map(str::to_owned);
            Err(JoinError::NotLeader(leader))
        }
        Err(s) => Err(JoinError::Failed(s.message().to_owned())),
    }
}

/// Asks the master at `addr` to start an election now.
pub async fn elect(transport: &Transport, addr: &str) -> Result<(), tonic::Status> {
    let mut c = client(transport, addr)?;
    c.elect(ElectPRequest {}).await.map(|_| ())
}

/// Answers other masters on the embedded journal port.
pub struct RaftService {
    pub journal: Arc<RaftJournal>,
}

impl RaftService {
    fn raft(&self) -> &Raft<TypeConfig> {
        &self.journal.raft
    }
}

#[tonic::async_trait]
impl RaftJournalService for RaftService {
    async fn node_info(&self, _req: Request<NodeInfoPRequest>) -> Result<Response<NodeInfoPResponse>, Status> {
        let initialized = self.raft().is_initialized().await.map_err(|e| Status::unavailable(e.to_string()))?;
        Ok(Response::new(NodeInfoPResponse {
            initialized,
            rpc_address: self.journal.shared.opts.rpc_address.clone(),
            journal_address: self.journal.shared.opts.address.clone(),
            leader_journal_address: self.journal.leader_address().unwrap_or_default(),
        }))
    }

    async fn join(&self, req: Request<JoinPRequest>) -> Result<Response<JoinPResponse>, Status> {
        let r = req.into_inner();
        let m = self.raft().metrics().borrow().clone();
        if m.current_leader != Some(self.journal.shared.me) {
            let leader = self.journal.leader_address().unwrap_or_default();
            return Err(Status::failed_precondition(format!("not the leader; leader: {leader}")));
        }
        if !r.rpc_address.is_empty() {
            self.journal.shared.rpc_addresses.lock().insert(super::node_id(&r.journal_address), r.rpc_address);
        }
        self.journal.add_member(&r.journal_address).await.map_err(|e| Status::unavailable(e.to_string()))?;
        Ok(Response::new(JoinPResponse { leader_journal_address: self.journal.address().to_owned() }))
    }

    async fn elect(&self, _req: Request<ElectPRequest>) -> Result<Response<ElectPResponse>, Status> {
        tracing::info!("asked to take over the embedded journal leadership: starting an election");
        self.raft().trigger().elect().await.map_err(|e| Status::unavailable(e.to_string()))?;
        Ok(Response::new(ElectPResponse {}))
    }
}
