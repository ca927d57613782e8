//! Changing attributes (mode, owner, pinning, TTL...), freeing and scheduling persistence.

use super::*;

impl FileSystemMaster {
    /// `setAttribute`: owner, group, mode, pin, TTL, persisted flag, replication.
    pub async fn set_attribute(&self, path: &AlluxioPath, a: &plan::Attributes, caller: &Caller) -> Result<()> {
        plan::check_attributes(path, a)?;
        self.load_metadata(path).await?;
        let mut protect = Vec::new();
        self.journaled(|ns| {
            let change = plan::plan_set_attribute(ns, path, a, caller, &self.perms)?;
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

    /// `setfacl`: changes the ACL (and the mode, whose group bits are the mask) of `path`.
    pub async fn set_acl(
        &self,
        path: &AlluxioPath,
        action: &crate::acl::Action,
        recursive: bool,
        caller: &Caller,
    ) -> Result<()> {
        self.load_metadata(path).await?;
        self.journaled(|ns| Ok(plan::plan_set_acl(ns, path, action, recursive, self.access(caller))?)).await?;
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

    /// `caller` under this master's permission rules.
    pub(super) fn access<'a>(&'a self, caller: &'a Caller) -> plan::Access<'a> {
        plan::Access { caller, perms: &self.perms }
    }

    /// Operations on the cluster rather than on a path (UFS credentials, UFS modes).
    pub fn require_super(&self, caller: &Caller) -> Result<()> {
        Ok(self.access(caller).require_super()?)
    }

    /// The master acting for itself (TTL actions, persistence): the superuser.
    pub fn system_caller(&self) -> Caller {
        let group = self.opts.supergroup.clone();
        Caller { user: self.opts.super_user.clone(), groups: vec![group.clone()], group }
    }

    /// `free`: drops cached copies of persisted files.
    pub async fn free(&self, path: &AlluxioPath, recursive: bool, forced: bool, caller: &Caller) -> Result<()> {
        self.load_metadata(path).await?;
        let blocks = {
            let ns = self.ns.read();
            self.access(caller).authorize(&ns, plan::Op::Read(path))?;
            plan::blocks_to_free(&ns, path, recursive, forced)?
        };
        self.blocks.remove_blocks(&blocks);
        Ok(())
    }

    /// `persist`: schedules asynchronous persistence of a completed, unpersisted file.
    pub async fn schedule_persist(&self, path: &AlluxioPath, caller: &Caller) -> Result<()> {
        let access = self.access(caller);
        self.journaled(|ns| {
            access.authorize(ns, plan::Op::Write(path))?;
            Ok(plan::plan_schedule_persist(ns, path)?)
        })
        .await?;
        Ok(())
    }
}
