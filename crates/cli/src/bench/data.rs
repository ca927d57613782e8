//! Benchmarks of the data path: reads through the client, the loopback TCP baseline, eviction.

use std::time::Instant;

use alluxio_client::FileSystem;
use alluxio_common::{AlluxioPath, Conf};

use super::flag;

/// `bench tcp --bytes N`: the baseline for remote reads, a plain copy of N bytes from one thread
/// to another over a loopback TCP connection with 1 MiB writes and reads.
pub(super) fn tcp_copy(args: &[String]) -> Result<f64, String> {
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
pub(super) fn eviction(args: &[String]) -> Result<(), String> {
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
pub(super) async fn read(conf: &Conf, args: &[String]) -> Result<(), String> {
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
    let time = |paths: Vec<String>| timed_reads(fss.clone(), paths, runs, copy);
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
        let base = tokio::task::spawn_blocking(move || read_file(&file, runs))
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

/// Reads `paths` concurrently, one per client, `runs` times; the best time and the bytes read.
async fn timed_reads(fss: Vec<FileSystem>, paths: Vec<String>, runs: usize, copy: bool) -> Result<(f64, u64), String> {
    let mut best = f64::MAX;
    let mut bytes = 0;
    for _ in 0..runs {
        let t = Instant::now();
        let tasks: Vec<_> =
            paths.iter().zip(&fss).map(|(p, fs)| tokio::spawn(read_one(p.clone(), fs.clone(), copy))).collect();
        bytes = 0;
        for t in tasks {
            bytes += t.await.map_err(|e| e.to_string())??;
        }
        best = best.min(t.elapsed().as_secs_f64());
    }
    Ok((best, bytes))
}

/// Reads one file to its end through the client; with `copy`, into a 4 MiB user buffer.
async fn read_one(p: String, fs: FileSystem, copy: bool) -> Result<u64, String> {
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
    Ok(n)
}

/// The baseline of `--baseline`: `read(2)` of a file into a 4 MiB buffer, best of `runs`.
fn read_file(file: &str, runs: usize) -> std::io::Result<f64> {
    use std::io::Read;
    let mut best = f64::MAX;
    let mut user = vec![0u8; 4 << 20];
    for _ in 0..runs {
        let t = Instant::now();
        let mut f = std::fs::File::open(file)?;
        while f.read(&mut user)? > 0 {}
        best = best.min(t.elapsed().as_secs_f64());
    }
    std::hint::black_box(&user);
    Ok(best)
}
