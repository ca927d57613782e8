//! Persisting files to the UFS on the workers.

use super::*;

impl FileSystemMaster {
    /// Files waiting for asynchronous persistence.
    pub fn to_be_persisted(&self) -> Vec<i64> {
        self.ns.read().to_be_persisted().iter().copied().collect()
    }

    /// What a worker needs to persist a file: path, mount, ufs path, blocks, owner/mode.
    pub fn persist_plan(&self, file_id: i64) -> Option<PersistPlan> {
        let ns = self.ns.read();
        let n = ns.get(file_id)?;
        let f = n.file()?;
        if n.persistence != PersistenceState::ToBePersisted || !f.completed {
            return None;
        }
        let path = ns.path_of(file_id)?;
        let (m, rel) = ns.mounts().resolve(&path)?;
        let ids = n.block_ids();
        let lengths = (0..ids.len() as i64).map(|i| id::block_length(f.length, f.block_size, i)).collect();
        Some(PersistPlan {
            file_id,
            path,
            mount: m.clone(),
            ufs_rel: rel,
            block_ids: ids,
            block_lengths: lengths,
            owner: n.owner.to_string(),
            group: n.group.to_string(),
            mode: n.mode,
        })
    }

    /// Marks a file persisted after a worker wrote it to the UFS. If the file was deleted
    /// or changed meanwhile, the UFS copy is removed again.
    pub async fn persist_done(&self, plan: &PersistPlan, fingerprint: String) -> Result<()> {
        let r = self
            .journaled(|ns| {
                let Some(n) = ns.get(plan.file_id) else {
                    return Err(MasterError::not_found(&plan.path));
                };
                if n.persistence != PersistenceState::ToBePersisted
                    || ns.path_of(plan.file_id).as_ref() != Some(&plan.path)
                {
                    return Err(MasterError::ChangedWhilePersisting { path: plan.path.to_string() });
                }
                let mut entries = vec![Entry::UpdateInode(UpdateInodeEntry {
                    id: plan.file_id,
                    persistence_state: Some(PersistenceState::Persisted.as_str().into()),
                    ufs_fingerprint: Some(fingerprint.clone()),
                    ..Default::default()
                })];
                entries.extend(persisted_ancestors(ns, plan.file_id));
                Ok(entries)
            })
            .await;
        match r {
            Ok(_) => {
                let pinned = self.ns.read().get(plan.file_id).is_some_and(|n| n.pinned);
                if !pinned {
                    self.blocks.set_protected(&plan.block_ids, false);
                }
                Ok(())
            }
            Err(e @ (MasterError::NotFound { .. } | MasterError::ChangedWhilePersisting { .. })) => {
                let still_there = self.ns.read().find(&plan.path).is_some();
                if !still_there {
                    if let Ok(ufs) = self.ufs_of(&plan.mount) {
                        let _ = ufs.delete_file(&plan.ufs_rel).await;
                    }
                }
                Err(e)
            }
            Err(e) => Err(e),
        }
    }
}
