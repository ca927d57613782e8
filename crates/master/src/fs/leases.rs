//! Leases of files being written: renewed by writers, expired files deleted.

use super::*;

impl FileSystemMaster {
    /// Renews the leases of files being written.
    pub fn keep_alive(&self, ids: &[i64]) {
        let ns = self.ns.read();
        let mut leases = self.leases.lock();
        for id in ids {
            if ns.get(*id).and_then(|n| n.file()).is_some_and(|f| !f.completed) {
                leases.insert(*id, std::time::Instant::now());
            }
        }
    }

    /// Gives every incomplete file a fresh lease (after a restart its writer may still be alive).
    pub fn init_leases(&self) {
        let ids = self.ns.read().incomplete_files();
        let now = std::time::Instant::now();
        let mut leases = self.leases.lock();
        for id in ids {
            leases.insert(id, now);
        }
    }

    /// Deletes incomplete files whose writer stopped renewing its lease (it crashed), so no
    /// half-written file stays visible. Returns the paths removed.
    pub async fn expire_leases(&self) -> Vec<AlluxioPath> {
        let timeout = self.opts.lease_timeout;
        let expired: Vec<i64> = {
            let leases = self.leases.lock();
            leases.iter().filter(|(_, t)| t.elapsed() > timeout).map(|(id, _)| *id).collect()
        };
        let mut removed_paths = Vec::new();
        for id in expired {
            self.leases.lock().remove(&id);
            let mut path = None;
            let r = self
                .journaled(|ns| {
                    let Some(n) = ns.get(id) else {
                        return Ok(Vec::new());
                    };
                    if n.file().is_none_or(|f| f.completed) {
                        return Ok(Vec::new());
                    }
                    let p = ns.path_of(id).unwrap_or_else(AlluxioPath::root);
                    path = Some(p.clone());
                    Ok(vec![Entry::DeleteFile(DeleteFileEntry {
                        id,
                        recursive: false,
                        op_time_ms: now_ms(),
                        alluxio_only: true,
                        path: p.to_string(),
                    })])
                })
                .await;
            match (r, path) {
                (Ok(removed), Some(p)) => {
                    tracing::info!("deleted incomplete file {p}: its writer stopped renewing its lease (crashed?)");
                    self.drop_blocks_of(&removed);
                    self.remove_abandoned_temp_files(&p).await;
                    removed_paths.push(p);
                }
                (Ok(_), None) => {}
                (Err(e), _) => tracing::warn!("cannot delete abandoned incomplete file {id}: {e}"),
            }
        }
        removed_paths
    }
}
