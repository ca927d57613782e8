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
        let ufs_kind = ufs.kind();
        self.journaled(|ns| {
            let mut entries = Vec::new();
            let (mut parent, depth) = match ns.lookup(path) {
                Lookup::Missing { deepest, depth } if deepest.is_dir() && depth >= start_depth => (deepest.id, depth),
                _ => return Ok(Vec::new()), // created meanwhile (or changed shape): nothing to load
            };
            for (i, st) in statuses.iter().enumerate().skip(depth - start_depth) {
                let name = comps[start_depth + i];
                let e = self.inode_from_ufs(ns, parent, name, st, ufs_kind, &mut entries);
                parent = match &e {
                    Entry::InodeDirectory(d) => d.id,
                    Entry::InodeFile(f) => f.id,
                    _ => parent,
                };
                entries.push(e);
            }
            Ok(entries)
        })
        .await?;
        Ok(())
    }

    pub(super) fn inode_from_ufs(
        &self,
        ns: &mut Namespace,
        parent: i64,
        name: &str,
        st: &UfsStatus,
        ufs_kind: &str,
        entries: &mut Vec<Entry>,
    ) -> Entry {
        let owner = st.owner.clone().unwrap_or_else(|| self.opts.super_user.clone());
        let group = st.group.clone().unwrap_or_else(|| alluxio_common::user::primary_group_of(&owner));
        let t = if st.mtime_ms > 0 { st.mtime_ms } else { now_ms() };
        if st.is_dir {
            let id = ns.next_directory_id(entries);
            Entry::InodeDirectory(InodeDirectoryEntry {
                id,
                parent_id: parent,
                name: name.into(),
                persistence_state: PersistenceState::Persisted.as_str().into(),
                creation_time_ms: t,
                last_modification_time_ms: t,
                owner,
                group,
                mode: st.mode.unwrap_or(0o755),
                direct_children_loaded: false,
                ttl: -1,
                ..Default::default()
            })
        } else {
            let id = ns.next_file_id(entries);
            Entry::InodeFile(InodeFileEntry {
                id,
                parent_id: parent,
                name: name.into(),
                persistence_state: PersistenceState::Persisted.as_str().into(),
                creation_time_ms: t,
                last_modification_time_ms: t,
                block_size_bytes: self.opts.default_block_size,
                length: st.length as i64,
                completed: true,
                cacheable: true,
                ttl: -1,
                owner,
                group,
                mode: st.mode.unwrap_or(0o644),
                replication_max: -1,
                ufs_fingerprint: st.fingerprint(ufs_kind),
                ..Default::default()
            })
        }
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
        let listing = match ufs.list(&rel).await {
            Ok(l) => l,
            Err(alluxio_ufs::UfsError::NotFound { .. }) => Vec::new(),
            Err(e) => return Err(e.into()),
        };
        let ufs_kind = ufs.kind();
        self.journaled(|ns| {
            let mut entries = Vec::new();
            let Some(d) = ns.get(dir_id).and_then(|n| n.dir()) else {
                return Ok(entries);
            };
            let loaded = d.children_loaded;
            if loaded && self.opts.load_type != LoadType::Always {
                return Ok(entries);
            }
            let missing: Vec<&UfsStatus> = listing
                .iter()
                .filter(|s| !is_temp_name(&s.name) && !d.children.contains_key(s.name.as_str()))
                .collect();
            for st in missing {
                let e = self.inode_from_ufs(ns, dir_id, &st.name, st, ufs_kind, &mut entries);
                entries.push(e);
            }
            if !loaded {
                entries.push(Entry::UpdateInodeDirectory(UpdateInodeDirectoryEntry {
                    id: dir_id,
                    direct_children_loaded: Some(true),
                    ..Default::default()
                }));
            }
            Ok(entries)
        })
        .await?;
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
        let status = ufs.stat(&rel).await?;
        let listing = match &status {
            Some(st) if st.is_dir => Some(match ufs.list(&rel).await {
                Ok(l) => l,
                Err(alluxio_ufs::UfsError::NotFound { .. }) => Vec::new(),
                Err(e) => return Err(e.into()),
            }),
            _ => None,
        };
        let kind = ufs.kind();
        let content = |fp: &str| fp.split("CONTENT_HASH|").nth(1).unwrap_or("").to_owned();
        let removed = self
            .journaled(|ns| {
                // Decide first (reading the tree), then build the entries (allocating ids).
                enum Step<'a> {
                    Delete(i64, AlluxioPath),
                    Create(i64, String, &'a UfsStatus),
                }
                let mut steps: Vec<Step> = Vec::new();
                let mut mark_loaded = None;
                {
                    let Some(n) = ns.find(path) else { return Ok(Vec::new()) };
                    let (id, parent) = (n.id, n.parent_id);
                    let synced_away = |n: &Inode| {
                        n.is_persisted()
                            && !n.dir().is_some_and(|d| d.mount_point)
                            && n.file().is_none_or(|f| f.completed)
                    };
                    match &status {
                        None if synced_away(n) && !path.is_root() => steps.push(Step::Delete(id, path.clone())),
                        None => {}
                        Some(st) if !st.is_dir => {
                            let changed = n.file().is_none() || content(&n.ufs_fingerprint) != st.content_hash;
                            if changed && synced_away(n) && !path.is_root() {
                                steps.push(Step::Delete(id, path.clone()));
                                steps.push(Step::Create(parent, path.name().to_owned(), st));
                            }
                        }
                        Some(_) => {
                            let Some(listing) = &listing else { return Ok(Vec::new()) };
                            let in_ufs: std::collections::HashMap<&str, &UfsStatus> = listing
                                .iter()
                                .filter(|s| !is_temp_name(&s.name))
                                .map(|s| (s.name.as_str(), s))
                                .collect();
                            let children = n.dir().map(|d| d.children.clone()).unwrap_or_default();
                            for (name, cid) in &children {
                                let Some(c) = ns.get(*cid) else { continue };
                                if !synced_away(c) {
                                    continue;
                                }
                                match in_ufs.get(name.as_ref()) {
                                    None => steps.push(Step::Delete(*cid, path.join(name))),
                                    Some(st)
                                        if st.is_dir != c.is_dir()
                                            || (!st.is_dir && content(&c.ufs_fingerprint) != st.content_hash) =>
                                    {
                                        steps.push(Step::Delete(*cid, path.join(name)));
                                        steps.push(Step::Create(id, name.to_string(), st));
                                    }
                                    Some(_) => {}
                                }
                            }
                            for st in in_ufs.values() {
                                if !children.contains_key(st.name.as_str()) {
                                    steps.push(Step::Create(id, st.name.clone(), st));
                                }
                            }
                            if !n.dir().is_some_and(|d| d.children_loaded) {
                                mark_loaded = Some(id);
                            }
                        }
                    }
                }
                let mut entries = Vec::new();
                for step in steps {
                    match step {
                        Step::Delete(id, p) => entries.push(Entry::DeleteFile(DeleteFileEntry {
                            id,
                            recursive: true,
                            op_time_ms: now_ms(),
                            alluxio_only: true,
                            path: p.to_string(),
                        })),
                        Step::Create(parent, name, st) => {
                            let e = self.inode_from_ufs(ns, parent, &name, st, kind, &mut entries);
                            entries.push(e);
                        }
                    }
                }
                if let Some(id) = mark_loaded {
                    entries.push(Entry::UpdateInodeDirectory(UpdateInodeDirectoryEntry {
                        id,
                        direct_children_loaded: Some(true),
                        ..Default::default()
                    }));
                }
                Ok(entries)
            })
            .await?;
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
