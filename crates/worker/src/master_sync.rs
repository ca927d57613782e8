//! Registration with the master and the 1-second heartbeat.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use alluxio_common::version::VERSION;
use alluxio_proto::grpc::block::{
    BlockHeartbeatPRequest, CommandType, GetWorkerIdPRequest, RegisterWorkerPRequest, WorkerLeavingPRequest,
};

use crate::error::{Result, WorkerError};
use crate::worker::Worker;

/// Gets an id and registers every block; returns once the master accepted.
pub async fn register(w: &Worker) -> Result<()> {
    let mut client = w.master_blocks();
    let id = client
        .get_worker_id(GetWorkerIdPRequest { worker_net_address: Some(w.address.clone()) })
        .await
        .map_err(|s| {
            w.follow_master(&s);
            WorkerError::Unavailable(s.message().to_owned())
        })?
        .into_inner()
        .worker_id;
    w.id.store(id, Ordering::SeqCst);
    // Taken before the report: a block committed in between is in both, never in neither.
    w.store.take_unreported();
    let report = w.on_store(|s| s.report()).await;
    let count: usize = report.iter().map(|(_, v)| v.len()).sum();
    let reported: Vec<i64> = report.iter().flat_map(|(_, v)| v.iter().copied()).collect();
    let dirs = w.store.dirs().to_vec();
    let recorded = crate::blocking::run(move || crate::cluster_id::recorded(&dirs)).await?;
    let req = RegisterWorkerPRequest {
        worker_id: id,
        storage_tiers: w.store.tiers(),
        total_bytes_on_tiers: w.store.capacity().into_iter().collect(),
        used_bytes_on_tiers: w.store.used().into_iter().collect(),
        current_blocks: Worker::block_lists(report),
        address: Some(w.address.clone()),
        version: VERSION.into(),
        cluster_id: recorded.clone().unwrap_or_default(),
    };
    let resp = client
        .register_worker(req)
        .await
        .map_err(|s| {
            if s.metadata().contains_key(alluxio_proto::status::WORKER_REFUSED) {
                // The master cannot vouch for this worker's blocks: stop rather than lose them.
                return WorkerError::FailedPrecondition(s.message().to_owned());
            }
            w.follow_master(&s);
            WorkerError::Unavailable(s.message().to_owned())
        })?
        .into_inner();
    if !resp.cluster_id.is_empty() && recorded.as_deref() != Some(resp.cluster_id.as_str()) {
        let (dirs, id) = (w.store.dirs().to_vec(), resp.cluster_id.clone());
        crate::blocking::run(move || crate::cluster_id::record(&dirs, &id)).await?;
    }
    w.store.reset_protection(&reported, &resp.protected_block_ids);
    let remove = resp.remove_block_ids.clone();
    w.on_store(move |s| remove.iter().for_each(|b| s.remove(*b))).await;
    tracing::info!(
        "registered with the master as worker {id}: {count} blocks, {} protected, {} unknown to the master deleted",
        resp.protected_block_ids.len(),
        resp.remove_block_ids.len()
    );
    Ok(())
}

/// Heartbeats until the master refuses this worker (returned); re-registers when the master
/// asks (e.g. after it restarted).
pub async fn heartbeat_loop(w: Arc<Worker>, interval: Duration) -> WorkerError {
    let mut registered = false;
    let mut cleaned = false;
    let mut removed_pending: Vec<i64> = Vec::new();
    let mut added_pending: Vec<i64> = Vec::new();
    let mut warned = false;
    let mut tick = tokio::time::interval(interval);
    loop {
        tick.tick().await;
        if !registered {
            match register(&w).await {
                Ok(()) => {
                    if !cleaned {
                        // The master answers now, so the UFS of each mount can be found.
                        cleaned = true;
                        let w = w.clone();
                        tokio::spawn(async move { crate::ufs_writes::clean_up_after_crash(&w).await });
                    }
                    registered = true;
                    warned = false;
                    removed_pending.clear();
                    added_pending.clear();
                }
                Err(e @ WorkerError::FailedPrecondition(_)) => return e,
                Err(e) => {
                    if !warned {
                        tracing::warn!("cannot register with the master yet ({e}); retrying every {interval:?}");
                        warned = true;
                    }
                }
            }
            continue;
        }
        removed_pending.extend(w.store.take_removed());
        added_pending.extend(w.store.take_unreported());
        let mut added = Vec::new();
        for id in &added_pending {
            if let Some(t) = w.store.tier_of(*id) {
                added.push((t, vec![*id]));
            }
        }
        let req = BlockHeartbeatPRequest {
            worker_id: w.id.load(Ordering::SeqCst),
            used_bytes_on_tiers: w.store.used().into_iter().collect(),
            removed_block_ids: removed_pending.clone(),
            added_blocks: Worker::block_lists(added),
        };
        match w.master_blocks().block_heartbeat(req).await {
            Ok(resp) => {
                warned = false;
                removed_pending.clear();
                added_pending.clear();
                let r = resp.into_inner();
                if r.command_type == CommandType::Register as i32 {
                    tracing::info!("the master asks this worker to register again");
                    registered = false;
                    continue;
                }
                let remove = r.remove_block_ids.clone();
                w.on_store(move |s| remove.iter().for_each(|b| s.remove(*b))).await;
                w.store.set_protected(&r.protect_block_ids, true);
                w.store.set_protected(&r.unprotect_block_ids, false);
            }
            Err(s) => {
                if !warned {
                    tracing::warn!("heartbeat to the master failed: {}; retrying", s.message());
                    warned = true;
                }
                // Another master may be leading now: register there.
                if w.follow_master(&s) {
                    registered = false;
                }
            }
        }
    }
}

/// Tells the master this worker is stopping, so clients stop sending it data at once (best
/// effort: a master that does not answer within a second finds out by the heartbeat timeout).
pub async fn leave(w: &Worker) {
    let id = w.id.load(Ordering::SeqCst);
    if id == 0 {
        return;
    }
    let mut client = w.master_blocks();
    let call = client.worker_leaving(WorkerLeavingPRequest { worker_id: id });
    if let Ok(Err(s)) = tokio::time::timeout(Duration::from_secs(1), call).await {
        tracing::warn!("could not tell the master this worker is stopping: {}", s.message());
    }
}
