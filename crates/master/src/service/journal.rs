//! `JournalMasterClientService`: `alluxio fsadmin journal quorum info|remove|elect`.

use std::sync::Arc;

use alluxio_journal::raft::RaftJournal;
use alluxio_proto::grpc::journal::journal_master_client_service_server::JournalMasterClientService;
use alluxio_proto::grpc::journal::*;
use alluxio_proto::status::to_status;
use tonic::{Request, Response, Status};

/// Quorum administration; refused unless the journal is EMBEDDED.
pub struct JournalService {
    pub raft: Option<Arc<RaftJournal>>,
    /// Changing the quorum is the superuser's.
    pub gate: super::SuperuserGate,
}

impl JournalService {
    #[allow(clippy::result_large_err)]
    fn raft(&self, domain: i32) -> Result<&Arc<RaftJournal>, Status> {
        if domain == JournalDomain::JobMaster as i32 {
            return Err(Status::unimplemented("-domain JOB_MASTER: this cluster runs no job master"));
        }
        self.raft.as_ref().ok_or_else(|| {
            Status::failed_precondition(
                "quorum commands need alluxio.master.journal.type=EMBEDDED; this master journals to a UFS folder",
            )
        })
    }
}

#[tonic::async_trait]
impl JournalMasterClientService for JournalService {
    async fn get_quorum_info(
        &self,
        req: Request<GetQuorumInfoPRequest>,
    ) -> Result<Response<GetQuorumInfoPResponse>, Status> {
        let j = self.raft(req.get_ref().domain)?;
        let server_info = j
            .quorum()
            .into_iter()
            .map(|(address, available, is_leader)| QuorumServerInfo {
                server_address: address,
                server_state: if available { QuorumServerState::Available } else { QuorumServerState::Unavailable }
                    as i32,
                priority: 0,
                is_leader,
            })
            .collect();
        Ok(Response::new(GetQuorumInfoPResponse { domain: JournalDomain::Master as i32, server_info }))
    }

    async fn remove_quorum_server(
        &self,
        req: Request<RemoveQuorumServerPRequest>,
    ) -> Result<Response<RemoveQuorumServerPResponse>, Status> {
        self.gate.check(&req).await?;
        let r = req.into_inner();
        self.raft(r.domain)?.remove_member(&r.server_address).await.map_err(to_status)?;
        Ok(Response::new(RemoveQuorumServerPResponse {}))
    }

    async fn transfer_leadership(
        &self,
        req: Request<TransferLeadershipPRequest>,
    ) -> Result<Response<TransferLeadershipPResponse>, Status> {
        self.gate.check(&req).await?;
        let r = req.into_inner();
        self.raft(r.domain)?.transfer_leadership(&r.server_address).await.map_err(to_status)?;
        Ok(Response::new(TransferLeadershipPResponse { transfer_id: String::new() }))
    }
}
