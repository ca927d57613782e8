//! Opening the store: what a restart finds in the tier directories.

use super::*;

impl BlockStore {
    /// Opens the store over `dirs`, scanning each for committed blocks (temporary blocks
    /// and stray files from a crash are deleted).
    pub fn open(dirs: Vec<StorageDir>) -> Result<(Arc<Self>, ScanReport)> {
        Self::open_with(dirs, Policies::default())
    }

    pub fn open_with(dirs: Vec<StorageDir>, policies: Policies) -> Result<(Arc<Self>, ScanReport)> {
        let levels = dirs.iter().map(|d| d.tier_level + 1).max().unwrap_or(1);
        let mut state = State {
            used: vec![0; dirs.len()],
            order: vec![BTreeSet::new(); dirs.len()],
            rr: vec![0; levels],
            ..Default::default()
        };
        let mut report = ScanReport::default();
        let mut locks = Vec::with_capacity(dirs.len());
        for d in &dirs {
            std::fs::create_dir_all(&d.path).map_err(io("create", &d.path))?;
            // Before anything is cleaned: another worker's live writes are in there.
            locks.push(DirLock::acquire(&d.path, "worker")?);
        }
        for (i, d) in dirs.iter().enumerate() {
            scan_dir(&mut state, &mut report, i, d)?;
        }
        let corrupt = Mutex::new(Default::default());
        Ok((Arc::new(BlockStore { dirs, _locks: locks, levels, policies, state: Mutex::new(state), corrupt }), report))
    }
}

/// Takes stock of directory `i`: committed blocks into `state`; temporary blocks, stray files
/// and checksums without their block deleted (what a crash leaves).
fn scan_dir(state: &mut State, report: &mut ScanReport, i: usize, d: &StorageDir) -> Result<()> {
    let mut sidecars = Vec::new();
    let tmp = d.path.join(".tmp_blocks");
    if tmp.exists() {
        std::fs::remove_dir_all(&tmp).map_err(io("clean", &tmp))?;
    }
    std::fs::create_dir_all(&tmp).map_err(io("create", &tmp))?;
    for e in std::fs::read_dir(&d.path).map_err(io("list", &d.path))?.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if name == ".tmp_blocks" || name == LOCK_FILE || name == CLUSTER_ID_FILE || name == crate::ufs_writes::DIR {
            continue;
        }
        let ft = e.file_type().map_err(io("stat", &e.path()))?;
        match name.parse::<i64>() {
            Ok(id) if ft.is_file() && !state.blocks.contains_key(&id) => {
                let len = e.metadata().map_err(io("stat", &e.path()))?.len();
                state.clock += 1;
                let meta = BlockMeta {
                    length: len,
                    dir: i,
                    key: Key(state.clock as f64),
                    crf: 1.0,
                    last: state.clock,
                    // Until the master says which blocks are the only copies of
                    // unpersisted data, none may be evicted.
                    protected: true,
                    readers: 0,
                    placed: false,
                    pending_delete: false,
                    moving: false,
                    verified: false,
                    crcs: None,
                };
                state.order[i].insert((meta.key, id));
                state.blocks.insert(id, meta);
                state.used[i] += len;
                report.blocks += 1;
                report.bytes += len;
            }
            _ if ft.is_file() && name.strip_suffix(".crc").is_some_and(|b| b.parse::<i64>().is_ok()) => {
                sidecars.push(e.path());
            }
            _ => {
                // Non-block files, and a second copy of a block (a crash during a move).
                let p = e.path();
                let r = if ft.is_dir() { std::fs::remove_dir_all(&p) } else { std::fs::remove_file(&p) };
                r.map_err(io("delete stray file", &p))?;
                report.removed_files += 1;
            }
        }
    }
    remove_stray_sidecars(state, report, i, sidecars)?;
    if state.used[i] > d.capacity {
        tracing::warn!(
            "{} holds {} bytes of blocks, more than its quota of {} bytes; least recently used blocks \
             will be evicted as space is needed",
            d.path.display(),
            state.used[i],
            d.capacity
        );
    }
    Ok(())
}

/// Checksums of blocks that are not in directory `i` (a crash between writing one and
/// renaming its block into place, or a second copy of a block) go.
fn remove_stray_sidecars(state: &State, report: &mut ScanReport, i: usize, sidecars: Vec<PathBuf>) -> Result<()> {
    for c in sidecars {
        let id = c.file_stem().and_then(|s| s.to_str()).and_then(|s| s.parse::<i64>().ok());
        if id.is_none_or(|id| state.blocks.get(&id).is_none_or(|b| b.dir != i)) {
            std::fs::remove_file(&c).map_err(io("delete stray file", &c))?;
            report.removed_files += 1;
        }
    }
    Ok(())
}
