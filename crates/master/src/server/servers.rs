//! The master's servers: gRPC for clients and workers (gated on being primary), the web UI,
//! and the embedded journal's port (Raft messages, backup delegation).

use std::sync::Arc;

use alluxio_journal::raft::RaftJournal;
use alluxio_proto::grpc::block::block_master_client_service_server::BlockMasterClientServiceServer;
use alluxio_proto::grpc::block::block_master_worker_service_server::BlockMasterWorkerServiceServer;
use alluxio_proto::grpc::file::file_system_master_client_service_server::FileSystemMasterClientServiceServer;
use alluxio_proto::grpc::journal::journal_master_client_service_server::JournalMasterClientServiceServer;
use alluxio_proto::grpc::journal::raft_journal_service_server::RaftJournalServiceServer;
use alluxio_proto::grpc::meta::meta_master_client_service_server::MetaMasterClientServiceServer;
use alluxio_proto::grpc::meta::meta_master_master_service_server::MetaMasterMasterServiceServer;
use alluxio_proto::grpc::meta::service_version_client_service_server::ServiceVersionClientServiceServer;
use alluxio_proto::transport::Transport;
use alluxio_proto::version::check_version;
use tokio::sync::watch;
use tonic::service::interceptor::InterceptedService;

use super::Gate;
use crate::fs::FileSystemMaster;
use crate::service::{block::BlockService, fs::FsService, journal::JournalService, meta::MetaService};
use crate::MasterError;

fn listener(l: std::net::TcpListener) -> Result<tokio::net::TcpListener, MasterError> {
    let addr = l.local_addr().map(|a| a.to_string()).unwrap_or_default();
    tokio::net::TcpListener::from_std(l).map_err(MasterError::io("listen on", addr))
}

/// The web UI and JSON endpoints, until `stop` turns true.
pub(super) fn serve_web(
    l: std::net::TcpListener,
    state: crate::web::WebState,
    transport: &Transport,
    mut stop: watch::Receiver<bool>,
) -> Result<(), MasterError> {
    let l = transport.incoming(listener(l)?);
    let web = crate::web::router(state);
    tokio::spawn(async move {
        let _ = axum::serve(l, web)
            .with_graceful_shutdown(async move {
                let _ = stop.changed().await;
            })
            .await;
    });
    Ok(())
}

/// The embedded journal's port: Raft's own messages are answered on their connections; gRPC
/// (Raft's services and backup delegation between masters) gets the others.
pub(super) fn serve_raft(
    l: std::net::TcpListener,
    raft: &Arc<RaftJournal>,
    master: &Arc<FileSystemMaster>,
    meta: &MetaService,
    transport: &Transport,
    stop: watch::Receiver<bool>,
) -> Result<(), MasterError> {
    let l = listener(l)?;
    let svc = alluxio_journal::raft::network::RaftService { journal: raft.clone() };
    let delegate = crate::service::meta::BackupDelegate {
        master: master.clone(),
        backups: meta.backups.clone(),
        raft: raft.clone(),
    };
    let mut raft_stop = stop.clone();
    let grpc = alluxio_journal::raft::wire::split_incoming(l, transport.clone(), raft.clone(), stop);
    tokio::spawn(async move {
        let r = tonic::transport::Server::builder()
            .tcp_nodelay(true)
            .add_service(MetaMasterMasterServiceServer::new(delegate))
            .add_service(RaftJournalServiceServer::new(svc))
            .serve_with_incoming_shutdown(tokio_stream::wrappers::ReceiverStream::new(grpc), async move {
                let _ = raft_stop.changed().await;
            })
            .await;
        if let Err(e) = r {
            tracing::error!("embedded journal server failed: {e}");
        }
    });
    Ok(())
}

/// The services clients and workers call.
pub(super) struct Services {
    pub fs: FsService,
    pub block: Arc<BlockService>,
    pub meta: Arc<MetaService>,
    pub journal: JournalService,
}

/// Serves the client and worker RPCs until `shutdown` completes. Every call has its version
/// checked and is refused by a standby.
pub(super) async fn serve_rpc(
    l: std::net::TcpListener,
    s: Services,
    gate: Gate,
    transport: &Transport,
    shutdown: impl std::future::Future<Output = ()>,
) -> Result<(), MasterError> {
    let l = listener(l)?;
    let big = 64 << 20;
    let gated = move |req: tonic::Request<()>| check_version(req).and_then(|r| gate.check(r));
    let server = tonic::transport::Server::builder()
        .tcp_nodelay(true)
        .add_service(InterceptedService::new(
            FileSystemMasterClientServiceServer::new(s.fs)
                .max_decoding_message_size(big)
                .max_encoding_message_size(big),
            gated.clone(),
        ))
        .add_service(InterceptedService::new(
            BlockMasterWorkerServiceServer::from_arc(s.block.clone()).max_decoding_message_size(big),
            gated.clone(),
        ))
        .add_service(InterceptedService::new(BlockMasterClientServiceServer::from_arc(s.block), gated.clone()))
        .add_service(InterceptedService::new(MetaMasterClientServiceServer::from_arc(s.meta.clone()), gated.clone()))
        .add_service(InterceptedService::new(ServiceVersionClientServiceServer::from_arc(s.meta), gated.clone()))
        .add_service(InterceptedService::new(JournalMasterClientServiceServer::new(s.journal), gated))
        .serve_with_incoming_shutdown(transport.incoming(l), shutdown);
    Ok(server.await?)
}
