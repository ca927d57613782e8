//! Metadata from the UFS: loading paths Alluxio does not know, and syncing what changed there.

use super::*;

impl FileSystemMaster {
    /// Makes `path` known to Alluxio if it exists in the UFS but not in Alluxio yet.
    pub async fn load_metadata(&self, path: &AlluxioPath) -> Result<()> {
        self.load_metadata_opt(path, false).await
    }

    /// As `load_metadata`; with `trust_listing`, a path whose parent's UFS listing was
    /// already loaded is taken as absent without asking the UFS again (the fast path of
    /// creates that do not write to the UFS).
    pub(super) async fn load_metadata_opt(&self, path: &AlluxioPath, trust_listing: bool) -> Result<()> {
        if self.opts.load_type == LoadType::Never {
            return Ok(());
        }
        let (ufs, m, start_depth) = {
            let ns = self.ns.read();
            match ns.lookup(path) {
                Lookup::Found(_) | Lookup::NotADirectory { .. } => return Ok(()),
                Lookup::Missing { deepest, depth } => {
                    let loaded = deepest.dir().is_some_and(|d| d.children_loaded);
                    if trust_listing && loaded && depth + 1 == path.depth() && self.opts.load_type == LoadType::Once {
                        return Ok(()); // the parent's listing was loaded: known absent
                    }
                    let (m, ufs, _) = self.resolve_ufs(&ns, path)?;
                    if ufs_mode_of(&ns, &m.ufs_uri) == UfsMode::NoAccess {
                        return Ok(()); // the under storage may not be touched
                    }
                    (ufs, m, depth)
                }
            }
        };
        let comps: Vec<&str> = path.components().collect();
        let mut statuses: Vec<UfsStatus> = Vec::new();
        let mut prefix = AlluxioPath::root();
        for (i, c) in comps.iter().enumerate() {
            prefix = prefix.join(c);
            if i < start_depth {
                continue;
            }
            if is_temp_name(c) {
                return Ok(());
            }
            let rel = prefix.strip_ancestor(&m.alluxio_path).unwrap_or("").to_owned();
            match ufs.stat(&rel).await? {
                None => return Ok(()),
                Some(st) => {
                    let last = i + 1 == comps.len();
                    if !last && !st.is_dir {
                        return Ok(());
                    }
                    statuses.push(st);
                }
            }
        }
        self.fill_owners(&mut statuses);
        let facts = self.ufs_facts(&ufs);
        self.journaled(|ns| Ok(plan::plan_load_path(ns, path, start_depth, &statuses, &facts))).await?;
        Ok(())
    }

    /// Gives statuses without an owner the master's user, and without a group the owner's
    /// primary group (as Alluxio shows UFS files whose storage has no owners).
    fn fill_owners(&self, statuses: &mut [UfsStatus]) {
        for st in statuses {
            let owner = st.owner.get_or_insert_with(|| self.opts.super_user.clone());
            if st.group.is_none() {
                st.group = Some(alluxio_common::user::primary_group_of(owner));
            }
        }
    }

    fn ufs_facts<'a>(&self, ufs: &'a UnderFileSystem) -> plan::UfsFacts<'a> {
        plan::UfsFacts { kind: ufs.kind(), block_size: self.opts.default_block_size, op_time_ms: now_ms() }
    }

    /// Loads the UFS listing of a directory once.
    pub(super) async fn load_children(&self, path: &AlluxioPath) -> Result<()> {
        if self.opts.load_type == LoadType::Never {
            return Ok(());
        }
        let (ufs, rel, dir_id) = {
            let ns = self.ns.read();
            let Some(n) = ns.find(path) else {
                return Ok(());
            };
            match n.dir() {
                Some(d) if !d.children_loaded || self.opts.load_type == LoadType::Always => {}
                _ => return Ok(()),
            }
            let (_, ufs, rel) = self.resolve_ufs(&ns, path)?;
            (ufs, rel, n.id)
        };
        let mut listing = match ufs.list(&rel).await {
            Ok(l) => l,
            Err(alluxio_ufs::UfsError::NotFound { .. }) => Vec::new(),
            Err(e) => return Err(e.into()),
        };
        self.fill_owners(&mut listing);
        let facts = self.ufs_facts(&ufs);
        let again = self.opts.load_type == LoadType::Always;
        self.journaled(|ns| Ok(plan::plan_load_children(ns, dir_id, &listing, again, &facts))).await?;
        Ok(())
    }

    /// Brings `path` (and a directory's direct children) in line with the UFS when its last
    /// sync is older than `interval_ms` (`alluxio.user.file.metadata.sync.interval`; negative:
    /// never). Files changed in the UFS are reloaded (their cached blocks dropped), files gone
    /// from the UFS are removed, new ones appear. Data Alluxio has not persisted is left alone.
    pub async fn sync_metadata(&self, path: &AlluxioPath, interval_ms: i64) -> Result<()> {
        if interval_ms < 0 {
            return Ok(());
        }
        let interval = std::time::Duration::from_millis(interval_ms as u64);
        let (mount, ufs, rel, existing) = {
            let ns = self.ns.read();
            let existing = ns.find(path).map(|n| n.id);
            if let Some(id) = existing {
                if self.synced.lock().get(&id).is_some_and(|t| t.elapsed() < interval && interval_ms > 0) {
                    return Ok(());
                }
            }
            let (m, ufs, rel) = self.resolve_ufs(&ns, path)?;
            (m, ufs, rel, existing)
        };
        let Some(_) = existing else {
            // Not known yet: the ordinary lazy load.
            return self.load_metadata(path).await;
        };
        let mut status = ufs.stat(&rel).await?;
        let mut listing = match &status {
            Some(st) if st.is_dir => match ufs.list(&rel).await {
                Ok(l) => l,
                Err(alluxio_ufs::UfsError::NotFound { .. }) => Vec::new(),
                Err(e) => return Err(e.into()),
            },
            _ => Vec::new(),
        };
        self.fill_owners(&mut listing);
        self.fill_owners(status.as_mut_slice());
        let view = match &status {
            None => plan::UfsView::Absent,
            Some(st) if !st.is_dir => plan::UfsView::File(st),
            Some(_) => plan::UfsView::Dir(&listing),
        };
        let facts = self.ufs_facts(&ufs);
        let removed = self.journaled(|ns| Ok(plan::plan_sync(ns, path, view, &facts))).await?;
        if !removed.is_empty() {
            tracing::debug!(
                "metadata sync of {path} in {}: {} inodes replaced or removed",
                mount.ufs_uri,
                removed.len()
            );
        }
        self.drop_blocks_of(&removed);
        if let Some(n) = self.ns.read().find(path) {
            self.synced.lock().insert(n.id, std::time::Instant::now());
        }
        Ok(())
    }
}
