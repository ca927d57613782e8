//! Deleting and renaming paths, in Alluxio and in the UFS.

use super::*;

impl FileSystemMaster {
    /// `rm`: deletes from Alluxio and (unless `alluxio_only`) from the UFS.
    /// Permissions are checked before the UFS is touched and again with the change.
    pub async fn delete(&self, path: &AlluxioPath, recursive: bool, alluxio_only: bool, caller: &Caller) -> Result<()> {
        let req = plan::Delete { path: path.clone(), recursive, alluxio_only, op_time_ms: now_ms() };
        let access = self.access(caller);
        let op = plan::Op::Delete { path, recursive };
        if path.is_root() {
            return Err(plan::FsError::DeleteRoot.into());
        }
        self.load_metadata(path).await?;
        if !recursive {
            self.load_children(path).await?;
        }
        let ufs_op = {
            let ns = self.ns.read();
            access.authorize(&ns, op)?;
            plan::plan_delete(&ns, &req)?;
            let n = ns.find(path).ok_or_else(|| MasterError::not_found(path))?;
            let (m, ufs, rel) = self.resolve_ufs(&ns, path)?;
            if !alluxio_only && plan::in_ufs(&ns, n, recursive) {
                Self::check_writable(&ns, &m, path)?;
                Some((ufs, rel, n.is_dir()))
            } else {
                None
            }
        };
        if let Some((ufs, rel, is_dir)) = &ufs_op {
            if *is_dir {
                ufs.delete_dir(rel).await?;
            } else {
                ufs.delete_file(rel).await?;
            }
        }
        let removed = self
            .journaled(|ns| {
                access.authorize(ns, op)?;
                Ok(plan::plan_delete(ns, &req)?)
            })
            .await?;
        self.drop_blocks_of(&removed);
        if removed.first().is_some_and(|n| n.file().is_some_and(|f| !f.completed)) {
            self.remove_abandoned_temp_files(path).await;
        }
        Ok(())
    }

    /// After the incomplete file at `path` was deleted (its writer gave up or its lease
    /// expired): the UFS temporary files its writers left (a worker killed in the middle of a
    /// write) are deleted too. Best effort; a failure is logged.
    pub(super) async fn remove_abandoned_temp_files(&self, path: &AlluxioPath) {
        let deleted_at = now_ms();
        let target = {
            let ns = self.ns.read();
            self.resolve_ufs(&ns, path).ok().map(|(_, ufs, rel)| (ufs, rel))
        };
        let Some((ufs, rel)) = target else { return };
        match ufs.remove_temp_files_of(&rel, deleted_at).await {
            Ok(0) => {}
            Ok(n) => tracing::info!("removed {n} temporary UFS file(s) left by writers of {path}"),
            Err(e) => tracing::warn!("cannot remove the temporary UFS files of {path}: {e}"),
        }
    }

    pub(super) fn drop_blocks_of(&self, removed: &[Inode]) {
        let blocks: Vec<i64> = removed.iter().flat_map(|n| n.block_ids()).collect();
        if !blocks.is_empty() {
            self.blocks.remove_blocks(&blocks);
        }
        // Blocks an unfinished writer committed are not derivable from a length.
        for n in removed.iter().filter(|n| n.file().is_some_and(|f| !f.completed)) {
            self.leases.lock().remove(&n.id);
            self.blocks.remove_blocks_of_file(n.id);
        }
    }

    /// `mv`.
    pub async fn rename(&self, src: &AlluxioPath, dst: &AlluxioPath, caller: &Caller) -> Result<()> {
        let mut req = plan::Rename { src: src.clone(), dst: dst.clone(), in_ufs: false, op_time_ms: now_ms() };
        let access = self.access(caller);
        let op = plan::Op::Rename { src, dst };
        if src.is_root() || dst.is_root() {
            return Err(plan::FsError::RenameRoot { src: src.clone(), dst: dst.clone() }.into());
        }
        self.load_metadata(src).await?;
        self.load_metadata(dst).await?;
        if let Some(p) = dst.parent() {
            self.load_metadata(&p).await?;
        }
        let ufs_op = {
            let ns = self.ns.read();
            access.authorize(&ns, op)?;
            let (n, _) = plan::check_rename(&ns, src, dst)?;
            let (m, ufs, rel_src) = self.resolve_ufs(&ns, src)?;
            let (_, _, rel_dst) = self.resolve_ufs(&ns, dst)?;
            // As for deletes: an implicit directory holding persisted files exists in the UFS.
            if plan::in_ufs(&ns, n, true) {
                Self::check_writable(&ns, &m, src)?;
                Some((ufs, rel_src, rel_dst))
            } else {
                None
            }
        };
        if let Some((ufs, a, b)) = &ufs_op {
            ufs.rename(a, b).await?;
            req.in_ufs = true;
        }
        let r = self
            .journaled(|ns| {
                access.authorize(ns, op)?;
                Ok(plan::plan_rename(ns, &req)?)
            })
            .await;
        if r.is_err() {
            if let Some((ufs, a, b)) = &ufs_op {
                // Put the UFS back as it was: the metadata did not change.
                let _ = ufs.rename(b, a).await;
            }
        }
        r.map(|_| ())
    }
}
