//! Worker process start-up: tier configuration, block store scan, registration, serving.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use alluxio_common::conf::Conf;
use alluxio_common::net;
use alluxio_proto::grpc::block::block_worker_server::BlockWorkerServer;
use alluxio_proto::grpc::WorkerNetAddress;
use alluxio_proto::transport::Transport;
use alluxio_proto::version::check_version;
use tonic::service::interceptor::InterceptedService;

use crate::block_store::{Allocator, Annotator, BlockStore, Policies, StorageDir};
use crate::error::{Result, WorkerError};
use crate::service::BlockWorkerService;
use crate::worker::Worker;

const DEFAULT_ALIASES: [&str; 3] = ["MEM", "SSD", "HDD"];

fn conf_err(e: alluxio_common::ConfError) -> WorkerError {
    WorkerError::InvalidArgument(e.to_string())
}

/// Total and available bytes of the file system holding `path`.
pub fn fs_space(path: &Path) -> Option<(u64, u64)> {
    let c = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).ok()?;
    let mut s: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: `c` is a valid NUL-terminated path and `s` a writable statvfs.
    if unsafe { libc::statvfs(c.as_ptr(), &mut s) } != 0 {
        return None;
    }
    Some((s.f_blocks as u64 * s.f_frsize as u64, s.f_bavail as u64 * s.f_frsize as u64))
}

fn total_memory() -> u64 {
    std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines()
                .find(|l| l.starts_with("MemTotal:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|k| k.parse::<u64>().ok())
        })
        .map(|kb| kb * 1024)
        .unwrap_or(1 << 30)
}

/// The storage directories the configuration describes, validated.
pub fn storage_dirs(conf: &Conf) -> Result<Vec<StorageDir>> {
    let levels = conf.get_i64("alluxio.worker.tieredstore.levels").map_err(conf_err)?;
    if !(1..=3).contains(&levels) {
        return Err(WorkerError::InvalidArgument(format!(
            "Invalid value '{levels}' for alluxio.worker.tieredstore.levels: expected 1, 2 or 3"
        )));
    }
    let data_folder = conf.get_str("alluxio.worker.data.folder").map_err(conf_err)?;
    let data_folder = data_folder.trim_matches('/').to_owned();
    let mut dirs = Vec::new();
    let mut seen: Vec<(PathBuf, String)> = Vec::new();
    for (level, default_alias) in DEFAULT_ALIASES.iter().enumerate().take(levels as usize) {
        let tier = Tier::read(conf, level, default_alias)?;
        for (i, p) in tier.paths.iter().enumerate() {
            let (root, quota) = tier.directory(i, p, &mut seen)?;
            dirs.push(StorageDir {
                path: root.join(&data_folder),
                tier_alias: tier.alias.clone(),
                tier_level: level,
                medium: tier.media.get(i).cloned().unwrap_or_else(|| tier.alias.clone()),
                capacity: quota,
            });
        }
    }
    Ok(dirs)
}

/// One tier's `alluxio.worker.tieredstore.level<n>.*` settings.
struct Tier {
    level: usize,
    alias: String,
    paths: Vec<String>,
    quotas: Vec<String>,
    /// The key the quotas came from (for error messages).
    quota_key: String,
    media: Vec<String>,
}

impl Tier {
    fn key(level: usize, s: &str) -> String {
        format!("alluxio.worker.tieredstore.level{level}.{s}")
    }

    fn read(conf: &Conf, level: usize, default_alias: &str) -> Result<Self> {
        let key = |s: &str| Self::key(level, s);
        let alias =
            conf.get(&key("alias")).map_err(conf_err)?.unwrap_or_else(|| default_alias.to_owned()).to_ascii_uppercase();
        if !DEFAULT_ALIASES.contains(&alias.as_str()) {
            return Err(WorkerError::InvalidArgument(format!(
                "Invalid value '{alias}' for {}: expected a tier alias of alluxio.master.tieredstore.global.levels (MEM, SSD or HDD)",
                key("alias")
            )));
        }
        let mut paths = conf.get_list(&key("dirs.path")).map_err(conf_err)?;
        if paths.is_empty() {
            if level == 0 {
                paths.push("/dev/shm".into());
            } else {
                return Err(WorkerError::InvalidArgument(format!("{} must be set for tier {alias}", key("dirs.path"))));
            }
        }
        let mut quotas = conf.get_list(&key("dirs.quota")).map_err(conf_err)?;
        let quota_key =
            if quotas.is_empty() && level == 0 { "alluxio.worker.ramdisk.size".to_owned() } else { key("dirs.quota") };
        if quotas.is_empty() {
            if level == 0 {
                if let Some(v) = conf.get("alluxio.worker.ramdisk.size").map_err(conf_err)? {
                    quotas.push(v);
                }
            } else {
                return Err(WorkerError::InvalidArgument(format!(
                    "{} must be set for tier {alias}",
                    key("dirs.quota")
                )));
            }
        }
        let media = conf.get_list(&key("dirs.mediumtype")).map_err(conf_err)?;
        Ok(Tier { level, alias, paths, quotas, quota_key, media })
    }

    /// The `i`th directory `p` of this tier, created, and its quota. A directory may belong to
    /// one tier only (`seen` holds those of the tiers before).
    fn directory(&self, i: usize, p: &str, seen: &mut Vec<(PathBuf, String)>) -> Result<(PathBuf, u64)> {
        let path_key = Self::key(self.level, "dirs.path");
        let root = PathBuf::from(p);
        if !root.is_absolute() {
            return Err(WorkerError::InvalidArgument(format!("{path_key}: directory {p} must be an absolute path")));
        }
        std::fs::create_dir_all(&root)
            .map_err(|e| WorkerError::InvalidArgument(format!("{path_key}: cannot create directory {p}: {e}")))?;
        let canon = root.canonicalize().unwrap_or(root.clone());
        if let Some((_, other)) = seen.iter().find(|(d, _)| *d == canon) {
            return Err(WorkerError::InvalidArgument(format!(
                "{path_key}: directory {p} is already used by tier {other}; each directory may belong to one tier only"
            )));
        }
        seen.push((canon, self.alias.clone()));
        let (fs_total, _) = fs_space(&root).unwrap_or((u64::MAX, u64::MAX));
        let quota_key = &self.quota_key;
        let quota = match self.quotas.get(i).or(self.quotas.last()) {
            Some(q) => {
                let v = alluxio_common::conf::values::parse_bytes(q).ok_or_else(|| {
                    WorkerError::InvalidArgument(format!(
                        "Invalid value '{q}' for {quota_key}: expected a byte size such as 64MB or 1GB"
                    ))
                })?;
                if v > fs_total {
                    return Err(WorkerError::InvalidArgument(format!(
                        "Invalid value '{q}' for {quota_key}: directory {p} is on a file system of only {fs_total} bytes"
                    )));
                }
                v
            }
            // Alluxio's default ramdisk size: two thirds of memory, but no more than the tmpfs holds.
            None => (total_memory() / 3 * 2).min(fs_total),
        };
        Ok((root, quota))
    }
}

/// The allocator and annotator the configuration names.
pub fn policies(conf: &Conf) -> Result<Policies> {
    let class = |key: &str| -> Result<String> {
        let v = conf.get_str(key).map_err(conf_err)?;
        Ok(v.rsplit('.').next().unwrap_or(&v).to_owned())
    };
    let allocator = match class("alluxio.worker.allocator.class")?.as_str() {
        "RoundRobinAllocator" => Allocator::RoundRobin,
        "GreedyAllocator" => Allocator::Greedy,
        _ => Allocator::MaxFree,
    };
    let factor = |key: &str| -> Result<f64> {
        let v = conf.get_str(key).map_err(conf_err)?;
        v.trim().parse::<f64>().ok().filter(|f| *f > 0.0).ok_or_else(|| {
            WorkerError::InvalidArgument(format!("Invalid value '{v}' for {key}: expected a positive number"))
        })
    };
    let annotator = match class("alluxio.worker.block.annotator.class")?.as_str() {
        "LRFUAnnotator" => Annotator::Lrfu {
            step: factor("alluxio.worker.block.annotator.lrfu.step.factor")?,
            attenuation: factor("alluxio.worker.block.annotator.lrfu.attenuation.factor")?,
        },
        _ => Annotator::Lru,
    };
    Ok(Policies { allocator, annotator })
}

/// Runs a worker until SIGTERM/SIGINT.
pub async fn run(conf: Arc<Conf>) -> Result<()> {
    let started = Instant::now();
    let ports = Ports::bind(&conf)?;
    let store = open_store(&conf, started).await?;
    let master_addr = match conf.get_list("alluxio.master.rpc.addresses").map_err(conf_err)? {
        l if !l.is_empty() => l.join(","),
        _ => format!(
            "{}:{}",
            conf.get_str("alluxio.master.hostname").map_err(conf_err)?,
            conf.get_i64("alluxio.master.rpc.port").map_err(conf_err)?
        ),
    };
    let address = WorkerNetAddress {
        host: ports.host.clone(),
        rpc_port: ports.rpc_port as i32,
        data_port: ports.data_port,
        web_port: ports.web_port as i32,
        domain_socket_path: String::new(),
    };
    let chunk = conf.get_bytes("alluxio.user.network.reader.chunk.size.bytes").map_err(conf_err)?.max(4096) as usize;
    let mode = conf.get_enum("alluxio.worker.block.checksum.verify").map_err(conf_err)?;
    let verify = crate::block_check::VerifyMode::parse(&mode).unwrap_or(crate::block_check::VerifyMode::Once);
    // The certificate files are read off the async workers.
    let transport = tokio::task::block_in_place(|| Transport::server(&conf))
        .map_err(|e| WorkerError::InvalidArgument(e.to_string()))?;
    let worker = Arc::new(Worker::new(store, address, &master_addr, chunk, verify, transport.clone())?);
    spawn_promotion(&conf, &worker)?;
    {
        let (w, l, tls) = (worker.clone(), ports.data, transport.server_config());
        std::thread::Builder::new()
            .name("block-data-accept".into())
            .spawn(move || crate::data_server::run(w, l, tls))
            .map_err(|e| WorkerError::Internal(e.to_string()))?;
    }
    let interval = conf.get_duration("alluxio.worker.block.heartbeat.interval").map_err(conf_err)?;
    let refused = tokio::spawn(crate::master_sync::heartbeat_loop(worker.clone(), interval));
    let heartbeat = refused.abort_handle();
    let (fatal_rx, fatal) = watch_refusal(refused);

    let web = crate::web::router(worker.clone());
    let web_listener =
        tokio::net::TcpListener::from_std(ports.web).map_err(|e| WorkerError::Unavailable(e.to_string()))?;
    let web_incoming = transport.incoming(web_listener);
    tokio::spawn(async move {
        let _ = axum::serve(web_incoming, web).await;
    });
    tracing::info!(
        "Alluxio worker {} started in {} ms on {}:{} (web {}{}); master {master_addr}",
        alluxio_common::version::VERSION,
        started.elapsed().as_millis(),
        ports.host,
        ports.rpc_port,
        ports.web_port,
        if transport.is_tls() { "; TLS on every port" } else { "" }
    );
    serve_rpc(ports.rpc, &worker, shutdown_signal(worker.clone(), heartbeat, fatal_rx)).await?;
    if let Some(why) = fatal.lock().take() {
        return Err(WorkerError::FailedPrecondition(why));
    }
    tracing::info!("Alluxio worker stopped");
    Ok(())
}

/// The worker's ports, bound first so a port in use fails the start naming it.
struct Ports {
    host: String,
    rpc_port: i64,
    web_port: i64,
    /// The block data port actually bound (the configured one, or the system's pick for 0).
    data_port: i32,
    rpc: std::net::TcpListener,
    web: std::net::TcpListener,
    data: std::net::TcpListener,
}

impl Ports {
    fn bind(conf: &Conf) -> Result<Self> {
        let host = conf.get_str("alluxio.worker.hostname").map_err(conf_err)?;
        let bind_host = conf.get_str("alluxio.worker.bind.host").map_err(conf_err)?;
        let rpc_port = conf.get_i64("alluxio.worker.rpc.port").map_err(conf_err)?;
        let web_port = conf.get_i64("alluxio.worker.web.port").map_err(conf_err)?;
        let unavailable = |e: &dyn std::fmt::Display| WorkerError::Unavailable(e.to_string());
        let rpc = net::bind(&bind_host, rpc_port, "alluxio.worker.rpc.port").map_err(|e| unavailable(&e))?;
        let web = net::bind(&bind_host, web_port, "alluxio.worker.web.port").map_err(|e| unavailable(&e))?;
        // Remote block reads: 0 lets the system pick a port, announced to the master at registration.
        let data_port = conf.get_i64("alluxio.worker.data.port").map_err(conf_err)?;
        let data = net::bind(&bind_host, data_port, "alluxio.worker.data.port").map_err(|e| unavailable(&e))?;
        data.set_nonblocking(false).map_err(|e| unavailable(&e))?;
        let data_port = data.local_addr().map(|a| a.port() as i32).unwrap_or(0);
        Ok(Ports { host, rpc_port, web_port, data_port, rpc, web, data })
    }
}

/// Opens the tiered block store (scanning its directories on a blocking thread).
async fn open_store(conf: &Conf, started: Instant) -> Result<Arc<BlockStore>> {
    let dirs = storage_dirs(conf)?;
    let policies = policies(conf)?;
    let (store, scan) = crate::blocking::run(move || BlockStore::open_with(dirs, policies)).await?;
    tracing::info!(
        "block store: {} blocks ({} bytes) found in {} ms{}",
        scan.blocks,
        scan.bytes,
        started.elapsed().as_millis(),
        if scan.removed_files > 0 { format!("; {} stray files removed", scan.removed_files) } else { String::new() }
    );
    for d in store.dirs() {
        tracing::info!("tier {} directory {} with quota {} bytes", d.tier_alias, d.path.display(), d.capacity);
    }
    Ok(store)
}

/// Promotion of hot blocks to upper tiers, when enabled and there is more than one tier.
fn spawn_promotion(conf: &Conf, worker: &Arc<Worker>) -> Result<()> {
    if !conf.get_bool("alluxio.worker.management.tier.promote.enabled").map_err(conf_err)?
        || worker.store.tiers().len() < 2
    {
        return Ok(());
    }
    let fill = conf.get_i64("alluxio.worker.management.tier.promote.quota.percent").map_err(conf_err)?.clamp(1, 100)
        as f64
        / 100.0;
    let every = conf.get_duration("alluxio.worker.management.tier.promote.interval").map_err(conf_err)?;
    let store = worker.store.clone();
    tokio::spawn(async move {
        let mut t = tokio::time::interval(every);
        loop {
            t.tick().await;
            let s = store.clone();
            let n = crate::blocking::run(move || s.promote_hot_blocks(fill, 64)).await;
            if n > 0 {
                tracing::debug!("promoted {n} hot blocks to upper tiers");
            }
        }
    });
    Ok(())
}

/// Turns the heartbeat loop's end (the master refused this worker) into a shutdown signal and
/// the reason the process exits with.
fn watch_refusal(
    refused: tokio::task::JoinHandle<WorkerError>,
) -> (tokio::sync::oneshot::Receiver<WorkerError>, Arc<parking_lot::Mutex<Option<String>>>) {
    let (fatal_tx, fatal_rx) = tokio::sync::oneshot::channel::<WorkerError>();
    let fatal = Arc::new(parking_lot::Mutex::new(None));
    let f = fatal.clone();
    tokio::spawn(async move {
        if let Ok(e) = refused.await {
            tracing::error!("the master refused this worker: {e}");
            *f.lock() = Some(e.to_string());
            let _ = fatal_tx.send(e);
        }
    });
    (fatal_rx, fatal)
}

/// Serves the block worker RPCs until `shutdown` completes.
async fn serve_rpc(
    l: std::net::TcpListener,
    worker: &Arc<Worker>,
    shutdown: impl std::future::Future<Output = ()>,
) -> Result<()> {
    let l = tokio::net::TcpListener::from_std(l).map_err(|e| WorkerError::Unavailable(e.to_string()))?;
    let svc = BlockWorkerServer::new(BlockWorkerService { worker: worker.clone() })
        .max_decoding_message_size(64 << 20)
        .max_encoding_message_size(64 << 20);
    tonic::transport::Server::builder()
        .tcp_nodelay(true)
        .initial_stream_window_size(Some(8 << 20))
        .initial_connection_window_size(Some(32 << 20))
        .max_frame_size(Some(1 << 20))
        .add_service(InterceptedService::new(svc, check_version))
        .serve_with_incoming_shutdown(worker.transport.incoming(l), shutdown)
        .await
        .map_err(|e| WorkerError::Unavailable(format!("RPC server failed: {e}")))
}

/// Resolves on SIGTERM/SIGINT (after telling the master this worker leaves) or when the master
/// refused the worker.
async fn shutdown_signal(
    worker: Arc<Worker>,
    heartbeat: tokio::task::AbortHandle,
    refused: tokio::sync::oneshot::Receiver<WorkerError>,
) {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate()).expect("install SIGTERM handler");
    let mut int = signal(SignalKind::interrupt()).expect("install SIGINT handler");
    tokio::select! {
        _ = term.recv() => tracing::info!("SIGTERM received, stopping"),
        _ = int.recv() => tracing::info!("SIGINT received, stopping"),
        r = refused => if r.is_ok() { return },
    }
    // No more heartbeats: the master would answer a leaving worker's with "register again".
    heartbeat.abort();
    crate::master_sync::leave(&worker).await;
}
