//! Read locks that keep a block in place, and removal once nobody reads it.

use super::*;

impl BlockStore {
    /// Locks a committed block for reading and records the access.
    pub fn lock(self: &Arc<Self>, id: i64) -> Option<BlockReadLock> {
        let mut s = self.state.lock();
        s.clock += 1;
        let clock = s.clock;
        let State { blocks, order, .. } = &mut *s;
        let b = blocks.get_mut(&id)?;
        if b.pending_delete {
            return None;
        }
        order[b.dir].remove(&(b.key, id));
        self.touch(b, clock);
        order[b.dir].insert((b.key, id));
        b.readers += 1;
        let dir = &self.dirs[b.dir];
        Some(BlockReadLock {
            store: self.clone(),
            block_id: id,
            path: block_path(&dir.path, id),
            length: b.length,
            tier_alias: dir.tier_alias.clone(),
        })
    }

    pub(super) fn unlock(&self, id: i64) {
        let file = {
            let mut s = self.state.lock();
            let Some(b) = s.blocks.get_mut(&id) else {
                return;
            };
            b.readers = b.readers.saturating_sub(1);
            if !(b.readers == 0 && b.pending_delete) {
                return;
            }
            self.forget(&mut s, id)
        };
        delete_files(file.into_iter().collect());
    }

    /// Drops a block from the state; returns its file, to delete once the lock is released.
    pub(super) fn forget(&self, s: &mut State, id: i64) -> Option<PathBuf> {
        let b = s.blocks.remove(&id)?;
        s.order[b.dir].remove(&(b.key, id));
        s.used[b.dir] -= b.length;
        s.removed.push(id);
        Some(block_path(&self.dirs[b.dir].path, id))
    }

    /// Removes a block; if someone reads it, removal happens when the last reader unlocks.
    pub fn remove(&self, id: i64) {
        let file = {
            let mut s = self.state.lock();
            let Some(b) = s.blocks.get_mut(&id) else {
                return;
            };
            if b.readers > 0 || b.moving {
                b.pending_delete = true;
                return;
            }
            self.forget(&mut s, id)
        };
        delete_files(file.into_iter().collect());
    }
}
