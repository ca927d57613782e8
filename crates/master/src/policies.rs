//! Background enforcement of per-file policies: TTLs (delete or free when a file or directory
//! expires, also after a restart since TTLs are journaled), replication limits (drop copies
//! above the maximum, ask workers to copy blocks below the minimum) and pinned media (ask
//! workers to move blocks of files pinned with `fs pin <path> <media>` into those tiers).

use std::sync::Arc;
use std::time::Duration;

use alluxio_common::{id, AlluxioPath};
use alluxio_proto::grpc::block::{AsyncCacheRequest, OpenUfsBlockOptions};
use alluxio_proto::grpc::TtlAction;

use crate::fs::FileSystemMaster;
use crate::namespace::plan::Attributes;

/// Expired inodes: (path, action). A child of an expired directory is not listed separately.
pub fn expired(master: &FileSystemMaster, now_ms: i64) -> Vec<(AlluxioPath, TtlAction)> {
    let ns = master.namespace();
    let mut out: Vec<(AlluxioPath, TtlAction)> = ns
        .inodes()
        .filter(|n| n.ttl > 0 && n.creation_time_ms.saturating_add(n.ttl) <= now_ms)
        .filter_map(|n| ns.path_of(n.id).map(|p| (p, n.ttl_action)))
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    let mut kept: Vec<(AlluxioPath, TtlAction)> = Vec::new();
    for (p, a) in out {
        if !kept.iter().any(|(k, ka)| *ka == TtlAction::Delete && k.is_ancestor_of(&p)) {
            kept.push((p, a));
        }
    }
    kept
}

/// Acts on expired TTLs every `every`.
pub async fn ttl_checker(master: Arc<FileSystemMaster>, every: Duration) {
    let mut t = tokio::time::interval(every);
    let system = master.system_caller();
    loop {
        t.tick().await;
        for (path, action) in expired(&master, alluxio_common::now_ms()) {
            let r = match action {
                TtlAction::Delete => master.delete(&path, true, false, &system).await,
                TtlAction::Free => {
                    let freed = master.free(&path, true, true, &system).await;
                    // A freed file keeps its metadata; its TTL is spent.
                    let reset = Attributes { ttl: Some(-1), ..Default::default() };
                    let r = master.set_attribute(&path, &reset, &system).await;
                    freed.and(r)
                }
            };
            match r {
                Ok(()) => tracing::info!(
                    "TTL expired for {path}: {}",
                    if action == TtlAction::Delete { "deleted" } else { "freed" }
                ),
                Err(e) => tracing::warn!("TTL action on {path} failed: {e}"),
            }
        }
    }
}

/// One replication step the checker decided on.
enum Fix {
    Drop {
        worker: i64,
        block: i64,
    },
    Copy {
        block: i64,
        length: i64,
        target: alluxio_proto::grpc::WorkerNetAddress,
        source: Source,
    },
    /// Move a copy into a tier of the media its file is pinned to.
    Place {
        block: i64,
        worker: alluxio_proto::grpc::WorkerNetAddress,
        media: Vec<String>,
    },
}

enum Source {
    Worker(alluxio_proto::grpc::WorkerNetAddress),
    Ufs(OpenUfsBlockOptions),
}

fn plan(master: &FileSystemMaster) -> Vec<Fix> {
    let workers = master.blocks.live_workers();
    let ns = master.namespace();
    let mut fixes = Vec::new();
    for n in ns.inodes() {
        let Some(f) = n.file() else { continue };
        if !f.completed {
            continue;
        }
        if n.pinned && !n.medium_types.is_empty() {
            for b in n.block_ids() {
                for (_, a, tier) in master.blocks.locations(b) {
                    if !n.medium_types.iter().any(|m| m.eq_ignore_ascii_case(&tier)) {
                        fixes.push(Fix::Place { block: b, worker: a, media: n.medium_types.clone() });
                    }
                }
            }
        }
        if f.replication_min <= 0 && f.replication_max <= 0 {
            continue;
        }
        let ufs = if n.is_persisted() {
            ns.path_of(n.id).and_then(|p| ns.mounts().resolve(&p).map(|(m, rel)| (m.clone(), rel)))
        } else {
            None
        };
        for (i, b) in n.block_ids().into_iter().enumerate() {
            let locs = master.blocks.locations(b);
            let length = id::block_length(f.length, f.block_size, i as i64);
            if f.replication_max > 0 && locs.len() > f.replication_max as usize {
                for (w, _, _) in locs.iter().skip(f.replication_max as usize) {
                    fixes.push(Fix::Drop { worker: *w, block: b });
                }
            } else if (locs.len() as i32) < f.replication_min {
                let source = match (locs.first(), &ufs) {
                    (Some((_, a, _)), _) => Source::Worker(a.clone()),
                    (None, Some((m, rel))) => Source::Ufs(OpenUfsBlockOptions {
                        ufs_path: master.ufs_of(m).map(|u| u.full_path(rel)).unwrap_or_default(),
                        offset_in_file: i as i64 * f.block_size,
                        block_size: f.block_size,
                        mount_id: m.mount_id,
                        no_cache: false,
                        file_length: f.length,
                    }),
                    (None, None) => continue,
                };
                let mut targets: Vec<_> =
                    workers.iter().filter(|w| !locs.iter().any(|(id, _, _)| *id == w.id)).collect();
                targets.sort_by_key(|w| {
                    std::cmp::Reverse(w.capacity.values().sum::<i64>() - w.used.values().sum::<i64>())
                });
                let missing = (f.replication_min as usize).saturating_sub(locs.len());
                for t in targets.into_iter().take(missing) {
                    let source = match &source {
                        Source::Worker(a) => Source::Worker(a.clone()),
                        Source::Ufs(u) => Source::Ufs(u.clone()),
                    };
                    fixes.push(Fix::Copy { block: b, length, target: t.address.clone(), source });
                }
            }
        }
    }
    fixes
}

/// Enforces replication limits every `every`.
pub async fn replication_checker(master: Arc<FileSystemMaster>, every: Duration) {
    let clients = master.workers.clone();
    let mut t = tokio::time::interval(every);
    loop {
        t.tick().await;
        let m = master.clone();
        let Ok(fixes) = tokio::task::spawn_blocking(move || plan(&m)).await else { continue };
        for fix in fixes {
            match fix {
                Fix::Drop { worker, block } => master.blocks.remove_block_from(worker, block),
                Fix::Place { block, worker, media } => {
                    let Ok(mut c) = clients.get(&worker.host, worker.rpc_port) else { continue };
                    let req = alluxio_proto::grpc::block::MoveBlockRequest { block_id: block, media: media.clone() };
                    match c.move_block(req).await {
                        Ok(r) if r.get_ref().moved => {}
                        Ok(_) => tracing::debug!("block {block} cannot move to {media:?} on {} yet", worker.host),
                        Err(e) => tracing::debug!("moving block {block} to {media:?} failed: {}", e.message()),
                    }
                }
                Fix::Copy { block, length, target, source } => {
                    let Ok(mut c) = clients.get(&target.host, target.rpc_port) else { continue };
                    let (source, ufs) = match source {
                        Source::Worker(a) => (Some(a), None),
                        Source::Ufs(u) => (None, Some(u)),
                    };
                    let req = AsyncCacheRequest { block_id: block, length, source, open_ufs_block_options: ufs };
                    if let Err(e) = c.async_cache(req).await {
                        tracing::debug!(
                            "replicating block {block} to {}:{} failed: {}",
                            target.host,
                            target.rpc_port,
                            e.message()
                        );
                    }
                }
            }
        }
    }
}
