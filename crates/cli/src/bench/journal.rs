//! Benchmarks of the journal: recovery, backup and restore of a generated namespace.

use std::time::Instant;

use alluxio_journal::checkpoint::CheckpointWriter;
use alluxio_journal::{recover, Journal, Layout, LocalJournal, Origin, WriterOptions};
use alluxio_master::namespace::{IdAllocator, Namespace};
use alluxio_proto::journal::journal_entry::Entry;
use alluxio_proto::journal::*;

use super::flag;

/// Writes a journal holding a checkpoint of `files` files (in directories of 1000) followed by
/// `log_entries` log entries (file creations), the shape of a master that ran for a while.
/// Returns the ids of the checkpointed files.
fn generate_journal(folder: &std::path::Path, files: usize, log_entries: usize) -> Result<Vec<i64>, String> {
    let layout = Layout::new(folder);
    layout.format().map_err(|e| e.to_string())?;
    let mut tree = BenchTree::new()?;
    let file_ids = tree.add_files(files)?;
    tree.flush()?;
    // The checkpoint covers sequence numbers below `end`; the log continues from there.
    let end = 1_000_000_000;
    let mut cp = CheckpointWriter::create(&layout, end).map_err(|e| e.to_string())?;
    tree.ns.snapshot(|e| cp.append(&JournalEntry { sequence_number: 0, entry: Some(e) }).map_err(|e| e.to_string()))?;
    cp.finish().map_err(|e| e.to_string())?;
    let journal = LocalJournal::start(layout, end, WriterOptions::default()).map_err(|e| e.to_string())?;
    tree.journal_files(&journal, log_entries)?;
    journal.close();
    Ok(file_ids)
}

/// The namespace a generated journal describes: one UFS mount at `/`, files of one block.
struct BenchTree {
    ns: Namespace,
    /// One allocator throughout: the log entries are journaled, never applied here.
    ids: IdAllocator,
    /// Id-allocation entries not applied yet.
    pending: Vec<Entry>,
    root: i64,
    time_ms: i64,
}

impl BenchTree {
    fn new() -> Result<Self, String> {
        let mut ns = Namespace::new();
        ns.apply_entry(&Entry::ClusterInfo(ClusterInfoEntry { cluster_id: "bench".into() }), &mut Vec::new())
            .map_err(|e| e.to_string())?;
        let ids = IdAllocator::new(&ns);
        let mut tree = BenchTree { ns, ids, pending: Vec::new(), root: 0, time_ms: alluxio_common::now_ms() };
        tree.root = tree.ids.directory_id(&mut tree.pending);
        tree.apply(tree.dir(tree.root, -1, String::new()))?;
        tree.apply(Entry::AddMountPoint(AddMountPointEntry {
            alluxio_path: "/".into(),
            ufs_path: std::env::temp_dir().join("alluxio-bench-ufs").display().to_string(),
            shared: true,
            mount_id: 1,
            ..Default::default()
        }))?;
        Ok(tree)
    }

    /// Applies the pending id entries, then `e`.
    fn apply(&mut self, e: Entry) -> Result<(), String> {
        self.flush()?;
        self.ns.apply_entry(&e, &mut Vec::new()).map_err(|e| e.to_string())
    }

    fn flush(&mut self) -> Result<(), String> {
        for p in self.pending.drain(..) {
            self.ns.apply_entry(&p, &mut Vec::new()).map_err(|e| e.to_string())?;
        }
        Ok(())
    }

    /// `files` files under `/d<n>`, 1000 per directory; their ids.
    fn add_files(&mut self, files: usize) -> Result<Vec<i64>, String> {
        let mut file_ids = Vec::with_capacity(files);
        for (d, start) in (0..files).step_by(1000).enumerate() {
            let did = self.ids.directory_id(&mut self.pending);
            self.apply(self.dir(did, self.root, format!("d{d}")))?;
            for i in 0..1000.min(files - start) {
                let fid = self.ids.file_id(&mut self.pending);
                self.apply(self.file(fid, did, format!("f{i}")))?;
                file_ids.push(fid);
            }
        }
        Ok(file_ids)
    }

    /// Journals (without applying) `/log` and files in it, until `entries` entries are written.
    fn journal_files(&mut self, journal: &impl Journal, entries: usize) -> Result<(), String> {
        let wrap = |e| JournalEntry { sequence_number: 0, entry: Some(e) };
        let log_dir = self.ids.directory_id(&mut self.pending);
        let mut batch: Vec<JournalEntry> = self.pending.drain(..).map(wrap).collect();
        batch.push(wrap(self.dir(log_dir, self.root, "log".into())));
        let mut written = batch.len();
        let mut tickets = vec![journal.append(std::mem::take(&mut batch))];
        let mut i = 0;
        while written < entries {
            let mut gen = Vec::new();
            let fid = self.ids.file_id(&mut gen);
            batch.extend(gen.into_iter().map(wrap));
            batch.push(wrap(self.file(fid, log_dir, format!("g{i}"))));
            written += 1;
            i += 1;
            if batch.len() >= 1000 {
                tickets.push(journal.append(std::mem::take(&mut batch)));
            }
        }
        if !batch.is_empty() {
            tickets.push(journal.append(batch));
        }
        let rt = tokio::runtime::Builder::new_current_thread().build().map_err(|e| e.to_string())?;
        rt.block_on(async {
            for t in tickets {
                t.wait().await.map_err(|e| e.to_string())?;
            }
            Ok(())
        })
    }

    fn dir(&self, id: i64, parent: i64, name: String) -> Entry {
        Entry::InodeDirectory(InodeDirectoryEntry {
            id,
            parent_id: parent,
            name,
            persistence_state: "PERSISTED".into(),
            creation_time_ms: self.time_ms,
            last_modification_time_ms: self.time_ms,
            owner: "bench".into(),
            group: "bench".into(),
            mode: 0o755,
            direct_children_loaded: true,
            ttl: -1,
            ..Default::default()
        })
    }

    fn file(&self, id: i64, parent: i64, name: String) -> Entry {
        Entry::InodeFile(InodeFileEntry {
            id,
            parent_id: parent,
            name,
            persistence_state: "PERSISTED".into(),
            creation_time_ms: self.time_ms,
            last_modification_time_ms: self.time_ms,
            block_size_bytes: 64 << 20,
            length: 4096,
            completed: true,
            cacheable: true,
            ttl: -1,
            owner: "bench".into(),
            group: "bench".into(),
            mode: 0o644,
            ..Default::default()
        })
    }
}

/// `bench worker-scale`: a journal of `blocks` one-block files and, in `tier`, a block file for
/// each, as a worker that cached them all would leave behind.
pub(super) fn worker_scale(args: &[String]) -> Result<(), String> {
    let folder = std::path::PathBuf::from(flag(args, "--journal").ok_or("--journal DIR is required")?);
    let tier = std::path::PathBuf::from(flag(args, "--tier").ok_or("--tier DIR is required")?);
    let blocks: usize = flag(args, "--blocks").and_then(|v| v.parse().ok()).unwrap_or(100_000);
    let started = Instant::now();
    let ids = generate_journal(&folder, blocks, 0)?;
    let dir = tier.join("alluxioworker");
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let data = vec![7u8; 4096];
    for fid in &ids {
        let b = alluxio_common::id::block_id(*fid, 0);
        std::fs::write(dir.join(b.to_string()), &data).map_err(|e| e.to_string())?;
    }
    println!(
        "wrote a journal of {} files and their {} cached blocks in {:.1} s",
        ids.len(),
        ids.len(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// `bench replay`: generates a journal, then measures how fast start-up recovery reads it,
/// against reading and checksumming the same bytes.
pub(super) fn replay(args: &[String]) -> Result<(), String> {
    let folder = std::path::PathBuf::from(flag(args, "--journal").ok_or("--journal DIR is required")?);
    let files: usize = flag(args, "--files").and_then(|v| v.parse().ok()).unwrap_or(1_000_000);
    let log: usize = flag(args, "--log-entries").and_then(|v| v.parse().ok()).unwrap_or(100_000);
    let started = Instant::now();
    generate_journal(&folder, files, log)?;
    println!(
        "generated a journal of {files} files + {log} log entries in {:.1} s at {}",
        started.elapsed().as_secs_f64(),
        folder.display()
    );
    let layout = Layout::new(&folder);
    let (raw, bytes) = read_all(&layout)?;
    let (ns, r) = recover_timed(&layout)?;
    println!("{:<52} {:>10} {:>12}", "phase", "seconds", "entries/s");
    println!(
        "{:<52} {:>10.3} {:>12}",
        format!("read + CRC32C of {} MB of journal files (baseline)", bytes >> 20),
        raw,
        "-"
    );
    let row = |what: String, secs: f64, n: u64| println!("{what:<52} {secs:>10.3} {:>12.0}", n as f64 / secs);
    row(format!("load checkpoint ({} entries)", r.checkpoint_entries), r.checkpoint_secs, r.checkpoint_entries);
    row(format!("replay log ({} entries)", r.log_entries), r.log_secs(), r.log_entries);
    row("recovery total".into(), r.total_secs, r.checkpoint_entries + r.log_entries);
    backup_and_restore(&folder, &ns, row)?;
    println!(
        "recovery time / baseline read time: {:.2}x; namespace holds {} inodes",
        r.total_secs / raw,
        ns.inode_count()
    );
    Ok(())
}

/// The baseline: reads every journal file and checksums it; (seconds, bytes).
fn read_all(layout: &Layout) -> Result<(f64, u64), String> {
    let t0 = Instant::now();
    let mut bytes = 0u64;
    let mut paths: Vec<std::path::PathBuf> =
        layout.checkpoints().map_err(|e| e.to_string())?.into_iter().map(|(_, p)| p).collect();
    paths.extend(layout.segments().map_err(|e| e.to_string())?.into_iter().map(|s| s.path));
    let mut crc = 0u32;
    for p in &paths {
        let data = std::fs::read(p).map_err(|e| e.to_string())?;
        crc = crc32c::crc32c_append(crc, &data);
        bytes += data.len() as u64;
    }
    std::hint::black_box(crc);
    Ok((t0.elapsed().as_secs_f64(), bytes))
}

/// How long recovery took, by phase.
struct RecoveryTimes {
    checkpoint_entries: u64,
    log_entries: u64,
    checkpoint_secs: f64,
    total_secs: f64,
}

impl RecoveryTimes {
    fn log_secs(&self) -> f64 {
        (self.total_secs - self.checkpoint_secs).max(1e-9)
    }
}

/// Recovers the namespace as a starting master does, timing the checkpoint and the log.
fn recover_timed(layout: &Layout) -> Result<(Namespace, RecoveryTimes), String> {
    let mut ns = Namespace::new();
    let mut removed = Vec::new();
    let (mut cp_n, mut log_n) = (0u64, 0u64);
    let mut cp_done: Option<Instant> = None;
    let t1 = Instant::now();
    recover(layout, |o, e| {
        match o {
            Origin::Checkpoint => cp_n += 1,
            Origin::Log => {
                if cp_done.is_none() {
                    cp_done = Some(Instant::now());
                }
                log_n += 1;
            }
        }
        removed.clear();
        ns.apply(&e, &mut removed).map_err(|e| alluxio_journal::JournalError::Apply(e.to_string()))
    })
    .map_err(|e| e.to_string())?;
    let total_secs = t1.elapsed().as_secs_f64();
    let checkpoint_secs = cp_done.map(|t| (t - t1).as_secs_f64()).unwrap_or(total_secs);
    Ok((ns, RecoveryTimes { checkpoint_entries: cp_n, log_entries: log_n, checkpoint_secs, total_secs }))
}

/// Backs `ns` up and restores it into an empty journal, through the same code as
/// `fsadmin backup` and `alluxio-start.sh -i`; reports each as a `row`.
fn backup_and_restore(folder: &std::path::Path, ns: &Namespace, row: impl Fn(String, f64, u64)) -> Result<(), String> {
    let backup_path = folder.join("bench-backup.gz");
    let t2 = Instant::now();
    let entries: Vec<_> =
        ns.entries().into_iter().map(|e| JournalEntry { sequence_number: 0, entry: Some(e) }).collect();
    let file =
        std::io::BufWriter::with_capacity(4 << 20, std::fs::File::create(&backup_path).map_err(|e| e.to_string())?);
    let mut w = alluxio_journal::backup::BackupWriter::new(file, ns.cluster_id(), "bench", alluxio_common::now_ms())
        .map_err(|e| e.to_string())?;
    for e in &entries {
        w.append(e).map_err(|e| e.to_string())?;
    }
    let f = w.finish().map_err(|e| e.to_string())?.into_inner().map_err(|e| e.to_string())?;
    f.sync_all().map_err(|e| e.to_string())?;
    let backup_secs = t2.elapsed().as_secs_f64();
    let backup_bytes = std::fs::metadata(&backup_path).map(|m| m.len()).unwrap_or(0);
    let n = entries.len() as u64;
    drop(entries);
    let restore_layout = Layout::new(folder.join("bench-restore"));
    restore_layout.format().map_err(|e| e.to_string())?;
    let t3 = Instant::now();
    let data = std::fs::read(&backup_path).map_err(|e| e.to_string())?;
    let mut restored = Namespace::new();
    let mut removed = Vec::new();
    alluxio_journal::backup::read_backup(&data[..], "bench", |_, e| Ok(restored.apply(&e, &mut removed)?))
        .map_err(|e| e.to_string())?;
    alluxio_master::backup::write_restored(&restore_layout, &restored).map_err(|e| e.to_string())?;
    let restore_secs = t3.elapsed().as_secs_f64();
    row(format!("backup ({n} entries, {} MB gzip)", backup_bytes >> 20), backup_secs, n);
    row("restore into an empty journal".into(), restore_secs, n);
    Ok(())
}
