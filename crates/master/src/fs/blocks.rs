//! Which blocks workers may keep, and draining decommissioned workers.

use super::*;

impl FileSystemMaster {
    /// For a worker's block report: which ids belong to live files, and which of those must
    /// not be evicted (pinned, or not persisted).
    pub fn classify_blocks(&self, ids: &[i64]) -> (Vec<bool>, Vec<i64>) {
        let ns = self.ns.read();
        let mut known = Vec::with_capacity(ids.len());
        let mut protected = Vec::new();
        for b in ids {
            let (k, p) = match ns.get(id::file_id_of_block(*b)) {
                Some(n) => match n.file() {
                    Some(f) if !f.completed => (true, true),
                    Some(f) => {
                        let k = id::sequence_number(*b) < id::block_count(f.length, f.block_size);
                        (k, k && (n.pinned || !n.is_persisted()))
                    }
                    None => (false, false),
                },
                None => (false, false),
            };
            known.push(k);
            if p {
                protected.push(*b);
            }
        }
        (known, protected)
    }

    /// Copies the only copies of unpersisted (or pinned) data off decommissioned workers;
    /// returns how many such blocks are still only there.
    pub async fn drain_decommissioned(&self) -> usize {
        let blocks = self.blocks.decommissioned_blocks();
        let ids: Vec<i64> = blocks.iter().map(|b| b.0).collect();
        let (_, protected) = self.classify_blocks(&ids);
        let protected: std::collections::HashSet<i64> = protected.into_iter().collect();
        let need: Vec<(i64, alluxio_proto::grpc::WorkerNetAddress, i64)> = {
            let ns = self.ns.read();
            blocks
                .into_iter()
                .filter(|(b, _, others)| *others == 0 && protected.contains(b))
                .filter_map(|(b, src, _)| {
                    let n = ns.get(id::file_id_of_block(b))?;
                    let f = n.file().filter(|f| f.completed)?;
                    Some((b, src, id::block_length(f.length, f.block_size, id::sequence_number(b))))
                })
                .collect()
        };
        let mut targets: Vec<_> = self.blocks.live_workers().into_iter().filter(|w| !w.decommissioned).collect();
        targets.sort_by_key(|w| std::cmp::Reverse(w.capacity.values().sum::<i64>() - w.used.values().sum::<i64>()));
        if targets.is_empty() {
            return need.len();
        }
        for (i, (b, src, len)) in need.iter().enumerate() {
            let t = &targets[i % targets.len()].address;
            if let Ok(mut c) = self.workers.get(&t.host, t.rpc_port) {
                let req = alluxio_proto::grpc::block::AsyncCacheRequest {
                    block_id: *b,
                    length: *len,
                    source: Some(src.clone()),
                    open_ufs_block_options: None,
                };
                let _ = c.async_cache(req).await;
            }
        }
        need.len()
    }
}
