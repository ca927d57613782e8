//! Changing attributes (mode, owner, pinning, TTL...), freeing and scheduling persistence.

use super::*;

impl FileSystemMaster {
    /// `setAttribute`: owner, group, mode, pin, TTL, persisted flag, replication.
    pub async fn set_attribute(&self, path: &AlluxioPath, a: &plan::Attributes, caller: &Caller) -> Result<()> {
        plan::check_attributes(path, a)?;
        self.load_metadata(path).await?;
        let perms = self.permissions();
        let mut protect = Vec::new();
        self.journaled(|ns| {
            let change = plan::plan_set_attribute(ns, path, a, caller, &perms)?;
            protect = change.protect;
            Ok(change.entries)
        })
        .await?;
        for (blocks, protect) in protect {
            self.blocks.set_protected(&blocks, protect);
            self.protect_now(&blocks, protect).await;
        }
        Ok(())
    }

    /// Tells the workers holding `blocks` to (un)protect them now, so a pin holds before the
    /// next heartbeat; the heartbeat repeats it in case this call does not get through.
    pub(super) async fn protect_now(&self, blocks: &[i64], protect: bool) {
        let mut by_worker: BTreeMap<(String, i32), Vec<i64>> = BTreeMap::new();
        for b in blocks {
            for (_, a, _) in self.blocks.locations(*b) {
                by_worker.entry((a.host, a.rpc_port)).or_default().push(*b);
            }
        }
        for ((host, port), ids) in by_worker {
            if let Ok(mut c) = self.workers.get(&host, port) {
                let req = alluxio_proto::grpc::block::SetProtectedRequest { block_ids: ids, protected: protect };
                if let Err(e) = c.set_protected(req).await {
                    tracing::debug!("cannot reach worker {host}:{port} to (un)pin blocks: {}", e.message());
                }
            }
        }
    }

    /// Who may do what, from the master's settings.
    pub(super) fn permissions(&self) -> plan::Permissions {
        plan::Permissions {
            enabled: self.opts.permission_check,
            super_user: self.opts.super_user.clone(),
            supergroup: self.opts.supergroup.clone(),
        }
    }

    /// `free`: drops cached copies of persisted files.
    pub async fn free(&self, path: &AlluxioPath, recursive: bool, forced: bool) -> Result<()> {
        self.load_metadata(path).await?;
        let blocks = {
            let ns = self.ns.read();
            let n = ns.find(path).ok_or_else(|| MasterError::not_found(path))?;
            if n.is_dir() && !recursive && n.dir().is_some_and(|d| !d.children.is_empty()) {
                return Err(MasterError::InvalidArgument(format!(
                    "Cannot free directory {path} which is not empty; use -R"
                )));
            }
            let mut blocks = Vec::new();
            for t in ns.subtree(n.id) {
                if t.file().is_none() {
                    continue;
                }
                if !t.is_persisted() {
                    let p = ns.path_of(t.id).map(|p| p.to_string()).unwrap_or_default();
                    return Err(MasterError::FailedPrecondition(format!(
                        "Cannot free file {p} which is not persisted"
                    )));
                }
                if t.pinned && !forced {
                    let p = ns.path_of(t.id).map(|p| p.to_string()).unwrap_or_default();
                    return Err(MasterError::FailedPrecondition(format!(
                        "Cannot free file {p}: it is pinned (use free -f to force)"
                    )));
                }
                blocks.extend(t.block_ids());
            }
            blocks
        };
        self.blocks.remove_blocks(&blocks);
        Ok(())
    }

    /// `persist`: schedules asynchronous persistence of a completed, unpersisted file.
    pub async fn schedule_persist(&self, path: &AlluxioPath) -> Result<()> {
        self.journaled(|ns| Ok(plan::plan_schedule_persist(ns, path)?)).await?;
        Ok(())
    }
}
