//! Deleting and renaming paths, in Alluxio and in the UFS.

use super::*;

impl FileSystemMaster {
    /// `rm`: deletes from Alluxio and (unless `alluxio_only`) from the UFS.
    pub async fn delete(&self, path: &AlluxioPath, recursive: bool, alluxio_only: bool) -> Result<()> {
        if path.is_root() {
            return Err(MasterError::InvalidArgument("Cannot delete the root directory /".into()));
        }
        self.load_metadata(path).await?;
        if !recursive {
            self.load_children(path).await?;
        }
        let ufs_op = {
            let ns = self.ns.read();
            let n = ns.find(path).ok_or_else(|| MasterError::not_found(path))?;
            Self::check_delete(&ns, n, path, recursive)?;
            let (m, ufs, rel) = self.resolve_ufs(&ns, path)?;
            // A directory created implicitly (never marked persisted) still exists in the UFS
            // once a file below it was persisted: deleting it must reach the UFS too.
            let in_ufs = n.is_persisted() || (recursive && n.is_dir() && ns.has_persisted_descendant(n));
            if !alluxio_only && in_ufs {
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
                let n = ns.find(path).ok_or_else(|| MasterError::not_found(path))?;
                Self::check_delete(ns, n, path, recursive)?;
                Ok(vec![Entry::DeleteFile(DeleteFileEntry {
                    id: n.id,
                    recursive,
                    op_time_ms: now_ms(),
                    alluxio_only,
                    path: path.to_string(),
                })])
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

    pub(super) fn check_delete(ns: &Namespace, n: &Inode, path: &AlluxioPath, recursive: bool) -> Result<()> {
        if n.dir().is_some_and(|d| d.mount_point) {
            return Err(MasterError::InvalidArgument(format!(
                "{path} is a mount point; use `alluxio fs unmount {path}` to remove it"
            )));
        }
        if let Some(m) = ns.mounts.mounts_below(path).first() {
            return Err(MasterError::FailedPrecondition(format!(
                "Cannot delete {path}: it contains the mount point {}; unmount it first",
                m.alluxio_path
            )));
        }
        if !recursive && n.dir().is_some_and(|d| !d.children.is_empty()) {
            return Err(MasterError::FailedPrecondition(format!(
                "Cannot delete non-empty directory {path} without the recursive option"
            )));
        }
        Ok(())
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
    pub async fn rename(&self, src: &AlluxioPath, dst: &AlluxioPath) -> Result<()> {
        if src.is_root() || dst.is_root() {
            return Err(MasterError::InvalidArgument(format!(
                "Cannot rename {src} to {dst}: the root cannot be renamed or replaced"
            )));
        }
        self.load_metadata(src).await?;
        self.load_metadata(dst).await?;
        if let Some(p) = dst.parent() {
            self.load_metadata(&p).await?;
        }
        let ufs_op = {
            let ns = self.ns.read();
            let (n, new_parent) = Self::check_rename(&ns, src, dst)?;
            let _ = new_parent;
            let (m1, ufs, rel_src) = self.resolve_ufs(&ns, src)?;
            let (m2, _, rel_dst) = self.resolve_ufs(&ns, dst)?;
            if m1.mount_id != m2.mount_id {
                return Err(MasterError::InvalidArgument(format!(
                    "Renaming {src} to {dst} is a mount point across mount points, which is not supported"
                )));
            }
            // As for deletes: an implicit directory holding persisted files exists in the UFS.
            if n.is_persisted() || (n.is_dir() && ns.has_persisted_descendant(n)) {
                Self::check_writable(&ns, &m1, src)?;
                Some((ufs, rel_src, rel_dst))
            } else {
                None
            }
        };
        if let Some((ufs, a, b)) = &ufs_op {
            ufs.rename(a, b).await?;
        }
        let r = self
            .journaled(|ns| {
                let (n, new_parent) = Self::check_rename(ns, src, dst)?;
                let mut entries = vec![Entry::Rename(RenameEntry {
                    id: n.id,
                    new_parent_id: new_parent,
                    new_name: dst.name().into(),
                    path: src.to_string(),
                    new_path: dst.to_string(),
                    op_time_ms: now_ms(),
                })];
                if ufs_op.is_some() {
                    // The UFS rename created the destination's directories.
                    entries.extend(persisted_dirs(ns, new_parent));
                }
                Ok(entries)
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

    pub(super) fn check_rename<'a>(
        ns: &'a Namespace,
        src: &AlluxioPath,
        dst: &AlluxioPath,
    ) -> Result<(&'a Inode, i64)> {
        let n = ns.find(src).ok_or_else(|| MasterError::not_found(src))?;
        if src.is_ancestor_of(dst) {
            return Err(MasterError::InvalidArgument(format!(
                "Cannot rename {src} to {dst}: a path cannot be moved into itself"
            )));
        }
        if n.dir().is_some_and(|d| d.mount_point) || !ns.mounts.mounts_below(src).is_empty() {
            return Err(MasterError::InvalidArgument(format!(
                "Cannot rename {src}: it is or contains a mount point; unmount and mount it again instead"
            )));
        }
        if ns.find(dst).is_some() {
            return Err(MasterError::AlreadyExists(format!(
                "Cannot rename {src} to {dst} because the destination already exists"
            )));
        }
        let parent = dst.parent().unwrap_or_else(AlluxioPath::root);
        let p = ns.find(&parent).ok_or_else(|| MasterError::NotFound { path: parent.to_string() })?;
        if !p.is_dir() {
            return Err(MasterError::InvalidArgument(format!("Cannot rename {src} to {dst}: {parent} is a file")));
        }
        Ok((n, p.id))
    }
}
