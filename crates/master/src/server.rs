//! Master process start-up and shutdown.
//!
//! Order: bind ports (fail fast, naming the port) → recover the journal into the namespace
//! → start the journal writer → create the root if new → start background loops (lost
//! workers, persistence, checkpoints) → serve RPC and web. Shutdown in reverse: stop
//! serving, then close the journal (completing the current segment).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use alluxio_common::conf::Conf;
use alluxio_common::lock::DirLock;
use alluxio_common::{mode, net};
use alluxio_journal::raft::{RaftJournal, RaftOptions, Role};
use alluxio_journal::{recover, Journal, Layout, LocalJournal, NoopJournal, WriterOptions};
use alluxio_proto::grpc::block::block_master_client_service_server::BlockMasterClientServiceServer;
use alluxio_proto::grpc::block::block_master_worker_service_server::BlockMasterWorkerServiceServer;
use alluxio_proto::grpc::file::file_system_master_client_service_server::FileSystemMasterClientServiceServer;
use alluxio_proto::grpc::journal::journal_master_client_service_server::JournalMasterClientServiceServer;
use alluxio_proto::grpc::journal::raft_journal_service_server::RaftJournalServiceServer;
use alluxio_proto::grpc::meta::meta_master_client_service_server::MetaMasterClientServiceServer;
use alluxio_proto::grpc::meta::meta_master_master_service_server::MetaMasterMasterServiceServer;
use alluxio_proto::grpc::meta::service_version_client_service_server::ServiceVersionClientServiceServer;
use alluxio_proto::grpc::WritePType;
use alluxio_proto::version::check_version;
use tonic::service::interceptor::InterceptedService;

use crate::block_master::BlockMaster;
use crate::file_system_master::{FileSystemMaster, FsOptions, LoadType};
use crate::namespace::Namespace;
use crate::persistence::{self, PersistOptions};
use crate::service::{block::BlockService, fs::FsService, meta::MetaService};
use crate::MasterError;

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

fn conf_err(e: alluxio_common::ConfError) -> MasterError {
    MasterError::InvalidArgument(e.to_string())
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
    let host = conf.get_str("alluxio.master.hostname").map_err(conf_err)?;
    let bind_host = conf.get_str("alluxio.master.bind.host").map_err(conf_err)?;
    let rpc_port = conf.get_i64("alluxio.master.rpc.port").map_err(conf_err)?;
    let web_port = conf.get_i64("alluxio.master.web.port").map_err(conf_err)?;
    let rpc_listener = net::bind(&bind_host, rpc_port, "alluxio.master.rpc.port")
        .map_err(|e| MasterError::Unavailable(e.to_string()))?;
    let web_bind = conf.get_str("alluxio.master.web.bind.host").map_err(conf_err)?;
    let web_listener = net::bind(&web_bind, web_port, "alluxio.master.web.port")
        .map_err(|e| MasterError::Unavailable(e.to_string()))?;
    let address = format!("{host}:{rpc_port}");

    // Recover the namespace.
    let journal_type = conf.get_enum("alluxio.master.journal.type").map_err(conf_err)?;
    let folder = conf.get_str("alluxio.master.journal.folder").map_err(conf_err)?;
    let ns = Arc::new(parking_lot::RwLock::new(Namespace::new()));
    let mut last_checkpoint = 0;
    let mut raft: Option<Arc<RaftJournal>> = None;
    let mut raft_listener = None;
    // Held for the process's life: one master per journal folder.
    let mut journal_lock = None;
    let (journal, layout): (Arc<dyn Journal>, Option<Layout>) = match journal_type.as_str() {
        "UFS" => {
            let masters = conf.get_list("alluxio.master.embedded.journal.addresses").map_err(conf_err)?;
            if masters.len() > 1 {
                return Err(MasterError::InvalidArgument(format!(
                    "alluxio.master.journal.type=UFS but alluxio.master.embedded.journal.addresses lists {} masters: \
                     several masters need alluxio.master.journal.type=EMBEDDED on every one of them (journal types \
                     cannot be mixed; move between them with backup, format and alluxio-start.sh -i)",
                    masters.len()
                )));
            }
            let layout = Layout::new(&folder);
            layout.check_foreign()?;
            if !layout.is_formatted() {
                return Err(alluxio_journal::JournalError::Unformatted { folder: layout.folder.clone() }.into());
            }
            journal_lock = Some(layout.lock("master")?);
            if dir_has_entries(&alluxio_journal::raft::raft_dir(layout.folder.as_path())) {
                return Err(MasterError::FailedPrecondition(format!(
                    "the journal folder {folder} holds an EMBEDDED journal but alluxio.master.journal.type=UFS. \
                     Start with alluxio.master.journal.type=EMBEDDED, or move the metadata: alluxio fsadmin backup, \
                     alluxio format, alluxio-start.sh -i <backup> masters"
                )));
            }
            let restored = match conf.get("alluxio.master.journal.init.from.backup").map_err(conf_err)? {
                Some(uri) => restore_if_empty(&conf, &layout, &uri).await?,
                None => None,
            };
            let next_sequence = match restored {
                // The restored state is already in memory and in the journal (its checkpoint at 0).
                Some(restored) => {
                    *ns.write() = restored;
                    0
                }
                None => {
                    let l2 = layout.clone();
                    let replay_started = Instant::now();
                    let (ns2, rec) = tokio::task::spawn_blocking(move || {
                        let mut ns = Namespace::new();
                        let mut removed = Vec::new();
                        let rec = recover(&l2, |_, e| {
                            removed.clear();
                            ns.apply(&e, &mut removed).map_err(|why| {
                                alluxio_journal::JournalError::Apply(format!(
                                    "journal entry {} cannot be applied ({why}); the journal does not match its own history",
                                    e.sequence_number
                                ))
                            })
                        })?;
                        Ok::<_, alluxio_journal::JournalError>((ns, rec))
                    })
                    .await
                    .map_err(|e| MasterError::Internal(e.to_string()))??;
                    *ns.write() = ns2;
                    last_checkpoint = rec.checkpoint_sequence.unwrap_or(0);
                    tracing::info!(
                        "journal {folder}: loaded {} checkpoint entries and replayed {} log entries in {} ms; next sequence {}",
                        rec.checkpoint_entries,
                        rec.log_entries,
                        replay_started.elapsed().as_millis(),
                        rec.next_sequence
                    );
                    rec.next_sequence
                }
            };
            let max_segment = conf.get_bytes("alluxio.master.journal.log.size.bytes.max").map_err(conf_err)?;
            let j =
                LocalJournal::start(layout.clone(), next_sequence, WriterOptions { max_segment_bytes: max_segment })?;
            (Arc::new(j), Some(layout))
        }
        "EMBEDDED" => {
            let (j, listener, lock) = start_embedded(&conf, &host, &address, &folder, ns.clone()).await?;
            journal_lock = Some(lock);
            raft = Some(j.clone());
            raft_listener = Some(listener);
            (j, None)
        }
        "NOOP" => {
            tracing::warn!("alluxio.master.journal.type=NOOP: metadata will not survive a restart");
            (Arc::new(NoopJournal::default()), None)
        }
        other => {
            return Err(MasterError::InvalidArgument(format!(
            "alluxio.master.journal.type={other} is not supported; use EMBEDDED, UFS (a local journal folder) or NOOP"
        )))
        }
    };

    let umask_s = conf.get_str("alluxio.security.authorization.permission.umask").map_err(conf_err)?;
    let umask = mode::parse_octal(umask_s.trim()).ok_or_else(|| {
        MasterError::InvalidArgument(format!(
            "Invalid value '{umask_s}' for alluxio.security.authorization.permission.umask: expected an octal mode such as 022"
        ))
    })?;
    let opts = FsOptions {
        default_block_size: conf.get_bytes("alluxio.user.block.size.bytes.default").map_err(conf_err)? as i64,
        umask,
        super_user: alluxio_common::user::current_user(),
        supergroup: conf.get_str("alluxio.security.authorization.permission.supergroup").map_err(conf_err)?,
        load_type: match conf.get_enum("alluxio.user.file.metadata.load.type").map_err(conf_err)?.as_str() {
            "NEVER" => LoadType::Never,
            "ALWAYS" => LoadType::Always,
            _ => LoadType::Once,
        },
        list_batch: conf.get_i64("alluxio.master.filesystem.liststatus.result.message.length").map_err(conf_err)?.max(1)
            as usize,
        checkpoint_period_entries: conf
            .get_i64("alluxio.master.journal.checkpoint.period.entries")
            .map_err(conf_err)?,
        permission_check: conf.get_bool("alluxio.security.authorization.permission.enabled").map_err(conf_err)?,
        lease_timeout: conf.get_duration("alluxio.master.file.writer.lease.timeout").map_err(conf_err)?,
    };
    let blocks = Arc::new(BlockMaster::new(
        conf.get_duration("alluxio.master.worker.timeout").map_err(conf_err)?,
        conf.get_duration("alluxio.master.worker.connect.wait.time").map_err(conf_err)?,
    ));
    let master = Arc::new(FileSystemMaster::new(ns, journal.clone(), layout, blocks.clone(), opts, last_checkpoint));
    let backups = Arc::new(crate::backup::Backups::new(
        host.clone(),
        conf.get_str("alluxio.master.backup.directory").map_err(conf_err)?,
    ));
    let daily_backup_time = if conf.get_bool("alluxio.master.daily.backup.enabled").map_err(conf_err)? {
        let time = conf.get_str("alluxio.master.daily.backup.time").map_err(conf_err)?;
        if crate::backup::ms_until(&time, 0).is_none() {
            return Err(MasterError::InvalidArgument(format!(
                "Invalid value '{time}' for alluxio.master.daily.backup.time: expected HH:mm (UTC), e.g. 05:00"
            )));
        }
        Some(time)
    } else {
        None
    };

    let gate = Gate { me: address.clone(), role: raft.as_ref().map(|j| j.role()) };
    match &raft {
        None => {
            master.finish_recovery();
            start_primary(&master, &conf, &backups, daily_backup_time).await?;
        }
        Some(j) => {
            let (m, c, b, j) = (master.clone(), conf.clone(), backups.clone(), j.clone());
            tokio::spawn(async move {
                if let Err(e) = j.bootstrap().await {
                    let _ = m.fatal.send(Some(e.to_string()));
                    return;
                }
                let mut role = j.role();
                let _ = role.wait_for(|r| !matches!(r, Role::Standby { .. })).await;
                if *role.borrow() == Role::Primary {
                    m.finish_recovery();
                    if let Err(e) = restore_into_quorum(&m, &c).await {
                        let _ = m.fatal.send(Some(e.to_string()));
                        return;
                    }
                    if let Err(e) = start_primary(&m, &c, &b, daily_backup_time).await {
                        if *role.borrow() == Role::Primary {
                            let _ = m.fatal.send(Some(format!("cannot start serving as the leader: {e}")));
                            return;
                        }
                    }
                    j.refresh_members_loop();
                    let _ = role.wait_for(|r| *r != Role::Primary).await;
                }
                let r = role.borrow().clone();
                match r {
                    Role::Failed(why) => {
                        let _ = m.fatal.send(Some(format!("the embedded journal stopped: {why}")));
                    }
                    _ => restart_as_standby(),
                }
            });
        }
    }

    let meta = Arc::new(MetaService {
        backups,
        master: master.clone(),
        conf: conf.clone(),
        address: address.clone(),
        rpc_port: rpc_port as i32,
        web_port: web_port as i32,
        start_time_ms,
        raft: raft.clone(),
        delegation: conf.get_bool("alluxio.master.backup.delegation.enabled").map_err(conf_err)?,
    });
    let default_write_type = write_type_of(&conf.get_enum("alluxio.user.file.writetype.default").map_err(conf_err)?);
    let fs = FsService { master: master.clone(), default_write_type };
    let block_svc = Arc::new(BlockService { master: master.clone() });
    let journal_svc = crate::service::journal::JournalService { raft: raft.clone() };

    let shutdown = shutdown_signal(master.fatal.subscribe());
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let web =
        crate::web::router(crate::web::WebState { master: master.clone(), address: address.clone(), start_time_ms });
    let web_listener =
        tokio::net::TcpListener::from_std(web_listener).map_err(|e| MasterError::Unavailable(e.to_string()))?;
    let mut web_stop = stop_rx.clone();
    tokio::spawn(async move {
        let _ = axum::serve(web_listener, web)
            .with_graceful_shutdown(async move {
                let _ = web_stop.changed().await;
            })
            .await;
    });
    if let (Some(j), Some(listener)) = (&raft, raft_listener) {
        let listener =
            tokio::net::TcpListener::from_std(listener).map_err(|e| MasterError::Unavailable(e.to_string()))?;
        let svc = alluxio_journal::raft::network::RaftService { journal: j.clone() };
        let delegate = crate::service::meta::BackupDelegate {
            master: master.clone(),
            backups: meta.backups.clone(),
            raft: j.clone(),
        };
        let mut raft_stop = stop_rx.clone();
        // Raft's own messages are answered on their connections; gRPC gets the others.
        let grpc = alluxio_journal::raft::wire::split_incoming(listener, j.clone(), stop_rx.clone());
        tokio::spawn(async move {
            let r = tonic::transport::Server::builder()
                .tcp_nodelay(true)
                .add_service(MetaMasterMasterServiceServer::new(delegate))
                .add_service(RaftJournalServiceServer::new(svc))
                .serve_with_incoming_shutdown(tokio_stream::wrappers::ReceiverStream::new(grpc), async move {
                    let _ = raft_stop.changed().await;
                })
                .await;
            if let Err(e) = r {
                tracing::error!("embedded journal server failed: {e}");
            }
        });
    }

    let rpc_listener =
        tokio::net::TcpListener::from_std(rpc_listener).map_err(|e| MasterError::Unavailable(e.to_string()))?;
    tracing::info!(
        "Alluxio master {} started in {} ms: RPC on {address}, web on {host}:{web_port}, journal {} at {folder}",
        alluxio_common::version::VERSION,
        started.elapsed().as_millis(),
        journal.kind()
    );
    let big = 64 << 20;
    let g = gate.clone();
    let gated = move |req: tonic::Request<()>| check_version(req).and_then(|r| g.check(r));
    let server = tonic::transport::Server::builder()
        .tcp_nodelay(true)
        .add_service(InterceptedService::new(
            FileSystemMasterClientServiceServer::new(fs).max_decoding_message_size(big).max_encoding_message_size(big),
            gated.clone(),
        ))
        .add_service(InterceptedService::new(
            BlockMasterWorkerServiceServer::from_arc(block_svc.clone()).max_decoding_message_size(big),
            gated.clone(),
        ))
        .add_service(InterceptedService::new(BlockMasterClientServiceServer::from_arc(block_svc), gated.clone()))
        .add_service(InterceptedService::new(MetaMasterClientServiceServer::from_arc(meta.clone()), gated.clone()))
        .add_service(InterceptedService::new(ServiceVersionClientServiceServer::from_arc(meta), gated.clone()))
        .add_service(InterceptedService::new(JournalMasterClientServiceServer::new(journal_svc), gated))
        .serve_with_incoming_shutdown(
            tonic::transport::server::TcpIncoming::from(rpc_listener).with_nodelay(Some(true)),
            shutdown,
        );
    let result = server.await;
    let _ = stop_tx.send(true);
    if let Some(j) = &raft {
        j.shutdown().await;
    }
    let fatal = master.fatal.borrow().clone();
    drop(master);
    // Complete the current segment so the next start finds a clean journal.
    drop(journal);
    if let Some(why) = fatal {
        return Err(MasterError::Unavailable(format!("the master stopped because the journal failed: {why}")));
    }
    result.map_err(|e| MasterError::Unavailable(format!("RPC server failed: {e}")))?;
    tracing::info!("Alluxio master stopped");
    drop(journal_lock);
    Ok(())
}

/// Whether `dir` holds anything but a lock file.
fn dir_has_entries(dir: &std::path::Path) -> bool {
    std::fs::read_dir(dir)
        .map(|d| d.flatten().any(|e| e.file_name() != alluxio_common::lock::LOCK_FILE))
        .unwrap_or(false)
}

/// Opens the embedded journal: checks the quorum settings, refuses a folder that was never
/// formatted (unless this is a new member of a quorum that already runs) or holds a UFS
/// journal, locks it, binds the journal port and starts Raft.
async fn start_embedded(
    conf: &Conf,
    host: &str,
    rpc_address: &str,
    folder: &str,
    ns: Arc<parking_lot::RwLock<Namespace>>,
) -> Result<(Arc<RaftJournal>, std::net::TcpListener, DirLock), MasterError> {
    let port = conf.get_i64("alluxio.master.embedded.journal.port").map_err(conf_err)?;
    let me = format!("{host}:{port}");
    let mut members = conf.get_list("alluxio.master.embedded.journal.addresses").map_err(conf_err)?;
    if members.is_empty() {
        members = vec![me.clone()];
    }
    crate::embedded::check_members(&me, &members)?;
    let layout = Layout::new(folder);
    layout.check_foreign()?;
    let lock = if layout.is_formatted() {
        layout.lock("master")?
    } else {
        // A missing folder is a wrong path or a lost disk as often as a new master: only a
        // running quorum that this master can join makes an empty journal safe.
        let unformatted = || alluxio_journal::JournalError::Unformatted { folder: layout.folder.clone() };
        if dir_has_entries(&layout.folder) {
            return Err(unformatted().into());
        }
        let wait = std::time::Duration::from_secs(3);
        let Some(peer) = alluxio_journal::raft::formed_quorum_member(&me, &members, wait).await else {
            return Err(unformatted().into());
        };
        tracing::info!(
            "the embedded journal quorum runs ({peer} belongs to it): formatting the new member's journal folder {folder}"
        );
        std::fs::create_dir_all(&layout.folder)
            .map_err(|e| MasterError::Unavailable(format!("cannot create the journal folder {folder}: {e}")))?;
        let lock = layout.lock("master")?;
        layout.format_locked(&lock)?;
        lock
    };
    if !layout.is_empty()? {
        return Err(MasterError::FailedPrecondition(format!(
            "the journal folder {folder} holds a UFS journal but alluxio.master.journal.type=EMBEDDED. Start with \
             alluxio.master.journal.type=UFS, or move the metadata: alluxio fsadmin backup, alluxio format, \
             alluxio-start.sh -i <backup> masters"
        )));
    }
    let bind_host = conf.get_str("alluxio.master.bind.host").map_err(conf_err)?;
    let listener = net::bind(&bind_host, port, "alluxio.master.embedded.journal.port")
        .map_err(|e| MasterError::Unavailable(e.to_string()))?;
    let opts = RaftOptions {
        folder: folder.into(),
        address: me,
        members,
        rpc_address: rpc_address.to_owned(),
        election_timeout_min: conf
            .get_duration("alluxio.master.embedded.journal.election.timeout.min")
            .map_err(conf_err)?,
        election_timeout_max: conf
            .get_duration("alluxio.master.embedded.journal.election.timeout.max")
            .map_err(conf_err)?,
        heartbeat_interval: conf
            .get_duration("alluxio.master.embedded.journal.heartbeat.interval")
            .map_err(conf_err)?,
        snapshot_period_entries: conf
            .get_i64("alluxio.master.journal.checkpoint.period.entries")
            .map_err(conf_err)?
            .max(1) as u64,
    };
    if opts.election_timeout_min >= opts.election_timeout_max || opts.heartbeat_interval >= opts.election_timeout_min {
        return Err(MasterError::InvalidArgument(format!(
            "alluxio.master.embedded.journal.heartbeat.interval ({:?}) < election.timeout.min ({:?}) < election.timeout.max ({:?}) must hold",
            opts.heartbeat_interval, opts.election_timeout_min, opts.election_timeout_max
        )));
    }
    let j = RaftJournal::start(opts, Arc::new(crate::embedded::NamespaceState(ns))).await?;
    Ok((j, listener, lock))
}

/// `alluxio-start.sh -i <backup> masters` with the embedded journal: the first leader of a
/// quorum with an empty namespace restores the backup through the journal; later leaders (or
/// restarts) find the namespace there and ignore the backup.
async fn restore_into_quorum(master: &Arc<FileSystemMaster>, conf: &Conf) -> Result<(), MasterError> {
    let Some(uri) = conf.get("alluxio.master.journal.init.from.backup").map_err(conf_err)? else {
        return Ok(());
    };
    if master.namespace().root_id().is_some() {
        tracing::warn!("the embedded journal is not empty, so the backup {uri} was not applied");
        return Ok(());
    }
    let root_ufs = conf.get_str("alluxio.master.mount.table.root.ufs").map_err(conf_err)?;
    let root_opts: BTreeMap<String, String> =
        conf.with_prefix("alluxio.master.mount.table.root.option.").into_iter().collect();
    tracing::info!("restoring the embedded journal from backup {uri}");
    let started = Instant::now();
    let (ns, n) = crate::backup::restore_namespace(&uri, &root_ufs, &root_opts).await?;
    master.restore_entries(ns.entries()).await?;
    master.finish_recovery();
    tracing::info!("Restored {n} entries from backup {uri} in {} ms", started.elapsed().as_millis());
    Ok(())
}

/// A primary that lost leadership may hold changes that will never commit: it drops all
/// memory by re-executing itself (same pid, so pid files stay valid) and rejoins as a standby.
fn restart_as_standby() -> ! {
    use std::os::unix::process::CommandExt;
    tracing::warn!("restarting to rejoin the embedded journal quorum as a standby");
    let args: Vec<std::ffi::OsString> = std::env::args_os().skip(1).collect();
    let err = match std::env::current_exe() {
        Ok(exe) => std::process::Command::new(exe).args(args).exec(),
        Err(e) => e,
    };
    tracing::error!("cannot restart the master process: {err}");
    std::process::exit(1)
}

/// What only the serving master runs: the root inode, leases, checkpoints, lost-worker
/// detection, TTL and replication checks, persistence and daily backups.
async fn start_primary(
    master: &Arc<FileSystemMaster>,
    conf: &Arc<Conf>,
    backups: &Arc<crate::backup::Backups>,
    daily_backup_time: Option<String>,
) -> Result<(), MasterError> {
    master.blocks.start_serving();
    let root_ufs = conf.get_str("alluxio.master.mount.table.root.ufs").map_err(conf_err)?;
    let root_opts: BTreeMap<String, String> =
        conf.with_prefix("alluxio.master.mount.table.root.option.").into_iter().collect();
    master
        .ensure_root(
            &root_ufs,
            root_opts,
            conf.get_bool("alluxio.master.mount.table.root.readonly").map_err(conf_err)?,
            conf.get_bool("alluxio.master.mount.table.root.shared").map_err(conf_err)?,
        )
        .await?;
    let blocks = master.blocks.clone();

    // Background loops.
    master.init_leases();
    {
        let m = master.clone();
        let every =
            (m.opts.lease_timeout / 4).clamp(std::time::Duration::from_millis(100), std::time::Duration::from_secs(10));
        tokio::spawn(async move {
            let mut t = tokio::time::interval(every);
            loop {
                t.tick().await;
                m.expire_leases().await;
            }
        });
    }
    let (kick_tx, mut kick_rx) = tokio::sync::mpsc::channel::<()>(1);
    master.set_checkpoint_kick(kick_tx);
    {
        let m = master.clone();
        tokio::spawn(async move {
            while kick_rx.recv().await.is_some() {
                let m2 = m.clone();
                if let Ok(Err(e)) = tokio::task::spawn_blocking(move || m2.checkpoint_blocking()).await {
                    tracing::error!("automatic checkpoint failed: {e}");
                }
            }
        });
    }
    {
        let b = blocks.clone();
        let every = conf.get_duration("alluxio.master.lost.worker.detection.interval").map_err(conf_err)?;
        tokio::spawn(async move {
            let mut t = tokio::time::interval(every);
            loop {
                t.tick().await;
                for a in b.detect_lost_workers() {
                    tracing::warn!(
                        "worker {}:{} is lost: no heartbeat within alluxio.master.worker.timeout",
                        a.host,
                        a.rpc_port
                    );
                }
            }
        });
    }
    tokio::spawn(crate::policies::ttl_checker(
        master.clone(),
        conf.get_duration("alluxio.master.ttl.checker.interval")
            .map_err(conf_err)?
            .max(std::time::Duration::from_millis(100)),
    ));
    tokio::spawn(crate::policies::replication_checker(
        master.clone(),
        conf.get_duration("alluxio.master.replication.check.interval")
            .map_err(conf_err)?
            .max(std::time::Duration::from_millis(100)),
    ));
    tokio::spawn(persistence::run(
        master.clone(),
        PersistOptions {
            interval: conf.get_duration("alluxio.master.persistence.scheduler.interval").map_err(conf_err)?,
            initial_backoff: conf.get_duration("alluxio.master.persistence.initial.interval").map_err(conf_err)?,
            max_backoff: conf.get_duration("alluxio.master.persistence.max.interval").map_err(conf_err)?,
            give_up_after: conf.get_duration("alluxio.master.persistence.max.total.wait.time").map_err(conf_err)?,
        },
    ));

    if let Some(time) = daily_backup_time {
        let retain = conf.get_i64("alluxio.master.daily.backup.files.retained").map_err(conf_err)?.max(1) as usize;
        let (m, b) = (master.clone(), backups.clone());
        tokio::spawn(async move {
            loop {
                let wait = crate::backup::ms_until(&time, alluxio_common::now_ms()).unwrap_or(86_400_000);
                tokio::time::sleep(std::time::Duration::from_millis(wait.max(1) as u64)).await;
                let req = crate::backup::BackupRequest { directory: String::new(), local: false };
                match crate::backup::start_backup(m.clone(), b.clone(), req, true).await {
                    Ok(s) if s.error.is_empty() => {
                        tracing::info!("daily backup written to {}", s.backup_uri);
                        if let Err(e) = crate::backup::delete_old_backups(&m, &b.default_dir, retain).await {
                            tracing::warn!("cannot delete old daily backups: {e}");
                        }
                    }
                    Ok(s) => tracing::error!("daily backup failed: {}", s.error),
                    Err(e) => tracing::error!("daily backup failed: {e}"),
                }
                // Never run twice in the same minute.
                tokio::time::sleep(std::time::Duration::from_secs(61)).await;
            }
        });
    }
    Ok(())
}

/// `alluxio-start.sh -i <backup>`: restores the backup into a freshly formatted, empty
/// journal; a journal that already holds entries is left alone (and the backup ignored).
async fn restore_if_empty(conf: &Conf, layout: &Layout, uri: &str) -> Result<Option<Namespace>, MasterError> {
    layout.check_foreign()?;
    if !layout.is_formatted() {
        return Err(alluxio_journal::JournalError::Unformatted { folder: layout.folder.clone() }.into());
    }
    if !layout.is_empty()? {
        let msg = format!(
            "The journal {} is not empty (it holds entries), so the backup {uri} was not applied; the master \
             starts from its journal. To restore the backup: alluxio-stop.sh masters; alluxio formatMasters; \
             alluxio-start.sh -i {uri} masters",
            layout.folder.display()
        );
        tracing::warn!("{msg}");
        eprintln!("{msg}");
        return Ok(None);
    }
    let root_ufs = conf.get_str("alluxio.master.mount.table.root.ufs").map_err(conf_err)?;
    let root_opts: BTreeMap<String, String> =
        conf.with_prefix("alluxio.master.mount.table.root.option.").into_iter().collect();
    tracing::info!("restoring the journal from backup {uri}");
    let started = Instant::now();
    let (ns, n) = crate::backup::restore_namespace(uri, &root_ufs, &root_opts).await?;
    let l2 = layout.clone();
    let ns = tokio::task::spawn_blocking(move || crate::backup::write_restored(&l2, &ns).map(|_| ns))
        .await
        .map_err(|e| MasterError::Internal(e.to_string()))??;
    tracing::info!("Restored {n} entries from backup {uri} in {} ms", started.elapsed().as_millis());
    Ok(Some(ns))
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
