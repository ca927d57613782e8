//! Moving blocks between tiers: promotion of hot blocks and pinning to media.

use super::allocation::Move;
use super::*;

impl BlockStore {
    /// Moves a block to the top tier (CACHE_PROMOTE), evicting there as needed. Blocking.
    /// Returns whether the block now lives in the top tier.
    pub fn promote(&self, id: i64) -> bool {
        self.move_to(id, |_| Some(0), |from, to| self.dirs[to].tier_level < self.dirs[from].tier_level)
    }

    /// Moves a block into a tier whose medium type (or alias) is one of `media` — the placement of
    /// a file pinned to media — evicting unprotected blocks there as needed. True when the block
    /// is (now) on one of them. Blocking.
    pub fn move_to_media(&self, id: i64, media: &[String]) -> bool {
        let on = |d: usize| {
            media.iter().any(|m| {
                m.eq_ignore_ascii_case(&self.dirs[d].medium) || m.eq_ignore_ascii_case(&self.dirs[d].tier_alias)
            })
        };
        let Some(level) = (0..self.dirs.len()).filter(|&d| on(d)).map(|d| self.dirs[d].tier_level).min() else {
            return false;
        };
        let placed = self.move_to(id, |from| if on(from) { None } else { Some(level) }, |_, to| on(to));
        if placed {
            if let Some(b) = self.state.lock().blocks.get_mut(&id) {
                b.placed = true;
            }
        }
        placed
    }

    /// Moves block `id` to the level `target` picks for its current directory (`None`: it is
    /// where it belongs), keeping the new directory only when `accept(from, to)`.
    pub(super) fn move_to(
        &self,
        id: i64,
        target: impl Fn(usize) -> Option<usize>,
        accept: impl Fn(usize, usize) -> bool,
    ) -> bool {
        let (m, level) = {
            let mut s = self.state.lock();
            let Some(b) = s.blocks.get_mut(&id) else { return false };
            let Some(level) = target(b.dir) else { return true };
            if self.dirs[b.dir].tier_level == level && level == 0 {
                return true;
            }
            if b.readers > 0 || b.moving || b.pending_delete {
                return false;
            }
            b.moving = true;
            (Move { id, from: b.dir, length: b.length }, level)
        };
        match self.allocate(level, m.length, id) {
            Ok(to) if accept(m.from, to) => {
                if self.relocate(&m, to) {
                    return true;
                }
                self.state.lock().used[to] -= m.length;
            }
            Ok(to) => self.state.lock().used[to] -= m.length,
            Err(_) => {}
        }
        self.end_move(id);
        false
    }

    /// A move that did not happen: the block stays, unless it was removed meanwhile (removal
    /// waits for moves), which then takes effect.
    pub(super) fn end_move(&self, id: i64) {
        let file = {
            let mut s = self.state.lock();
            match s.blocks.get_mut(&id) {
                Some(b) if b.pending_delete && b.readers == 0 => self.forget(&mut s, id),
                Some(b) => {
                    b.moving = false;
                    None
                }
                None => None,
            }
        };
        delete_files(file.into_iter().collect());
    }

    /// The background promoter: moves the hottest blocks of lower tiers up while the tier
    /// above stays under `fill` (a fraction of capacity), without evicting anything.
    /// Returns the number of blocks moved. Blocking.
    pub fn promote_hot_blocks(&self, fill: f64, max_moves: usize) -> usize {
        let mut moved = 0;
        let mut swap = None;
        for upper in 0..self.levels.saturating_sub(1) {
            loop {
                if moved >= max_moves {
                    return moved;
                }
                let step = {
                    let mut s = self.state.lock();
                    // The hottest movable block of the tiers below.
                    let candidate = (0..self.dirs.len())
                        .filter(|&d| self.dirs[d].tier_level > upper)
                        .filter_map(|d| {
                            s.order[d].iter().rev().map(|(k, id)| (*k, *id)).find(|(_, id)| {
                                let b = &s.blocks[id];
                                b.readers == 0 && !b.moving && !b.pending_delete && !b.placed
                            })
                        })
                        .max_by_key(|(k, _)| *k);
                    let Some((_, id)) = candidate else { break };
                    let len = s.blocks[&id].length;
                    let room = self
                        .dirs_of(upper)
                        .into_iter()
                        .find(|&d| (s.used[d] + len) as f64 <= self.dirs[d].capacity as f64 * fill);
                    let Some(to) = room else {
                        // The top tier is full: swap when the candidate is hotter than its
                        // coldest block (that one moves down), as Alluxio's tier swap does.
                        let coldest_top = (upper == 0)
                            .then(|| {
                                self.dirs_of(upper)
                                    .into_iter()
                                    .filter_map(|d| s.order[d].iter().next().map(|(k, _)| *k))
                            })
                            .and_then(|keys| keys.min());
                        if coldest_top.is_some_and(|c| c < s.blocks[&id].key) {
                            swap = Some(id);
                        }
                        break;
                    };
                    // Only promote blocks hotter than the coldest block above.
                    let coldest_above = s.order[to].iter().next().map(|(k, _)| *k);
                    if coldest_above.is_some_and(|c| c > s.blocks[&id].key) {
                        break;
                    }
                    s.used[to] += len;
                    let b = s.blocks.get_mut(&id).expect("present");
                    b.moving = true;
                    (Move { id, from: b.dir, length: len }, to)
                };
                let (m, to) = step;
                if self.relocate(&m, to) {
                    moved += 1;
                } else {
                    self.state.lock().used[to] -= m.length;
                    if let Some(b) = self.state.lock().blocks.get_mut(&m.id) {
                        b.moving = false;
                    }
                    break;
                }
            }
        }
        // One swap per round: promoting evicts the coldest block of the top tier downwards.
        if let Some(id) = swap.filter(|_| moved < max_moves) {
            if self.promote(id) {
                moved += 1;
            }
        }
        moved
    }
}
