//! Wire conversions: an inode as the client-facing `FileInfo`, with what the block master
//! knows (cached percentages, block locations) and where the UFS keeps it.

use super::*;

impl FileSystemMaster {
    /// Builds the client-facing status of an inode.
    pub(super) fn file_info(&self, ns: &Namespace, n: &Inode, path: &AlluxioPath, with_blocks: bool) -> FileInfo {
        let mut fi = inode_info(n, path.as_str());
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
}

/// The client-facing status of inode `n` at `path`, without what the block master knows.
pub(crate) fn inode_info(n: &Inode, path: &str) -> FileInfo {
    let mut fi = FileInfo {
        file_id: n.id,
        name: n.name.to_string(),
        path: path.to_owned(),
        creation_time_ms: n.creation_time_ms,
        last_modification_time_ms: n.last_modification_time_ms,
        last_access_time_ms: n.last_access_time_ms,
        owner: n.owner.to_string(),
        group: n.group.to_string(),
        mode: n.mode,
        persisted: n.is_persisted(),
        persistence_state: n.persistence.as_str().into(),
        pinned: n.pinned,
        medium_types: n.medium_types.clone(),
        ttl: n.ttl,
        ttl_action: n.ttl_action as i32,
        ufs_fingerprint: n.ufs_fingerprint.clone(),
        xattr: n.xattr_map(),
        // Only an inode with an ACL lists entries; the others' follow from the mode.
        acl: n
            .acl
            .as_deref()
            .map(|a| crate::acl::entries(n.mode, Some(a)).iter().map(ToString::to_string).collect())
            .unwrap_or_default(),
        ..Default::default()
    };
    match &n.kind {
        InodeKind::Dir(d) => {
            fi.folder = true;
            fi.completed = true;
            fi.mount_point = d.mount_point;
            fi.child_count = d.children.len() as i64;
            fi.length = d.children.len() as i64;
        }
        InodeKind::File(f) => {
            fi.length = f.length;
            fi.block_size_bytes = f.block_size;
            fi.completed = f.completed;
            fi.cacheable = f.cacheable;
            fi.replication_min = f.replication_min;
            fi.replication_max = f.replication_max;
            if f.completed {
                fi.block_ids = n.block_ids();
            }
        }
    }
    fi
}
