//! Reads of the namespace: status and listings, as wire `FileInfo`s.

use super::*;

impl FileSystemMaster {
    /// Status of a path, with block locations when `with_blocks`.
    /// Block locations are what a reader needs, so asking for them needs read permission.
    /// Owner, group and mode of `path`, if it exists (for the audit log; no checks).
    pub fn perm_of(&self, path: &AlluxioPath) -> Option<crate::audit::Perm> {
        let ns = self.ns.read();
        let i = ns.find(path)?;
        Some(crate::audit::Perm { owner: i.owner.clone(), group: i.group.clone(), mode: i.mode })
    }

    pub async fn get_status(&self, path: &AlluxioPath, with_blocks: bool, caller: &Caller) -> Result<FileInfo> {
        if let Some(fi) = self.status_now(path, with_blocks, caller)? {
            return Ok(fi);
        }
        self.load_metadata(path).await?;
        self.status_now(path, with_blocks, caller)?.ok_or_else(|| MasterError::not_found(path))
    }

    fn status_now(&self, path: &AlluxioPath, with_blocks: bool, caller: &Caller) -> Result<Option<FileInfo>> {
        let ns = self.ns.read();
        let op = if with_blocks { plan::Op::Read(path) } else { plan::Op::GetStatus(path) };
        self.access(caller).authorize(&ns, op)?;
        match ns.lookup(path) {
            Lookup::Found(n) => Ok(Some(self.file_info(&ns, n, path, with_blocks))),
            Lookup::NotADirectory { .. } => Err(MasterError::not_found(path)),
            Lookup::Missing { .. } => Ok(None),
        }
    }

    /// Builds the client-facing status of an inode.
    pub(super) fn file_info(&self, ns: &Namespace, n: &Inode, path: &AlluxioPath, with_blocks: bool) -> FileInfo {
        let mut fi = n.to_file_info(path.as_str());
        if let Some((m, rel)) = ns.mounts().resolve(path) {
            fi.mount_id = m.mount_id;
            fi.ufs_path = match self.ufs_cache.read().get(&m.mount_id) {
                Some(u) => u.full_path(&rel),
                None => join_uri(&m.ufs_uri, &rel),
            };
        }
        if let InodeKind::File(f) = &n.kind {
            if f.completed && f.length == 0 {
                fi.in_alluxio_percentage = 100;
                fi.in_memory_percentage = 100;
            }
            let ids = &fi.block_ids;
            if !ids.is_empty() && f.length > 0 {
                let cached = self.blocks.cached(ids);
                let mut in_alluxio = 0i64;
                let mut in_mem = 0i64;
                for (i, (c, m)) in cached.iter().enumerate() {
                    let len = id::block_length(f.length, f.block_size, i as i64);
                    if *c {
                        in_alluxio += len;
                    }
                    if *m {
                        in_mem += len;
                    }
                }
                fi.in_alluxio_percentage = (in_alluxio * 100 / f.length) as i32;
                fi.in_memory_percentage = (in_mem * 100 / f.length) as i32;
            }
            if with_blocks {
                fi.file_block_infos = ids
                    .iter()
                    .enumerate()
                    .map(|(i, b)| {
                        let locations = self
                            .blocks
                            .locations(*b)
                            .into_iter()
                            .map(|(wid, addr, tier)| BlockLocation {
                                worker_id: wid,
                                worker_address: Some(addr),
                                medium_type: tier.clone(),
                                tier_alias: tier,
                            })
                            .collect();
                        FileBlockInfo {
                            block_info: Some(BlockInfo {
                                block_id: *b,
                                length: id::block_length(f.length, f.block_size, i as i64),
                                locations,
                            }),
                            offset: i as i64 * f.block_size,
                            ufs_locations: Vec::new(),
                        }
                    })
                    .collect();
            }
        }
        fi
    }

    /// Lists a directory (or a file as itself); `recursive` walks the whole subtree, skipping
    /// the directories the caller may not list (as Alluxio does).
    pub async fn list_status(&self, path: &AlluxioPath, recursive: bool, caller: &Caller) -> Result<Vec<FileInfo>> {
        let access = self.access(caller);
        self.load_metadata(path).await?;
        let mut out = Vec::new();
        let mut queue = std::collections::VecDeque::from([path.clone()]);
        let mut first = true;
        while let Some(dir) = queue.pop_front() {
            self.load_children(&dir).await?;
            let ns = self.ns.read();
            let n = match ns.lookup(&dir) {
                Lookup::Found(n) => n,
                _ if first => return Err(MasterError::not_found(path)),
                _ => continue, // removed while walking
            };
            if first {
                access.authorize(&ns, plan::Op::List(path))?;
                if !n.is_dir() {
                    out.push(self.file_info(&ns, n, &dir, false));
                    return Ok(out);
                }
            } else if access.authorize(&ns, plan::Op::List(&dir)).is_err() {
                continue;
            }
            first = false;
            for c in ns.children(n) {
                let cp = dir.join(&c.name);
                if recursive && c.is_dir() {
                    queue.push_back(cp.clone());
                }
                out.push(self.file_info(&ns, c, &cp, false));
            }
        }
        Ok(out)
    }
}
