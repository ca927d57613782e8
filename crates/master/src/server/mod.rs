//! Master process start-up and shutdown.
//!
//! Order: bind ports (fail fast, naming the port) → open the journal and recover the
//! namespace (`journal`) → build the master from its settings (`settings`) → serve as primary
//! or follow the Raft role (`roles`: root inode, background loops) → serve RPC and web
//! (`servers`). Shutdown in reverse: stop serving, then close the journal (completing the
//! current segment).

use std::sync::Arc;
use std::time::Instant;

use alluxio_common::conf::Conf;
use alluxio_journal::raft::Role;
use alluxio_proto::grpc::WritePType;
use alluxio_proto::transport::Transport;

use crate::block_master::BlockMaster;
use crate::fs::FileSystemMaster;
use crate::service::{block::BlockService, fs::FsService, journal::JournalService, meta::MetaService};
use crate::MasterError;

mod journal;
mod roles;
mod servers;
mod settings;

/// Parses a write type name as the configuration spells it.
pub fn write_type_of(name: &str) -> WritePType {
    match name {
        "MUST_CACHE" => WritePType::MustCache,
        "TRY_CACHE" => WritePType::TryCache,
        "CACHE_THROUGH" => WritePType::CacheThrough,
        "THROUGH" => WritePType::Through,
        "NONE" => WritePType::None,
        _ => WritePType::AsyncThrough,
    }
}

/// How a master serves: a single master (UFS or NOOP journal) is primary from the start; an
/// embedded-journal master follows its Raft role.
#[derive(Clone)]
pub struct Gate {
    me: String,
    role: Option<tokio::sync::watch::Receiver<Role>>,
}

impl Gate {
    /// Refuses client and worker RPCs on a standby, naming the leader.
    #[allow(clippy::result_large_err)]
    pub fn check(&self, req: tonic::Request<()>) -> Result<tonic::Request<()>, tonic::Status> {
        let Some(role) = &self.role else { return Ok(req) };
        match &*role.borrow() {
            Role::Primary => Ok(req),
            Role::Standby { leader } => Err(alluxio_proto::status::standby_status(&self.me, leader.as_deref())),
            Role::Demoted | Role::Failed(_) => Err(alluxio_proto::status::standby_status(&self.me, None)),
        }
    }

    pub fn is_primary(&self) -> bool {
        self.role.as_ref().is_none_or(|r| *r.borrow() == Role::Primary)
    }
}

/// Runs a master until SIGTERM/SIGINT. Errors are start-up failures, each naming its cause.
pub async fn run(conf: Arc<Conf>) -> Result<(), MasterError> {
    let started = Instant::now();
    let start_time_ms = alluxio_common::now_ms();
    // The certificate files are read off the async workers.
    let transport = tokio::task::block_in_place(|| Transport::server(&conf))?;
    let ports = settings::Listeners::bind(&conf)?;
    let address = ports.address.clone();
    let opened = journal::open(&conf, &ports.host, &address, &transport).await?;
    let (raft, raft_listener) = match opened.raft {
        Some((j, l)) => (Some(j), Some(l)),
        None => (None, None),
    };
    let journal = opened.journal;
    let master = Arc::new(FileSystemMaster::new(
        opened.ns,
        journal.clone(),
        opened.layout,
        block_master(&conf)?,
        settings::fs_options(&conf, &transport)?,
        opened.last_checkpoint,
    ));
    let backups =
        Arc::new(crate::backup::Backups::new(ports.host.clone(), conf.get_str("alluxio.master.backup.directory")?));
    let daily_backup_time = settings::daily_backup_time(&conf)?;
    let gate = Gate { me: address.clone(), role: raft.as_ref().map(|j| j.role()) };
    roles::start(&master, &conf, &backups, raft.as_ref(), daily_backup_time).await?;
    let services = services(&conf, &master, backups, raft.clone(), &ports, start_time_ms)?;
    let meta = services.meta.clone();
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let web = crate::web::WebState { master: master.clone(), address: address.clone(), start_time_ms };
    servers::serve_web(ports.web, web, &transport, stop_rx.clone())?;
    if let (Some(j), Some(l)) = (&raft, raft_listener) {
        servers::serve_raft(l, j, &master, &meta, &transport, stop_rx)?;
    }
    tracing::info!(
        "Alluxio master {} started in {} ms: RPC on {address}, web on {}://{}:{}, journal {}{}",
        alluxio_common::version::VERSION,
        started.elapsed().as_millis(),
        transport.scheme(),
        ports.host,
        ports.web_port,
        journal.kind(),
        if transport.is_tls() { "; TLS on every port" } else { "" }
    );
    let shutdown = shutdown_signal(master.failures());
    let result = servers::serve_rpc(ports.rpc, services, gate, &transport, shutdown).await;
    let _ = stop_tx.send(true);
    if let Some(j) = &raft {
        j.shutdown().await;
    }
    let fatal = master.failure();
    drop(master);
    // Complete the current segment so the next start finds a clean journal.
    drop(journal);
    if let Some(why) = fatal {
        return Err(MasterError::JournalFailed { reason: why });
    }
    result?;
    tracing::info!("Alluxio master stopped");
    drop(opened.lock);
    Ok(())
}

/// `master_audit.log` in the logs directory, when `alluxio.master.audit.logging.enabled`.
fn audit_log(conf: &Conf) -> Result<Option<crate::audit::AuditLog>, MasterError> {
    if !conf.get_bool("alluxio.master.audit.logging.enabled")? {
        return Ok(None);
    }
    let dir = std::path::PathBuf::from(conf.get_str("alluxio.logs.dir")?);
    let capacity = conf.get_i64("alluxio.master.audit.logging.queue.capacity")?.max(1) as usize;
    let log = crate::audit::AuditLog::start(&dir, capacity)?;
    tracing::info!("audit log: {}", dir.join("master_audit.log").display());
    Ok(Some(log))
}

fn block_master(conf: &Conf) -> Result<Arc<BlockMaster>, MasterError> {
    Ok(Arc::new(BlockMaster::new(
        conf.get_duration("alluxio.master.worker.timeout")?,
        conf.get_duration("alluxio.master.worker.connect.wait.time")?,
    )))
}

/// The gRPC services over one master.
fn services(
    conf: &Arc<Conf>,
    master: &Arc<FileSystemMaster>,
    backups: Arc<crate::backup::Backups>,
    raft: Option<Arc<alluxio_journal::raft::RaftJournal>>,
    ports: &settings::Listeners,
    start_time_ms: i64,
) -> Result<servers::Services, MasterError> {
    alluxio_common::user::set_group_cache_timeout(conf.get_duration("alluxio.security.group.mapping.cache.timeout")?);
    let auth = Arc::new(crate::authn::Authenticator::from_conf(conf, master.system_caller().user)?);
    let gate = crate::service::SuperuserGate { master: master.clone(), auth: auth.clone() };
    let meta = Arc::new(MetaService {
        backups,
        master: master.clone(),
        conf: conf.clone(),
        address: ports.address.clone(),
        rpc_port: ports.rpc_port as i32,
        web_port: ports.web_port as i32,
        start_time_ms,
        raft: raft.clone(),
        delegation: conf.get_bool("alluxio.master.backup.delegation.enabled")?,
        gate: gate.clone(),
        runtime: Default::default(),
    });
    let default_write_type = write_type_of(&conf.get_enum("alluxio.user.file.writetype.default")?);
    Ok(servers::Services {
        fs: FsService {
            master: master.clone(),
            default_write_type,
            auth,
            audit: tokio::task::block_in_place(|| audit_log(conf))?,
        },
        block: Arc::new(BlockService { master: master.clone() }),
        meta,
        journal: JournalService { raft, gate },
    })
}

async fn shutdown_signal(mut fatal: tokio::sync::watch::Receiver<Option<String>>) {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate()).expect("install SIGTERM handler");
    let mut int = signal(SignalKind::interrupt()).expect("install SIGINT handler");
    tokio::select! {
        _ = term.recv() => tracing::info!("SIGTERM received, stopping"),
        _ = int.recv() => tracing::info!("SIGINT received, stopping"),
        _ = fatal.wait_for(|f| f.is_some()) => tracing::error!("journal failure: stopping so a restart can replay the journal"),
    }
}
