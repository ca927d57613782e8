use std::collections::BTreeMap;
use std::sync::Arc;

use alluxio_proto::grpc::block::block_master_client_service_server::BlockMasterClientService;
use alluxio_proto::grpc::block::block_master_worker_service_server::BlockMasterWorkerService;
use alluxio_proto::grpc::block::*;
use alluxio_proto::grpc::{BlockInfo, BlockLocation};
use tonic::{Request, Response, Status};

use crate::fs::FileSystemMaster;
use crate::registration::{self, MasterSide, WorkerSide};

/// `BlockMasterWorkerService` and `BlockMasterClientService`.
pub struct BlockService {
    pub master: Arc<FileSystemMaster>,
}

impl BlockService {
    /// Decides whether a worker may join this cluster (see [`registration::check`]); on yes,
    /// the cluster id it is to keep.
    fn admit(
        &self,
        address: &str,
        worker_cluster: &str,
        block_count: usize,
        unknown: &[i64],
    ) -> Result<String, Status> {
        let ns = self.master.namespace();
        let m = MasterSide {
            cluster_id: ns.cluster_id(),
            container_reserved: ns.ids().container_reserved,
            has_files: ns.inode_count() > 1,
            durable: self.master.journal().kind() != "NOOP",
        };
        let w = WorkerSide { address, cluster_id: worker_cluster, block_count, unknown };
        if let Err(refusal) = registration::check(m, w) {
            tracing::error!("{refusal}");
            let mut status = Status::failed_precondition(refusal.to_string());
            status.metadata_mut().insert(alluxio_proto::status::WORKER_REFUSED, "1".parse().expect("ASCII"));
            return Err(status);
        }
        Ok(ns.cluster_id().to_owned())
    }
}

#[tonic::async_trait]
impl BlockMasterWorkerService for BlockService {
    async fn get_worker_id(&self, req: Request<GetWorkerIdPRequest>) -> Result<Response<GetWorkerIdPResponse>, Status> {
        let addr =
            req.into_inner().worker_net_address.ok_or_else(|| Status::invalid_argument("worker address missing"))?;
        Ok(Response::new(GetWorkerIdPResponse { worker_id: self.master.blocks.worker_id_for(&addr) }))
    }

    async fn register_worker(
        &self,
        req: Request<RegisterWorkerPRequest>,
    ) -> Result<Response<RegisterWorkerPResponse>, Status> {
        let r = req.into_inner();
        let address = r.address.ok_or_else(|| Status::invalid_argument("worker address missing"))?;
        let master = self.master.clone();
        let lists = r.current_blocks;
        // Classifying 100k+ blocks takes the namespace read lock in one go, off the async workers.
        let Reported { keep, remove, protected } = tokio::task::spawn_blocking(move || classify(&master, lists))
            .await
            .map_err(|e| Status::internal(e.to_string()))?;
        let block_count = keep.iter().map(|(_, ids)| ids.len()).sum::<usize>() + remove.len();
        let worker_address = format!("{}:{}", address.host, address.rpc_port);
        let cluster_id = self.admit(&worker_address, &r.cluster_id, block_count, &remove)?;
        if !remove.is_empty() {
            tracing::info!(
                "worker {}:{} reported {} blocks of no file; it will delete them",
                address.host,
                address.rpc_port,
                remove.len()
            );
        }
        let ok = self.master.blocks.register(
            r.worker_id,
            address,
            r.total_bytes_on_tiers.into_iter().collect::<BTreeMap<_, _>>(),
            r.used_bytes_on_tiers.into_iter().collect::<BTreeMap<_, _>>(),
            keep,
            r.version,
        );
        if !ok {
            return Err(Status::not_found(format!(
                "worker id {} is unknown to this master; ask for a new id",
                r.worker_id
            )));
        }
        Ok(Response::new(RegisterWorkerPResponse {
            protected_block_ids: protected,
            remove_block_ids: remove,
            cluster_id,
        }))
    }

    async fn block_heartbeat(
        &self,
        req: Request<BlockHeartbeatPRequest>,
    ) -> Result<Response<BlockHeartbeatPResponse>, Status> {
        let r = req.into_inner();
        let added = r.added_blocks.into_iter().map(|l| (l.tier_alias, l.block_ids)).collect();
        let cmds = self.master.blocks.heartbeat(
            r.worker_id,
            r.used_bytes_on_tiers.into_iter().collect(),
            added,
            &r.removed_block_ids,
        );
        Ok(Response::new(match cmds {
            None => BlockHeartbeatPResponse { command_type: CommandType::Register as i32, ..Default::default() },
            Some(c) => BlockHeartbeatPResponse {
                command_type: if c.remove.is_empty() { CommandType::Nothing } else { CommandType::Free } as i32,
                remove_block_ids: c.remove,
                protect_block_ids: c.protect,
                unprotect_block_ids: c.unprotect,
            },
        }))
    }

    async fn worker_leaving(
        &self,
        req: Request<WorkerLeavingPRequest>,
    ) -> Result<Response<WorkerLeavingPResponse>, Status> {
        let id = req.into_inner().worker_id;
        if let Some(address) = self.master.blocks.mark_lost(id) {
            tracing::info!("worker {}:{} is stopping: no new data goes there", address.host, address.rpc_port);
        }
        Ok(Response::new(WorkerLeavingPResponse {}))
    }

    async fn commit_block(&self, req: Request<CommitBlockPRequest>) -> Result<Response<CommitBlockPResponse>, Status> {
        let r = req.into_inner();
        let (known, _) = self.master.classify_blocks(&[r.block_id]);
        let known = known.first().copied().unwrap_or(false);
        if known && !self.master.blocks.commit(r.worker_id, r.block_id, &r.tier_alias, r.used_bytes_on_tier) {
            // Not an error of the block: the worker keeps it to report after it registers.
            return Err(Status::not_found(format!("worker {} is not registered with this master", r.worker_id)));
        }
        Ok(Response::new(CommitBlockPResponse { known }))
    }
}

#[tonic::async_trait]
impl BlockMasterClientService for BlockService {
    async fn get_worker_info_list(
        &self,
        req: Request<GetWorkerInfoListPRequest>,
    ) -> Result<Response<GetWorkerInfoListPResponse>, Status> {
        let include_lost = req.into_inner().include_lost;
        Ok(Response::new(GetWorkerInfoListPResponse { worker_infos: self.master.blocks.worker_infos(include_lost) }))
    }

    async fn get_block_info(
        &self,
        req: Request<GetBlockInfoPRequest>,
    ) -> Result<Response<GetBlockInfoPResponse>, Status> {
        let b = req.into_inner().block_id;
        let file = alluxio_common::id::file_id_of_block(b);
        let length = {
            let ns = self.master.namespace();
            let f = ns
                .get(file)
                .and_then(|n| n.file().cloned())
                .ok_or_else(|| Status::not_found(format!("Block {b} does not exist")))?;
            let idx = alluxio_common::id::sequence_number(b);
            if idx >= alluxio_common::id::block_count(f.length, f.block_size) {
                return Err(Status::not_found(format!("Block {b} does not exist")));
            }
            alluxio_common::id::block_length(f.length, f.block_size, idx)
        };
        let locations = self
            .master
            .blocks
            .locations(b)
            .into_iter()
            .map(|(id, a, t)| BlockLocation {
                worker_id: id,
                worker_address: Some(a),
                medium_type: t.clone(),
                tier_alias: t,
            })
            .collect();
        Ok(Response::new(GetBlockInfoPResponse { block_info: Some(BlockInfo { block_id: b, length, locations }) }))
    }

    async fn decommission_worker(
        &self,
        req: Request<DecommissionWorkerPRequest>,
    ) -> Result<Response<DecommissionWorkerPResponse>, Status> {
        let addresses = req.into_inner().addresses;
        let unknown = self.master.blocks.decommission(&addresses);
        let left = self.master.drain_decommissioned().await;
        Ok(Response::new(DecommissionWorkerPResponse { blocks_left: left as i64, unknown_addresses: unknown }))
    }

    async fn get_block_master_info(
        &self,
        _req: Request<GetBlockMasterInfoPRequest>,
    ) -> Result<Response<GetBlockMasterInfoPResponse>, Status> {
        Ok(Response::new(GetBlockMasterInfoPResponse { block_master_info: Some(self.master.blocks.info()) }))
    }
}

/// A registering worker's blocks, sorted by what the namespace knows of them.
struct Reported {
    /// Per tier alias, the blocks of files.
    keep: Vec<(String, Vec<i64>)>,
    /// Blocks of no file: the worker deletes them.
    remove: Vec<i64>,
    /// Blocks the worker must not evict.
    protected: Vec<i64>,
}

fn classify(master: &FileSystemMaster, lists: Vec<LocationBlockIdListEntry>) -> Reported {
    let mut out = Reported { keep: Vec::new(), remove: Vec::new(), protected: Vec::new() };
    for l in lists {
        let (known, p) = master.classify_blocks(&l.block_ids);
        let mut ids = Vec::with_capacity(l.block_ids.len());
        for (b, k) in l.block_ids.iter().zip(known) {
            if k {
                ids.push(*b);
            } else {
                out.remove.push(*b);
            }
        }
        out.protected.extend(p);
        out.keep.push((l.tier_alias, ids));
    }
    out
}
