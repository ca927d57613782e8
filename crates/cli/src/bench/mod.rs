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

mod data;
mod journal;

use data::{eviction, read, tcp_copy};
use journal::{replay, worker_scale};

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
