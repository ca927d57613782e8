//! Unit tests of the block store: eviction, tiers, protection, restarts.
use super::*;

fn dir(base: &Path, name: &str, alias: &str, level: usize, cap: u64) -> StorageDir {
    StorageDir {
        path: base.join(name).join("alluxioworker"),
        tier_alias: alias.into(),
        tier_level: level,
        medium: alias.into(),
        capacity: cap,
    }
}

fn store(cap: u64) -> (tempfile::TempDir, Arc<BlockStore>) {
    let d = tempfile::tempdir().unwrap();
    let (s, _) = BlockStore::open(vec![dir(d.path(), "mem", "MEM", 0, cap)]).unwrap();
    (d, s)
}

fn put(s: &BlockStore, id: i64, len: u64, protected: bool) -> Result<()> {
    let p = s.create_temp(id, 0, len, protected)?;
    std::fs::write(&p, vec![(id % 251) as u8; len as usize]).unwrap();
    s.commit(id, len, Crcs::None).map(|_| ())
}

#[test]
fn blocks_pinned_to_media_move_there_and_stay() {
    let d = tempfile::tempdir().unwrap();
    let (s, _) =
        BlockStore::open(vec![dir(d.path(), "mem", "MEM", 0, 300), dir(d.path(), "ssd", "SSD", 1, 1000)]).unwrap();
    put(&s, 1, 100, true).unwrap();
    assert_eq!(s.tier_of(1).as_deref(), Some("MEM"));
    assert!(!s.move_to_media(1, &["HDD".into()]), "no HDD tier here");
    assert!(s.move_to_media(1, &["ssd".into()]));
    assert_eq!(s.tier_of(1).as_deref(), Some("SSD"));
    assert_eq!(s.used()["MEM"], 0);
    // Hot, but placed: the promoter leaves it on SSD until it is unpinned.
    for _ in 0..5 {
        let _ = s.lock(1);
    }
    assert_eq!(s.promote_hot_blocks(1.0, 10), 0);
    s.set_protected(&[1], false);
    assert_eq!(s.promote_hot_blocks(1.0, 10), 1);
    assert_eq!(s.tier_of(1).as_deref(), Some("MEM"));
    assert!(s.move_to_media(1, &["MEM".into()]), "already there");
}

#[test]
fn evicts_least_recently_used_but_never_protected_or_locked() {
    let (_d, s) = store(300);
    put(&s, 1, 100, false).unwrap();
    put(&s, 2, 100, true).unwrap();
    put(&s, 3, 100, false).unwrap();
    let lock3 = s.lock(3).unwrap();
    // Needs 100 bytes: 1 is the LRU evictable block.
    put(&s, 4, 100, false).unwrap();
    assert!(!s.has_block(1) && s.has_block(2) && s.has_block(3) && s.has_block(4));
    // Only 4 is evictable now (2 protected, 3 locked); 200 bytes cannot be found.
    let e = put(&s, 5, 200, false).unwrap_err();
    assert!(matches!(e, WorkerError::ResourceExhausted(_)), "{e}");
    assert!(e.to_string().contains("block 5"));
    assert_eq!(s.used()["MEM"], 300, "a failed allocation reserves nothing");
    drop(lock3);
    put(&s, 5, 200, false).unwrap();
    assert_eq!(s.take_removed().len(), 3);
}

#[test]
fn restart_rescans_blocks_and_drops_temp_files() {
    let (d, s) = store(1000);
    put(&s, 42, 10, false).unwrap();
    let tmp = s.create_temp(43, 0, 10, false).unwrap();
    std::fs::write(&tmp, b"half").unwrap();
    std::fs::write(d.path().join("mem/alluxioworker/junk"), b"x").unwrap();
    drop(s);
    let (s, report) = BlockStore::open(vec![dir(d.path(), "mem", "MEM", 0, 1000)]).unwrap();
    assert_eq!(report.blocks, 1);
    assert_eq!(report.removed_files, 1);
    assert!(s.has_block(42) && !s.has_block(43));
    assert!(!tmp.exists());
}

#[test]
fn blocks_found_at_start_are_never_evicted_before_the_master_says_which_are_safe() {
    let (d, s) = store(100);
    put(&s, 1, 60, false).unwrap();
    drop(s);
    let (s, _) = BlockStore::open(vec![dir(d.path(), "mem", "MEM", 0, 100)]).unwrap();
    // Block 1 may be the only copy of unpersisted data: a new block cannot evict it yet.
    assert!(put(&s, 2, 60, false).is_err());
    assert!(s.has_block(1));
    // The master says it is persisted (not in the protected list): now it can go.
    s.reset_protection(&[1], &[]);
    put(&s, 2, 60, false).unwrap();
    assert!(!s.has_block(1) && s.has_block(2));
}

#[test]
fn removal_waits_for_readers() {
    let (_d, s) = store(100);
    put(&s, 1, 10, false).unwrap();
    let l = s.lock(1).unwrap();
    s.remove(1);
    assert!(l.path.exists());
    assert!(s.lock(1).is_none());
    drop(l);
    assert!(!s.has_block(1));
    assert_eq!(s.used()["MEM"], 0);
}

fn two_tiers(mem: u64, ssd: u64, policies: Policies) -> (tempfile::TempDir, Arc<BlockStore>) {
    let d = tempfile::tempdir().unwrap();
    let dirs = vec![dir(d.path(), "mem", "MEM", 0, mem), dir(d.path(), "ssd", "SSD", 1, ssd)];
    let (s, _) = BlockStore::open_with(dirs, policies).unwrap();
    (d, s)
}

#[test]
fn eviction_demotes_before_dropping_and_promotion_brings_blocks_back() {
    let (_d, s) = two_tiers(200, 300, Policies::default());
    for id in 1..=5 {
        put(&s, id, 100, false).unwrap();
    }
    // MEM holds the two most recent, SSD the three before them; nothing lost yet.
    assert_eq!(s.tier_of(5).as_deref(), Some("MEM"));
    assert_eq!(s.tier_of(4).as_deref(), Some("MEM"));
    assert_eq!(s.tier_of(1).as_deref(), Some("SSD"));
    assert_eq!(s.block_count(), 5);
    // The demoted bytes are intact.
    let l = s.lock(1).unwrap();
    assert_eq!(std::fs::read(&l.path).unwrap(), vec![1u8; 100]);
    drop(l);
    // One more: the SSD's coldest block is the one dropped.
    put(&s, 6, 100, false).unwrap();
    assert_eq!(s.block_count(), 5);
    assert!(!s.has_block(2), "block 2 was the least recently used");
    // CACHE_PROMOTE moves a block up, demoting MEM's coldest (5) into the full SSD,
    // whose coldest (4) is dropped.
    assert!(s.promote(3));
    assert_eq!(s.tier_of(3).as_deref(), Some("MEM"));
    assert_eq!(s.tier_of(5).as_deref(), Some("SSD"));
    assert!(!s.has_block(4));
    assert_eq!(s.block_count(), 4);
}

#[test]
fn a_full_upper_tier_never_fails_a_write_a_lower_tier_can_take() {
    let (_d, s) = two_tiers(200, 300, Policies::default());
    put(&s, 1, 100, true).unwrap();
    put(&s, 2, 100, true).unwrap();
    // MEM holds only protected blocks: the new block goes to the SSD.
    put(&s, 3, 100, true).unwrap();
    assert_eq!(s.tier_of(3).as_deref(), Some("SSD"));
}

#[test]
fn the_background_promoter_moves_hot_blocks_up_without_evicting() {
    let (_d, s) = two_tiers(300, 300, Policies::default());
    for id in 1..=5 {
        put(&s, id, 100, false).unwrap();
    }
    // 1 and 2 were demoted; reading 1 makes it hot.
    assert_eq!(s.tier_of(1).as_deref(), Some("SSD"));
    drop(s.lock(1));
    s.remove(5);
    assert_eq!(s.promote_hot_blocks(1.0, 10), 1);
    assert_eq!(s.tier_of(1).as_deref(), Some("MEM"));
    assert_eq!(s.tier_of(2).as_deref(), Some("SSD"));
}

#[test]
fn lrfu_keeps_frequently_used_blocks() {
    let lrfu = Policies { allocator: Allocator::MaxFree, annotator: Annotator::Lrfu { step: 0.25, attenuation: 2.0 } };
    let (_d, s) = two_tiers(200, 100, lrfu);
    put(&s, 1, 100, false).unwrap();
    for _ in 0..5 {
        drop(s.lock(1));
    }
    put(&s, 2, 100, false).unwrap();
    put(&s, 3, 100, false).unwrap();
    // Under LRU block 1 (accessed before 2 and 3) would go; LRFU keeps the frequent one in MEM.
    assert_eq!(s.tier_of(1).as_deref(), Some("MEM"));
}

#[test]
fn allocators_spread_blocks_over_directories() {
    let d = tempfile::tempdir().unwrap();
    let dirs = |_: ()| vec![dir(d.path(), "a", "MEM", 0, 1000), dir(d.path(), "b", "MEM", 0, 1000)];
    let rr = Policies { allocator: Allocator::RoundRobin, annotator: Annotator::Lru };
    let (s, _) = BlockStore::open_with(dirs(()), rr).unwrap();
    for id in 1..=4 {
        put(&s, id, 10, false).unwrap();
    }
    let paths: Vec<PathBuf> = (1..=4).map(|id| s.lock(id).unwrap().path.parent().unwrap().to_path_buf()).collect();
    assert_ne!(paths[0], paths[1]);
    assert_eq!(paths[0], paths[2]);
    drop(s);
    let greedy = Policies { allocator: Allocator::Greedy, annotator: Annotator::Lru };
    let (s, _) = BlockStore::open_with(dirs(()), greedy).unwrap();
    put(&s, 9, 10, false).unwrap();
    put(&s, 10, 10, false).unwrap();
    assert_eq!(s.lock(9).unwrap().path.parent(), s.lock(10).unwrap().path.parent());
}
