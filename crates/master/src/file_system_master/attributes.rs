//! Changing attributes (mode, owner, pinning, TTL...), freeing and scheduling persistence.

use super::*;

impl FileSystemMaster {
    /// `setAttribute`: owner, group, mode, pin, TTL, persisted flag, replication.
    pub async fn set_attribute(&self, path: &AlluxioPath, o: &SetAttributePOptions, caller: &Caller) -> Result<()> {
        for (what, name) in [("owner", &o.owner), ("group", &o.group)] {
            if name.as_deref().is_some_and(|n| n.trim().is_empty()) {
                return Err(MasterError::InvalidArgument(format!(
                    "Invalid {what} '{}' for {path}: a {what} name cannot be empty",
                    name.as_deref().unwrap_or_default()
                )));
            }
        }
        self.load_metadata(path).await?;
        if (o.owner.is_some() || o.group.is_some()) && self.opts.permission_check && !self.is_super(caller) {
            let n_owner = self.ns.read().find(path).map(|n| n.owner.to_string());
            if o.owner.is_some() || n_owner.as_deref() != Some(caller.user.as_str()) {
                return Err(MasterError::PermissionDenied(format!(
                    "user={} is not the owner of path={path}: only the superuser may change its owner{}",
                    caller.user,
                    if o.owner.is_none() { " or the owner its group" } else { "" }
                )));
            }
        }
        if let Some(m) = o.mode {
            if !(0..=0o7777).contains(&m) {
                return Err(MasterError::InvalidArgument(format!("Invalid mode {m:o} for {path}")));
            }
        }
        if let Some(t) = o.ttl {
            if t < -1 {
                return Err(MasterError::InvalidArgument(format!(
                    "Invalid TTL {t} for {path}: use -1 for none or a positive number of ms"
                )));
            }
        }
        let mut pin_changes: Vec<(Vec<i64>, bool)> = Vec::new();
        self.journaled(|ns| {
            let n = ns.find(path).ok_or_else(|| MasterError::not_found(path))?;
            let targets: Vec<&Inode> = if o.recursive { ns.subtree(n.id) } else { vec![n] };
            let mut entries = Vec::with_capacity(targets.len());
            for t in targets {
                let mut u = UpdateInodeEntry { id: t.id, ..Default::default() };
                u.owner = o.owner.clone();
                u.group = o.group.clone();
                u.mode = o.mode;
                u.ttl = o.ttl;
                u.ttl_action =
                    o.ttl_action.map(|a| ttl_to_journal(TtlAction::try_from(a).unwrap_or(TtlAction::Delete)) as i32);
                u.replication_min = o.replication_min;
                u.replication_max = o.replication_max;
                u.xattr = o.xattr.clone();
                u.xattr_delete = o.xattr_delete.clone();
                if let Some(p) = o.pinned {
                    u.pinned = Some(p);
                    u.set_medium_type = true;
                    u.medium_type = if p { o.pinned_media.clone() } else { Vec::new() };
                    if t.file().is_some() {
                        // Unpinned blocks of unpersisted files stay protected.
                        let protect = p || !t.is_persisted();
                        pin_changes.push((t.block_ids(), protect));
                    }
                }
                let persists = o.persisted == Some(true) && !t.is_persisted() && t.file().is_some();
                if persists {
                    u.persistence_state = Some(PersistenceState::Persisted.as_str().into());
                }
                entries.push(Entry::UpdateInode(u));
                if persists {
                    entries.extend(persisted_ancestors(ns, t.id));
                }
            }
            Ok(entries)
        })
        .await?;
        for (blocks, protect) in pin_changes {
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

    pub(super) fn is_super(&self, c: &Caller) -> bool {
        c.user == self.opts.super_user || c.group == self.opts.supergroup
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
        self.journaled(|ns| {
            let n = ns.find(path).ok_or_else(|| MasterError::not_found(path))?;
            let f = n
                .file()
                .ok_or_else(|| MasterError::InvalidArgument(format!("{path} is a directory; persist its files")))?;
            if !f.completed {
                return Err(MasterError::FailedPrecondition(format!("Cannot persist incomplete file {path}")));
            }
            if n.persistence != PersistenceState::NotPersisted {
                return Ok(Vec::new());
            }
            Ok(vec![Entry::UpdateInode(UpdateInodeEntry {
                id: n.id,
                persistence_state: Some(PersistenceState::ToBePersisted.as_str().into()),
                ..Default::default()
            })])
        })
        .await?;
        Ok(())
    }
}
