//! `alluxio bench`: benchmarks that report ratios against a baseline measured in the same run.
//!
//! `bench metadata [--clients N] [--seconds S] [--dir /path]`: the master's no-op RPC rate
//! (the baseline), then getStatus and create+complete (journaled) with N concurrent clients.

use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use alluxio_client::{CreateFileOptions, FileSystem, WritePType};
use alluxio_common::{AlluxioPath, Conf};

use crate::exit;

fn flag(args: &[String], name: &str) -> Option<String> {
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1).cloned())
}

pub async fn run(conf: Arc<Conf>, args: Vec<String>) -> ExitCode {
    let r = match args.first().map(String::as_str) {
        Some("metadata") => metadata(&conf, &args[1..]).await,
        Some("replay") => {
            // Recovery is synchronous code that builds its own runtime: run it off this one.
            let a = args[1..].to_vec();
            std::thread::spawn(move || replay(&a)).join().unwrap_or_else(|_| Err("replay benchmark panicked".into()))
        }
        Some("tcp") => tcp_copy(&args[1..]).map(|_| ()),
        Some("read") => read(&conf, &args[1..]).await,
        Some("eviction") => {
            let a = args[1..].to_vec();
            std::thread::spawn(move || eviction(&a)).join().unwrap_or_else(|_| Err("benchmark panicked".into()))
        }
        Some("worker-scale") => {
            let a = args[1..].to_vec();
            std::thread::spawn(move || worker_scale(&a)).join().unwrap_or_else(|_| Err("benchmark panicked".into()))
        }
        _ => Err("Usage: alluxio bench metadata [--clients 16] [--seconds 5] [--dir /bench-meta]\n       \
                  alluxio bench replay --journal DIR [--files 1000000] [--log-entries 100000]\n       \
                  alluxio bench read --path P [--remote] [--clients N] [--runs R] [--copy] [--baseline TMPFS_FILE]\n       \
                  alluxio bench tcp [--bytes 1GB]\n       \
                  alluxio bench eviction [--blocks 1000] [--accesses 50000] [--dir DIR]\n       \
                  alluxio bench worker-scale --journal DIR --tier DIR [--blocks 100000]"
            .to_owned()),
    };
    match r {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{e}");
            ExitCode::from(exit::FAILURE)
        }
    }
}

/// Runs `op` from `clients` concurrent clients (each its own connection) for `secs`; returns ops/s.
async fn measure<F, Fut>(clients: &[FileSystem], secs: f64, op: F) -> Result<f64, String>
where
    F: Fn(FileSystem, usize, u64) -> Fut + Send + Sync + 'static + Clone,
    Fut: std::future::Future<Output = Result<(), String>> + Send,
{
    let stop = Arc::new(AtomicBool::new(false));
    let count = Arc::new(AtomicU64::new(0));
    let mut handles = Vec::new();
    let start = Instant::now();
    for (i, fs) in clients.iter().enumerate() {
        let (stop, count, fs, op) = (stop.clone(), count.clone(), fs.clone(), op.clone());
        handles.push(tokio::spawn(async move {
            let mut n = 0u64;
            while !stop.load(Ordering::Relaxed) {
                op(fs.clone(), i, n).await?;
                n += 1;
                count.fetch_add(1, Ordering::Relaxed);
            }
            Ok::<(), String>(())
        }));
    }
    tokio::time::sleep(Duration::from_secs_f64(secs)).await;
    stop.store(true, Ordering::Relaxed);
    for h in handles {
        h.await.map_err(|e| e.to_string())??;
    }
    Ok(count.load(Ordering::Relaxed) as f64 / start.elapsed().as_secs_f64())
}

async fn metadata(conf: &Conf, args: &[String]) -> Result<(), String> {
    let n: usize = flag(args, "--clients").and_then(|v| v.parse().ok()).unwrap_or(16);
    let secs: f64 = flag(args, "--seconds").and_then(|v| v.parse().ok()).unwrap_or(5.0);
    let dir = flag(args, "--dir").unwrap_or_else(|| format!("/bench-meta-{}", alluxio_common::now_ms()));
    let dir = AlluxioPath::parse(&dir).map_err(|e| e.to_string())?;
    let mut clients = Vec::with_capacity(n);
    for _ in 0..n {
        clients.push(FileSystem::connect(conf).await.map_err(|e| e.message)?);
    }
    clients[0].create_directory(&dir, true, true, Some(WritePType::MustCache)).await.map_err(|e| e.message)?;
    let probe = dir.join("probe");
    clients[0]
        .create_file(&probe, CreateFileOptions { write_type: Some(WritePType::MustCache), ..Default::default() })
        .await
        .map_err(|e| e.message)?
        .close()
        .await
        .map_err(|e| e.message)?;

    let noop = measure(&clients, secs, |fs, _, _| async move { fs.ping().await.map_err(|e| e.message) }).await?;
    let p2 = probe.clone();
    let stat = measure(&clients, secs, move |fs, _, _| {
        let p = p2.clone();
        async move { fs.get_status(&p).await.map(|_| ()).map_err(|e| e.message) }
    })
    .await?;
    let d2 = dir.clone();
    let create = measure(&clients, secs, move |fs, i, k| {
        let p = d2.join(&format!("f-{i}-{k}"));
        async move {
            let out = fs
                .create_file(&p, CreateFileOptions { write_type: Some(WritePType::MustCache), ..Default::default() })
                .await
                .map_err(|e| e.message)?;
            out.close().await.map(|_| ()).map_err(|e| e.message)
        }
    })
    .await?;
    println!(
        "Metadata benchmark: {n} concurrent clients, {secs} s per operation, journal {}",
        conf.get_str("alluxio.master.journal.type").unwrap_or_default()
    );
    println!("{:<40} {:>12} {:>14}", "operation", "ops/s", "vs no-op RPC");
    println!("{:<40} {:>12.0} {:>13.2}x", "no-op RPC (baseline)", noop, 1.0);
    println!("{:<40} {:>12.0} {:>13.2}x", "getStatus", stat, stat / noop);
    println!("{:<40} {:>12.0} {:>13.2}x", "create+complete (journaled, fsynced)", create, create / noop);
    let _ = clients[0].delete(&dir, true, false).await;
    Ok(())
}

/// Writes a journal holding a checkpoint of `files` files (in directories of 1000) followed by
/// `log_entries` log entries (file creations), the shape of a master that ran for a while.
/// Returns the ids of the checkpointed files.
pub fn generate_journal(folder: &std::path::Path, files: usize, log_entries: usize) -> Result<Vec<i64>, String> {
    use alluxio_journal::checkpoint::CheckpointWriter;
    use alluxio_journal::{Journal, Layout, LocalJournal, WriterOptions};
    use alluxio_master::namespace::{IdAllocator, Namespace};
    use alluxio_proto::journal::journal_entry::Entry;
    use alluxio_proto::journal::*;

    let layout = Layout::new(folder);
    layout.format().map_err(|e| e.to_string())?;
    let mut ns = Namespace::new();
    let mut pending: Vec<Entry> = Vec::new();
    let t = alluxio_common::now_ms();
    let dir = |id: i64, parent: i64, name: String| {
        Entry::InodeDirectory(InodeDirectoryEntry {
            id,
            parent_id: parent,
            name,
            persistence_state: "PERSISTED".into(),
            creation_time_ms: t,
            last_modification_time_ms: t,
            owner: "bench".into(),
            group: "bench".into(),
            mode: 0o755,
            direct_children_loaded: true,
            ttl: -1,
            ..Default::default()
        })
    };
    let file = |id: i64, parent: i64, name: String| {
        Entry::InodeFile(InodeFileEntry {
            id,
            parent_id: parent,
            name,
            persistence_state: "PERSISTED".into(),
            creation_time_ms: t,
            last_modification_time_ms: t,
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
    };
    let apply = |ns: &mut Namespace, pending: &mut Vec<Entry>, e: Entry| -> Result<(), String> {
        for p in pending.drain(..) {
            ns.apply_entry(&p, &mut Vec::new()).map_err(|e| e.to_string())?;
        }
        ns.apply_entry(&e, &mut Vec::new()).map_err(|e| e.to_string())
    };
    apply(&mut ns, &mut pending, Entry::ClusterInfo(ClusterInfoEntry { cluster_id: "bench".into() }))?;
    // One allocator throughout: the log entries below are journaled, never applied here.
    let mut ids = IdAllocator::new(&ns);
    let root = ids.directory_id(&mut pending);
    apply(&mut ns, &mut pending, dir(root, -1, String::new()))?;
    apply(
        &mut ns,
        &mut pending,
        Entry::AddMountPoint(AddMountPointEntry {
            alluxio_path: "/".into(),
            ufs_path: std::env::temp_dir().join("alluxio-bench-ufs").display().to_string(),
            shared: true,
            mount_id: 1,
            ..Default::default()
        }),
    )?;
    let mut made = 0;
    let mut d = 0;
    let mut file_ids = Vec::with_capacity(files);
    while made < files {
        let did = ids.directory_id(&mut pending);
        apply(&mut ns, &mut pending, dir(did, root, format!("d{d}")))?;
        for i in 0..1000.min(files - made) {
            let fid = ids.file_id(&mut pending);
            apply(&mut ns, &mut pending, file(fid, did, format!("f{i}")))?;
            file_ids.push(fid);
        }
        made += 1000.min(files - made);
        d += 1;
    }
    for p in pending.drain(..) {
        ns.apply_entry(&p, &mut Vec::new()).map_err(|e| e.to_string())?;
    }
    // The checkpoint covers sequence numbers below `end`; the log continues from there.
    let end = 1_000_000_000;
    let mut cp = CheckpointWriter::create(&layout, end).map_err(|e| e.to_string())?;
    ns.snapshot(|e| cp.append(&JournalEntry { sequence_number: 0, entry: Some(e) }).map_err(|e| e.to_string()))?;
    cp.finish().map_err(|e| e.to_string())?;
    let journal = LocalJournal::start(layout, end, WriterOptions::default()).map_err(|e| e.to_string())?;
    let rt = tokio::runtime::Builder::new_current_thread().build().map_err(|e| e.to_string())?;
    let log_dir = ids.directory_id(&mut pending);
    let mut batch: Vec<JournalEntry> =
        pending.drain(..).map(|e| JournalEntry { sequence_number: 0, entry: Some(e) }).collect();
    batch.push(JournalEntry { sequence_number: 0, entry: Some(dir(log_dir, root, "log".into())) });
    let mut written = batch.len();
    let mut tickets = vec![journal.append(std::mem::take(&mut batch))];
    let mut i = 0;
    while written < log_entries {
        let mut gen = Vec::new();
        let fid = ids.file_id(&mut gen);
        for e in gen {
            batch.push(JournalEntry { sequence_number: 0, entry: Some(e) });
        }
        batch.push(JournalEntry { sequence_number: 0, entry: Some(file(fid, log_dir, format!("g{i}"))) });
        written += 1;
        i += 1;
        if batch.len() >= 1000 {
            tickets.push(journal.append(std::mem::take(&mut batch)));
        }
    }
    if !batch.is_empty() {
        tickets.push(journal.append(batch));
    }
    rt.block_on(async {
        for t in tickets {
            t.wait().await.map_err(|e| e.to_string())?;
        }
        Ok::<(), String>(())
    })?;
    journal.close();
    Ok(file_ids)
}

/// `bench worker-scale`: a journal of `blocks` one-block files and, in `tier`, a block file for
/// each, as a worker that cached them all would leave behind.
fn worker_scale(args: &[String]) -> Result<(), String> {
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
fn replay(args: &[String]) -> Result<(), String> {
    use alluxio_journal::{recover, Layout, Origin};
    use alluxio_master::namespace::Namespace;

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

    // Baseline: read every journal byte and checksum it.
    let layout = Layout::new(&folder);
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
    let raw = t0.elapsed().as_secs_f64();
    std::hint::black_box(crc);

    let mut ns = Namespace::new();
    let mut removed = Vec::new();
    let (mut cp_n, mut log_n) = (0u64, 0u64);
    let mut cp_done: Option<Instant> = None;
    let t1 = Instant::now();
    recover(&layout, |o, e| {
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
    let total = t1.elapsed().as_secs_f64();
    let cp_secs = cp_done.map(|t| (t - t1).as_secs_f64()).unwrap_or(total);
    let log_secs = (total - cp_secs).max(1e-9);
    println!("{:<52} {:>10} {:>12}", "phase", "seconds", "entries/s");
    println!(
        "{:<52} {:>10.3} {:>12}",
        format!("read + CRC32C of {} MB of journal files (baseline)", bytes >> 20),
        raw,
        "-"
    );
    println!("{:<52} {:>10.3} {:>12.0}", format!("load checkpoint ({cp_n} entries)"), cp_secs, cp_n as f64 / cp_secs);
    println!("{:<52} {:>10.3} {:>12.0}", format!("replay log ({log_n} entries)"), log_secs, log_n as f64 / log_secs);
    println!("{:<52} {:>10.3} {:>12.0}", "recovery total", total, (cp_n + log_n) as f64 / total);
    // Backup and restore of the recovered namespace, through the same code as fsadmin backup
    // and alluxio-start.sh -i.
    let backup_path = folder.join("bench-backup.gz");
    let t2 = Instant::now();
    let entries: Vec<_> = ns
        .entries()
        .into_iter()
        .map(|e| alluxio_proto::journal::JournalEntry { sequence_number: 0, entry: Some(e) })
        .collect();
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
    let n = entries.len() as f64;
    drop(entries);
    let restore_dir = folder.join("bench-restore");
    let restore_layout = Layout::new(&restore_dir);
    restore_layout.format().map_err(|e| e.to_string())?;
    let t3 = Instant::now();
    let data = std::fs::read(&backup_path).map_err(|e| e.to_string())?;
    let mut restored = Namespace::new();
    let mut removed = Vec::new();
    alluxio_journal::backup::read_backup(&data[..], "bench", |_, e| Ok(restored.apply(&e, &mut removed)?))
        .map_err(|e| e.to_string())?;
    alluxio_master::backup::write_restored(&restore_layout, &restored).map_err(|e| e.to_string())?;
    let restore_secs = t3.elapsed().as_secs_f64();
    println!(
        "{:<52} {:>10.3} {:>12.0}",
        format!("backup ({} entries, {} MB gzip)", n as u64, backup_bytes >> 20),
        backup_secs,
        n / backup_secs
    );
    println!("{:<52} {:>10.3} {:>12.0}", "restore into an empty journal", restore_secs, n / restore_secs);
    println!("recovery time / baseline read time: {:.2}x; namespace holds {} inodes", total / raw, ns.inode_count());
    Ok(())
}

/// `bench tcp --bytes N`: the baseline for remote reads, a plain copy of N bytes from one thread
/// to another over a loopback TCP connection with 1 MiB writes and reads.
fn tcp_copy(args: &[String]) -> Result<f64, String> {
    use std::io::{Read, Write};
    let bytes = flag(args, "--bytes").and_then(|v| alluxio_common::conf::values::parse_bytes(&v)).unwrap_or(1 << 30);
    let listener = std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let sender = std::thread::spawn(move || -> std::io::Result<()> {
        let (mut s, _) = listener.accept()?;
        s.set_nodelay(true)?;
        let buf = vec![0x5au8; 1 << 20];
        let mut left = bytes;
        while left > 0 {
            let n = (buf.len() as u64).min(left) as usize;
            s.write_all(&buf[..n])?;
            left -= n as u64;
        }
        Ok(())
    });
    let started = Instant::now();
    let mut s = std::net::TcpStream::connect(addr).map_err(|e| e.to_string())?;
    let mut buf = vec![0u8; 1 << 20];
    let mut got = 0u64;
    while got < bytes {
        let n = s.read(&mut buf).map_err(|e| e.to_string())?;
        if n == 0 {
            break;
        }
        got += n as u64;
    }
    let secs = started.elapsed().as_secs_f64();
    sender.join().map_err(|_| "sender panicked".to_string())?.map_err(|e| e.to_string())?;
    println!(
        "tcp copy of {got} bytes over loopback: {secs:.3} s, {:.2} GiB/s",
        got as f64 / secs / (1u64 << 30) as f64
    );
    Ok(secs)
}

/// `bench eviction`: the worker's block store under a Zipf-distributed trace over a working set
/// twice its capacity, against an ideal LRU cache simulated on the same trace.
fn eviction(args: &[String]) -> Result<(), String> {
    use alluxio_worker::block_store::{BlockStore, Policies, StorageDir};
    let capacity: u64 = flag(args, "--blocks").and_then(|v| v.parse().ok()).unwrap_or(1000);
    let accesses: usize = flag(args, "--accesses").and_then(|v| v.parse().ok()).unwrap_or(50_000);
    let dir = flag(args, "--dir")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join("alluxio-eviction-bench"));
    let _ = std::fs::remove_dir_all(&dir);
    let block = 4096u64;
    let dirs = vec![StorageDir {
        path: dir.join("alluxioworker"),
        tier_alias: "MEM".into(),
        tier_level: 0,
        medium: "MEM".into(),
        capacity: capacity * block,
    }];
    let (store, _) = BlockStore::open_with(dirs, Policies::default()).map_err(|e| e.to_string())?;
    // Zipf(s = 0.9) over 2 x capacity blocks, from a fixed-seed xorshift.
    let n = (2 * capacity) as usize;
    let weights: Vec<f64> = (1..=n).map(|k| 1.0 / (k as f64).powf(0.9)).collect();
    let total: f64 = weights.iter().sum();
    let mut cdf = Vec::with_capacity(n);
    let mut acc = 0.0;
    for w in &weights {
        acc += w / total;
        cdf.push(acc);
    }
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let trace: Vec<i64> = (0..accesses)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let u = (x >> 11) as f64 / (1u64 << 53) as f64;
            cdf.partition_point(|c| *c < u).min(n - 1) as i64 + 1
        })
        .collect();
    let data = vec![1u8; block as usize];
    let crcs = alluxio_common::checksum::of(&data);
    let started = Instant::now();
    let mut hits = 0usize;
    for id in &trace {
        if let Some(lock) = store.lock(*id) {
            hits += 1;
            drop(lock);
        } else {
            let p = store.create_temp(*id, 0, block, false).map_err(|e| e.to_string())?;
            std::fs::write(&p, &data).map_err(|e| e.to_string())?;
            let c = alluxio_worker::block_store::Crcs::Computed(crcs.clone());
            store.commit(*id, block, c).map_err(|e| e.to_string())?;
        }
    }
    let secs = started.elapsed().as_secs_f64();
    // The ideal LRU of the same capacity, on the same trace.
    let mut order: std::collections::BTreeMap<usize, i64> = std::collections::BTreeMap::new();
    let mut last: rustc_hash::FxHashMap<i64, usize> = Default::default();
    let mut ideal = 0usize;
    for (t, id) in trace.iter().enumerate() {
        if let Some(prev) = last.insert(*id, t) {
            ideal += 1;
            order.remove(&prev);
        } else if last.len() > capacity as usize {
            if let Some((_, victim)) = order.pop_first() {
                last.remove(&victim);
            }
        }
        order.insert(t, *id);
    }
    let _ = std::fs::remove_dir_all(&dir);
    let (hr, ir) = (hits as f64 / accesses as f64, ideal as f64 / accesses as f64);
    println!("eviction: {accesses} accesses (Zipf 0.9) over {n} blocks, cache of {capacity} blocks, {secs:.2} s");
    println!(
        "  block store hit ratio {:.4}, ideal LRU hit ratio {:.4}, difference {:.2}%",
        hr,
        ir,
        (hr - ir).abs() / ir * 100.0
    );
    Ok(())
}

/// `bench read --path P [--remote] [--clients N] [--runs R]`: reads cached files through the
/// client library, timed from open to last byte (best of R). `--remote` turns short-circuit off
/// and compares with a plain loopback TCP copy of the same size; `--clients N` reads P.0 ... P.(N-1)
/// concurrently (each client its own connection) and compares the aggregate with one client
/// reading P.0. `--copy` copies every chunk into a 4 MiB user buffer, as an application calling
/// `read` would; `--baseline F` implies it and compares with `read(2)` of F (a tmpfs copy) into
/// the same buffer.
async fn read(conf: &Conf, args: &[String]) -> Result<(), String> {
    let path = flag(args, "--path").ok_or("--path is required")?;
    let baseline = flag(args, "--baseline");
    let copy = baseline.is_some() || args.iter().any(|a| a == "--copy");
    let remote = args.iter().any(|a| a == "--remote");
    let clients: usize = flag(args, "--clients").and_then(|v| v.parse().ok()).unwrap_or(1);
    let runs: usize = flag(args, "--runs").and_then(|v| v.parse().ok()).unwrap_or(3);
    let mut c = conf.clone();
    if remote {
        c.set("alluxio.user.short.circuit.enabled", "false");
    }
    let mut fss = Vec::with_capacity(clients);
    for _ in 0..clients {
        fss.push(FileSystem::connect(&c).await.map_err(|e| e.message)?);
    }
    let one = |p: String, fs: FileSystem| async move {
        let ap = AlluxioPath::parse(&p).map_err(|e| e.to_string())?;
        let mut input = fs.open_file(&ap, None).await.map_err(|e| e.message)?;
        let mut n = 0u64;
        let mut user = if copy { vec![0u8; 4 << 20] } else { Vec::new() };
        while let Some(b) = input.read_chunk().await.map_err(|e| e.message)? {
            if copy {
                for part in b.chunks(user.len()) {
                    user[..part.len()].copy_from_slice(part);
                }
            }
            n += b.len() as u64;
        }
        std::hint::black_box(&user);
        Ok::<u64, String>(n)
    };
    let time = |paths: Vec<String>| {
        let fss = fss.clone();
        async move {
            let mut best = f64::MAX;
            let mut bytes = 0;
            for _ in 0..runs {
                let t = Instant::now();
                let tasks: Vec<_> =
                    paths.iter().zip(&fss).map(|(p, fs)| tokio::spawn(one(p.clone(), fs.clone()))).collect();
                bytes = 0;
                for t in tasks {
                    bytes += t.await.map_err(|e| e.to_string())??;
                }
                best = best.min(t.elapsed().as_secs_f64());
            }
            Ok::<(f64, u64), String>((best, bytes))
        }
    };
    let gib = |b: u64, s: f64| b as f64 / s / (1u64 << 30) as f64;
    if clients > 1 {
        let (t1, b1) = time(vec![format!("{path}.0")]).await?;
        let (tn, bn) = time((0..clients).map(|i| format!("{path}.{i}")).collect()).await?;
        println!("1 client: {b1} bytes in {t1:.3} s = {:.2} GiB/s", gib(b1, t1));
        println!("{clients} clients: {bn} bytes in {tn:.3} s = {:.2} GiB/s aggregate", gib(bn, tn));
        println!("aggregate / one client: {:.2}x", gib(bn, tn) / gib(b1, t1));
        return Ok(());
    }
    let (t, bytes) = time(vec![path.clone()]).await?;
    println!(
        "{} read of {path}: {bytes} bytes in {t:.3} s = {:.2} GiB/s",
        if remote { "remote" } else { "short-circuit" },
        gib(bytes, t)
    );
    if let Some(file) = baseline {
        let base = tokio::task::spawn_blocking(move || -> std::io::Result<f64> {
            use std::io::Read;
            let mut best = f64::MAX;
            let mut user = vec![0u8; 4 << 20];
            for _ in 0..runs {
                let t = Instant::now();
                let mut f = std::fs::File::open(&file)?;
                while f.read(&mut user)? > 0 {}
                best = best.min(t.elapsed().as_secs_f64());
            }
            std::hint::black_box(&user);
            Ok(best)
        })
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| format!("baseline: {e}"))?;
        println!(
            "read(2) of the tmpfs copy into a 4 MiB buffer (baseline): {base:.3} s = {:.2} GiB/s",
            gib(bytes, base)
        );
        println!("short-circuit read / tmpfs read: {:.2}x", base / t);
    }
    if remote {
        let a = vec!["--bytes".to_string(), bytes.to_string()];
        let base = tokio::task::spawn_blocking(move || tcp_copy(&a)).await.map_err(|e| e.to_string())??;
        println!("remote read / loopback TCP copy: {:.2}x", base / t);
    }
    Ok(())
}
