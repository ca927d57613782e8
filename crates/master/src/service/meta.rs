use std::sync::Arc;

use alluxio_common::version::{JOURNAL_FORMAT_VERSION, MIN_PROTOCOL_VERSION, PROTOCOL_VERSION, VERSION};
use alluxio_common::Conf;
use alluxio_proto::grpc::meta::meta_master_client_service_server::MetaMasterClientService;
use alluxio_proto::grpc::meta::service_version_client_service_server::ServiceVersionClientService;
use alluxio_proto::grpc::meta::*;
use tonic::{Request, Response, Status};

use crate::fs::FileSystemMaster;

/// `MetaMasterClientService` and `ServiceVersionClientService`.
pub struct MetaService {
    pub master: Arc<FileSystemMaster>,
    pub backups: Arc<crate::backup::Backups>,
    pub conf: Arc<Conf>,
    pub address: String,
    pub rpc_port: i32,
    pub web_port: i32,
    pub start_time_ms: i64,
    /// The embedded journal, when masters form a quorum.
    pub raft: Option<Arc<alluxio_journal::raft::RaftJournal>>,
    /// `alluxio.master.backup.delegation.enabled`: standbys take backups.
    pub delegation: bool,
    /// Checkpoints and backups are the superuser's.
    pub gate: super::SuperuserGate,
    /// Client settings changed at run time (`fsadmin updateConf`), handed to clients as
    /// cluster defaults until the master restarts (as in Alluxio, not journaled).
    pub runtime: parking_lot::RwLock<std::collections::BTreeMap<String, String>>,
}

impl MetaService {
    /// Whether `key` may take `value` at run time.
    fn check_update(&self, key: &str, value: &str) -> Result<(), String> {
        if !alluxio_common::conf::is_cluster_default(key) {
            return Err(format!(
                "{key} cannot change at run time: only client settings (alluxio.user.*) can; set it in \
                 alluxio-site.properties and restart"
            ));
        }
        let mut with = (*self.conf).clone();
        with.set(key, value);
        with.validate().map_err(|e| e.to_string())
    }

    /// Asks each available standby in turn to take the backup; with none, the leader takes it
    /// only if the request allows it (`--allow-leader`).
    async fn delegate_backup(
        &self,
        j: &Arc<alluxio_journal::raft::RaftJournal>,
        o: BackupPOptions,
    ) -> Result<BackupPStatus, Status> {
        use alluxio_proto::grpc::meta::meta_master_master_service_client::MetaMasterMasterServiceClient;
        let index = j.applied_index();
        let mut tried = Vec::new();
        for standby in j.available_standbys() {
            let transport = self.master.workers.transport();
            let ch = match alluxio_proto::transport::Transport::endpoint(&standby) {
                Ok(e) => transport.channel(&e.connect_timeout(std::time::Duration::from_secs(2))),
                Err(_) => continue,
            };
            let req = DelegateBackupPRequest { options: Some(o.clone()), applied_index: index };
            match MetaMasterMasterServiceClient::new(ch).delegate_backup(req).await {
                Ok(r) => {
                    let status = r.into_inner();
                    tracing::info!("backup taken by standby {standby}: {}", status.backup_uri);
                    self.backups.set(status.clone());
                    return Ok(status);
                }
                Err(e) => tried.push(format!("{standby}: {}", e.message())),
            }
        }
        if !o.allow_leader {
            return Err(Status::failed_precondition(format!(
                "no standby master could take the backup (alluxio.master.backup.delegation.enabled=true{}); \
                 run `alluxio fsadmin backup --allow-leader` to take it on the leading master",
                if tried.is_empty() { String::new() } else { format!("; {}", tried.join("; ")) }
            )));
        }
        let request = crate::backup::BackupRequest { directory: o.target_directory, local: o.local_file_system };
        Ok(crate::backup::start_backup(self.master.clone(), self.backups.clone(), request, !o.run_async).await?)
    }
}

/// `MetaMasterMasterService` on a standby: takes a backup for the leader.
pub struct BackupDelegate {
    pub master: Arc<FileSystemMaster>,
    pub backups: Arc<crate::backup::Backups>,
    pub raft: Arc<alluxio_journal::raft::RaftJournal>,
}

#[tonic::async_trait]
impl alluxio_proto::grpc::meta::meta_master_master_service_server::MetaMasterMasterService for BackupDelegate {
    async fn delegate_backup(&self, req: Request<DelegateBackupPRequest>) -> Result<Response<BackupPStatus>, Status> {
        let r = req.into_inner();
        if !self.raft.wait_applied(r.applied_index, std::time::Duration::from_secs(30)).await {
            return Err(Status::unavailable(format!(
                "this standby did not catch up to journal index {} within 30 s",
                r.applied_index
            )));
        }
        let o = r.options.unwrap_or_default();
        let request = crate::backup::BackupRequest { directory: o.target_directory, local: o.local_file_system };
        let status = crate::backup::start_backup(self.master.clone(), self.backups.clone(), request, true).await?;
        if status.backup_state == BackupState::Failed as i32 {
            return Err(Status::internal(status.error));
        }
        Ok(Response::new(status))
    }
}

#[tonic::async_trait]
impl MetaMasterClientService for MetaService {
    async fn get_master_info(
        &self,
        _req: Request<GetMasterInfoPRequest>,
    ) -> Result<Response<GetMasterInfoPResponse>, Status> {
        let workers = self
            .master
            .blocks
            .live_workers()
            .into_iter()
            .map(|w| format!("{}:{}", w.address.host, w.address.rpc_port))
            .collect();
        let cluster_id = self.master.namespace().cluster_id().to_owned();
        // The leader first, then the standbys (RPC addresses of members whose address is known).
        let mut master_addresses = vec![self.address.clone()];
        if let Some(j) = &self.raft {
            for (journal_address, _, _) in j.quorum() {
                match j.rpc_address_of(&journal_address) {
                    Some(a) if a != self.address => master_addresses.push(a),
                    Some(_) => {}
                    None => master_addresses.push(journal_address),
                }
            }
        }
        Ok(Response::new(GetMasterInfoPResponse {
            master_info: Some(MasterInfo {
                leader_master_address: self.address.clone(),
                master_addresses,
                rpc_port: self.rpc_port,
                safe_mode: self.master.blocks.in_safe_mode(),
                start_time_ms: self.start_time_ms,
                up_time_ms: alluxio_common::now_ms() - self.start_time_ms,
                version: VERSION.into(),
                web_port: self.web_port,
                worker_addresses: workers,
                cluster_id,
                journal_format_version: JOURNAL_FORMAT_VERSION,
                journal_type: self.master.journal().kind().into(),
                journal_sequence_number: self.master.journal().next_sequence(),
                last_checkpoint_sequence_number: self.master.last_checkpoint(),
            }),
        }))
    }

    async fn checkpoint(&self, req: Request<CheckpointPRequest>) -> Result<Response<CheckpointPResponse>, Status> {
        self.gate.check(&req).await?;
        if let Some(j) = &self.raft {
            let index = j.snapshot_now().await.map_err(alluxio_proto::status::to_status)?;
            return Ok(Response::new(CheckpointPResponse {
                master_hostname: self.address.clone(),
                sequence_number: index as i64,
            }));
        }
        let m = self.master.clone();
        let seq = tokio::task::spawn_blocking(move || m.checkpoint_blocking())
            .await
            .map_err(|e| Status::internal(e.to_string()))??;
        Ok(Response::new(CheckpointPResponse { master_hostname: self.address.clone(), sequence_number: seq }))
    }

    async fn backup(&self, req: Request<BackupPRequest>) -> Result<Response<BackupPStatus>, Status> {
        self.gate.check(&req).await?;
        let o = req.into_inner().options.unwrap_or_default();
        if let Some(j) = self.raft.as_ref().filter(|_| self.delegation) {
            return self.delegate_backup(j, o).await.map(Response::new);
        }
        let request = crate::backup::BackupRequest { directory: o.target_directory, local: o.local_file_system };
        let status =
            crate::backup::start_backup(self.master.clone(), self.backups.clone(), request, !o.run_async).await?;
        Ok(Response::new(status))
    }

    async fn get_backup_status(&self, req: Request<BackupStatusPRequest>) -> Result<Response<BackupPStatus>, Status> {
        let id = req.into_inner().backup_id;
        match self.backups.status(&id) {
            Some(s) => Ok(Response::new(s)),
            None => Err(Status::not_found(format!(
                "Backup {id} is not known to this master (lost in a failover or restart)"
            ))),
        }
    }

    async fn get_configuration(
        &self,
        _req: Request<GetConfigurationPRequest>,
    ) -> Result<Response<GetConfigurationPResponse>, Status> {
        let runtime = self.runtime.read().clone();
        let properties = self
            .conf
            .all()
            .into_iter()
            .filter_map(|(k, v, s)| match runtime.get(&k) {
                Some(r) => Some(ConfigProperty { value: r.clone(), name: k, source: "RUNTIME".into() }),
                None => v.map(|v| ConfigProperty {
                    value: if crate::fs::option_is_secret(&k) { "******".into() } else { v },
                    name: k,
                    source: s.to_string(),
                }),
            })
            .collect();
        Ok(Response::new(GetConfigurationPResponse { properties }))
    }

    /// `fsadmin updateConf`: the superuser changes client settings the masters hand out; every
    /// other key is refused with the reason (it is read once, at start).
    async fn update_configuration(
        &self,
        req: Request<UpdateConfigurationPRequest>,
    ) -> Result<Response<UpdateConfigurationPResponse>, Status> {
        self.gate.check(&req).await?;
        let mut out = UpdateConfigurationPResponse::default();
        for (key, value) in req.into_inner().properties {
            match self.check_update(&key, &value) {
                Ok(()) => {
                    tracing::info!("configuration updated at run time: {key}={value}");
                    self.runtime.write().insert(key.clone(), value);
                    out.status.insert(key, true);
                }
                Err(why) => {
                    out.status.insert(key.clone(), false);
                    out.reasons.insert(key, why);
                }
            }
        }
        Ok(Response::new(out))
    }
}

#[tonic::async_trait]
impl ServiceVersionClientService for MetaService {
    async fn get_service_version(
        &self,
        _req: Request<GetServiceVersionPRequest>,
    ) -> Result<Response<GetServiceVersionPResponse>, Status> {
        Ok(Response::new(GetServiceVersionPResponse {
            software_version: VERSION.into(),
            protocol_version: PROTOCOL_VERSION,
            min_protocol_version: MIN_PROTOCOL_VERSION,
        }))
    }

    async fn ping(&self, _req: Request<PingPRequest>) -> Result<Response<PingPResponse>, Status> {
        Ok(Response::new(PingPResponse {}))
    }
}
