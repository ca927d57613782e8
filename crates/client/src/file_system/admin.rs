//! Cluster calls for operators: master and worker information, decommissioning, checkpoints,
//! backups, the embedded journal's quorum, configuration.

use alluxio_proto::grpc::block::{BlockMasterInfo, GetBlockMasterInfoPRequest, GetWorkerInfoListPRequest, WorkerInfo};
use alluxio_proto::grpc::meta::service_version_client_service_client::ServiceVersionClientServiceClient;
use alluxio_proto::grpc::meta::{CheckpointPRequest, GetMasterInfoPRequest, MasterInfo, PingPRequest};

use alluxio_common::status::Code;

use super::{FileSystem, Svc};
use crate::error::{ClientError, Result};

impl FileSystem {
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
    /// `fsadmin updateConf`: changes client settings on the master at run time; per key,
    /// whether it changed and, if not, why.
    pub async fn update_configuration(
        &self,
        properties: std::collections::HashMap<String, String>,
    ) -> Result<alluxio_proto::grpc::meta::UpdateConfigurationPResponse> {
        self.meta_call(|mut c| {
            let properties = properties.clone();
            async move {
                c.update_configuration(alluxio_proto::grpc::meta::UpdateConfigurationPRequest { properties }).await
            }
        })
        .await
    }

    pub async fn master_configuration(&self) -> Result<Vec<alluxio_proto::grpc::meta::ConfigProperty>> {
        Ok(self
            .meta_call(|mut c| async move {
                c.get_configuration(alluxio_proto::grpc::meta::GetConfigurationPRequest {}).await
            })
            .await?
            .properties)
    }
}
