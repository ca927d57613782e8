//! Asynchronous persistence (ASYNC_THROUGH): a background loop asks a worker holding a
//! file's blocks to write it to the UFS, then journals it PERSISTED; failures back off
//! exponentially and retry until `alluxio.master.persistence.max.total.wait.time`.

use alluxio_proto::transport::Transport;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use alluxio_proto::grpc::block::block_worker_client::BlockWorkerClient;
use alluxio_proto::grpc::block::PersistFileRequest;
use alluxio_proto::version::VersionStamp;
use parking_lot::Mutex;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;

use crate::fs::{FileSystemMaster, PersistPlan};
use crate::MasterError;

/// Retry policy of the persistence scheduler.
#[derive(Debug, Clone)]
pub struct PersistOptions {
    pub interval: Duration,
    pub initial_backoff: Duration,
    pub max_backoff: Duration,
    pub give_up_after: Duration,
}

pub type WorkerClient = BlockWorkerClient<InterceptedService<Channel, VersionStamp>>;

/// Cached channels to workers, one per address.
#[derive(Default, Clone)]
pub struct WorkerClients {
    channels: Arc<Mutex<HashMap<String, Channel>>>,
    transport: Transport,
}

impl WorkerClients {
    pub fn new(transport: Transport) -> Self {
        WorkerClients { channels: Default::default(), transport }
    }

    /// Plaintext or TLS, as the master's other connections.
    pub fn transport(&self) -> &Transport {
        &self.transport
    }

    pub fn get(&self, host: &str, port: i32) -> Result<WorkerClient, MasterError> {
        let key = format!("{host}:{port}");
        let ch = {
            let mut m = self.channels.lock();
            match m.get(&key) {
                Some(c) => c.clone(),
                None => {
                    let ep = Transport::endpoint(&key)
                        .map_err(|e| MasterError::WorkerAddress { address: key.clone(), reason: e.to_string() })?
                        .connect_timeout(Duration::from_secs(5));
                    let c = self.transport.channel(&ep);
                    m.insert(key, c.clone());
                    c
                }
            }
        };
        Ok(BlockWorkerClient::with_interceptor(ch, VersionStamp::new(None)).max_decoding_message_size(64 << 20))
    }
}

struct Attempt {
    first: Instant,
    next: Instant,
    backoff: Duration,
}

/// Runs the scheduler until the process ends.
pub async fn run(master: Arc<FileSystemMaster>, opts: PersistOptions) {
    let clients = master.workers.clone();
    let attempts: Arc<Mutex<HashMap<i64, Attempt>>> = Arc::default();
    let in_flight: Arc<Mutex<std::collections::HashSet<i64>>> = Arc::default();
    let mut tick = tokio::time::interval(opts.interval);
    loop {
        tick.tick().await;
        let now = Instant::now();
        for id in master.to_be_persisted() {
            if in_flight.lock().contains(&id) {
                continue;
            }
            {
                let a = attempts.lock();
                if let Some(a) = a.get(&id) {
                    if a.next > now {
                        continue;
                    }
                    if a.first.elapsed() > opts.give_up_after {
                        continue;
                    }
                }
            }
            let Some(plan) = master.persist_plan(id) else {
                continue;
            };
            in_flight.lock().insert(id);
            let (m, c, att, inf, o) =
                (master.clone(), clients.clone(), attempts.clone(), in_flight.clone(), opts.clone());
            tokio::spawn(async move {
                match persist_one(&m, &c, &plan).await {
                    Ok(()) => {
                        att.lock().remove(&id);
                        tracing::debug!("persisted {}", plan.path);
                    }
                    Err(e) => {
                        let mut a = att.lock();
                        let entry = a.entry(id).or_insert(Attempt {
                            first: Instant::now(),
                            next: Instant::now(),
                            backoff: o.initial_backoff,
                        });
                        entry.next = Instant::now() + entry.backoff;
                        entry.backoff = (entry.backoff * 2).min(o.max_backoff);
                        if entry.first.elapsed() > o.give_up_after {
                            tracing::error!("giving up persisting {} after {:?}: {e}", plan.path, o.give_up_after);
                        } else {
                            tracing::warn!("persisting {} failed, retrying in {:?}: {e}", plan.path, entry.backoff / 2);
                        }
                    }
                }
                inf.lock().remove(&id);
            });
        }
    }
}

async fn persist_one(
    master: &FileSystemMaster,
    clients: &WorkerClients,
    plan: &PersistPlan,
) -> Result<(), MasterError> {
    let fingerprint = if plan.block_ids.is_empty() {
        let ufs = master.ufs_of(&plan.mount)?;
        let w = ufs.create(&plan.ufs_rel).await?;
        let st = w.close().await?;
        ufs.set_mode(&plan.ufs_rel, plan.mode).await;
        st.fingerprint(ufs.kind())
    } else {
        let locs = master.blocks.locations(plan.block_ids[0]);
        let (_, addr, _) = locs.first().ok_or_else(|| MasterError::NoWorkerHolds { path: plan.path.to_string() })?;
        let mut client = clients.get(&addr.host, addr.rpc_port)?;
        let ufs_path = master.ufs_of(&plan.mount)?.full_path(&plan.ufs_rel);
        let resp = client
            .persist_file(PersistFileRequest {
                file_id: plan.file_id,
                ufs_path,
                mount_id: plan.mount.mount_id,
                block_ids: plan.block_ids.clone(),
                block_lengths: plan.block_lengths.clone(),
                owner: plan.owner.clone(),
                group: plan.group.clone(),
                mode: plan.mode,
            })
            .await
            .map_err(|status| MasterError::WorkerFailed {
                worker: format!("{}:{}", addr.host, addr.rpc_port),
                op: "persist",
                path: plan.path.to_string(),
                status,
            })?;
        resp.into_inner().content_hash
    };
    master.persist_done(plan, fingerprint).await
}
