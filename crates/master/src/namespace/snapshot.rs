//! The namespace as journal entries: what checkpoints and backups hold.

use alluxio_proto::journal::journal_entry::Entry;
use alluxio_proto::journal::*;

use super::Namespace;

impl Namespace {
    /// [`Namespace::snapshot`] collected (for callers that copy under the lock and write after).
    pub fn entries(&self) -> Vec<Entry> {
        let mut v = Vec::with_capacity(self.inodes.len() + 16);
        let _ = self.snapshot(|e| {
            v.push(e);
            Ok::<(), std::convert::Infallible>(())
        });
        v
    }

    /// The whole state as journal entries, parents before children: what checkpoints and
    /// backups hold. Applying them in order to an empty namespace rebuilds this one.
    pub fn snapshot<E>(&self, mut emit: impl FnMut(Entry) -> Result<(), E>) -> Result<(), E> {
        emit(Entry::ClusterInfo(ClusterInfoEntry { cluster_id: self.cluster_id.clone() }))?;
        emit(Entry::BlockContainerIdGenerator(BlockContainerIdGeneratorEntry {
            next_container_id: self.ids.container_reserved.max(self.ids.next_container),
        }))?;
        for m in self.mounts.iter() {
            emit(Entry::AddMountPoint(AddMountPointEntry {
                alluxio_path: m.alluxio_path.to_string(),
                ufs_path: m.ufs_uri.clone(),
                read_only: m.read_only,
                properties: m
                    .properties
                    .iter()
                    .map(|(k, v)| StringPairEntry { key: k.clone(), value: v.clone() })
                    .collect(),
                shared: m.shared,
                mount_id: m.mount_id,
            }))?;
        }
        if let Some(root) = self.root {
            // Breadth-first so every parent precedes its children.
            let mut queue = std::collections::VecDeque::from([root]);
            while let Some(i) = queue.pop_front() {
                let Some(n) = self.inodes.get(&i) else {
                    continue;
                };
                emit(n.to_entry())?;
                if let Some(d) = n.dir() {
                    queue.extend(d.children.values());
                }
            }
        }
        for (path, props) in &self.path_properties {
            emit(Entry::PathProperties(PathPropertiesEntry {
                path: path.clone(),
                properties: props.clone().into_iter().collect(),
            }))?;
        }
        for (ufs, mode) in &self.ufs_modes {
            emit(Entry::UpdateUfsMode(UpdateUfsModeEntry { ufs_path: ufs.clone(), ufs_mode: *mode }))?;
        }
        Ok(())
    }
}
