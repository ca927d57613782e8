//! The audit log (`alluxio.master.audit.logging.enabled`): one line per file-system operation
//! in `<logs dir>/master_audit.log`, in Alluxio's format:
//!
//! `succeeded=true allowed=true ugi=alice,staff (AUTH=SIMPLE) ip=/127.0.0.1:50312 cmd=getFileInfo
//! src=/a dst=null perm=alice:staff:rw-r--r-- executionTimeUs=42`, the fields separated by tabs.
//!
//! Lines go through a bounded queue (`alluxio.master.audit.logging.queue.capacity`) to one
//! writer thread: a full queue never blocks an RPC; the line is dropped, counted, and the count
//! logged as a warning. The file is readable by the master's user only (it names users and paths).

use std::fmt;
use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TryRecvError, TrySendError};
use std::sync::Arc;
use std::time::{Duration, Instant};

use alluxio_common::AlluxioPath;

use crate::MasterError;

/// One audited operation. Kept raw (no text made) until the writer thread formats it, so an
/// RPC pays only for a few clones.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    pub succeeded: bool,
    pub allowed: bool,
    pub user: String,
    pub group: String,
    pub auth: &'static str,
    /// The client's address, printed `/address:port` as Alluxio prints it.
    pub ip: Option<SocketAddr>,
    pub cmd: &'static str,
    pub src: AlluxioPath,
    pub dst: Option<AlluxioPath>,
    /// The source's permissions after the operation, when it exists.
    pub perm: Option<Perm>,
    pub micros: u128,
}

/// Owner, group and mode, printed `owner:group:rwxr-xr-x`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Perm {
    pub owner: Arc<str>,
    pub group: Arc<str>,
    pub mode: i32,
}

impl fmt::Display for Perm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.owner, self.group, crate::namespace::plan::mode_string(self.mode))
    }
}

/// `value`, or `null` as Alluxio prints a missing one.
struct OrNull<'a, T>(Option<&'a T>);

impl<T: fmt::Display> fmt::Display for OrNull<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(v) => v.fmt(f),
            None => f.write_str("null"),
        }
    }
}

impl fmt::Display for AuditEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ip = self.ip.map(|a| format!("/{a}"));
        write!(
            f,
            "succeeded={}\tallowed={}\tugi={},{} (AUTH={})\tip={}\tcmd={}\tsrc={}\tdst={}\tperm={}\texecutionTimeUs={}",
            self.succeeded,
            self.allowed,
            self.user,
            self.group,
            self.auth,
            OrNull(ip.as_ref()),
            self.cmd,
            self.src,
            OrNull(self.dst.as_ref()),
            OrNull(self.perm.as_ref()),
            self.micros
        )
    }
}

/// The writer of `master_audit.log`. Cheap to share.
#[derive(Clone)]
pub struct AuditLog {
    tx: SyncSender<AuditEntry>,
    dropped: Arc<AtomicU64>,
}

impl AuditLog {
    /// Opens (appending) `<dir>/master_audit.log` and starts its writer thread.
    pub fn start(dir: &Path, capacity: usize) -> Result<Self, MasterError> {
        let path = dir.join("master_audit.log");
        alluxio_common::private::create_dir_all(dir)
            .map_err(MasterError::io("create the logs directory", dir.display()))?;
        let file = alluxio_common::private::open_append(&path).map_err(MasterError::io("open", path.display()))?;
        let (tx, rx) = sync_channel(capacity.max(1));
        let dropped = Arc::new(AtomicU64::new(0));
        let counter = dropped.clone();
        std::thread::Builder::new()
            .name("audit-log".into())
            .spawn(move || write_lines(rx, file, path, &counter))
            .map_err(MasterError::io("start the audit log writer for", dir.display()))?;
        Ok(AuditLog { tx, dropped })
    }

    /// Queues a line; never waits. A full queue drops it and counts the drop.
    pub fn record(&self, entry: AuditEntry) {
        if let Err(TrySendError::Full(_)) = self.tx.try_send(entry) {
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Lines dropped so far because the queue was full.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }
}

/// How often the writer thread wakes to drain the queue. It never blocks on the queue, so a
/// sender never has to wake it (no system call on the RPC's path); the queue holds what
/// arrives in between (`alluxio.master.audit.logging.queue.capacity`, 10000 by default:
/// 200,000 operations a second).
const DRAIN_EVERY: Duration = Duration::from_millis(50);

/// The writer thread: every [`DRAIN_EVERY`], formats what the queue holds into the file (one
/// write per burst), and reports drops.
fn write_lines(rx: Receiver<AuditEntry>, file: std::fs::File, path: PathBuf, dropped: &AtomicU64) {
    let mut out = std::io::BufWriter::with_capacity(64 << 10, file);
    let mut reported = 0;
    let mut failed = false;
    loop {
        std::thread::sleep(DRAIN_EVERY);
        let mut result = Ok(());
        let mut closed = false;
        loop {
            match rx.try_recv() {
                Ok(entry) => result = result.and_then(|_| writeln!(out, "{entry}")),
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Disconnected) => {
                    closed = true;
                    break;
                }
            }
        }
        let result = result.and_then(|_| out.flush());
        match result {
            Err(e) if !failed => {
                tracing::error!("cannot write the audit log {}: {e}", path.display());
                failed = true;
            }
            Ok(()) => failed = false,
            Err(_) => {}
        }
        let now = dropped.load(Ordering::Relaxed);
        if now > reported {
            tracing::warn!(
                "audit log: {} lines dropped ({now} in all) because its queue was full \
                 (alluxio.master.audit.logging.queue.capacity)",
                now - reported
            );
            reported = now;
        }
        if closed {
            return;
        }
    }
}

/// Measures an operation for its audit line.
pub struct Pending {
    pub entry: AuditEntry,
    started: Instant,
}

impl Pending {
    pub fn new(entry: AuditEntry) -> Self {
        Pending { entry, started: Instant::now() }
    }

    /// The finished entry: `code` is the failure's status code, if it failed.
    pub fn finish(mut self, code: Option<tonic::Code>, perm: Option<Perm>) -> AuditEntry {
        self.entry.succeeded = code.is_none();
        self.entry.allowed = code != Some(tonic::Code::PermissionDenied) && code != Some(tonic::Code::Unauthenticated);
        self.entry.perm = perm;
        self.entry.micros = self.started.elapsed().as_micros();
        self.entry
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry() -> AuditEntry {
        AuditEntry {
            succeeded: true,
            allowed: true,
            user: "alice".into(),
            group: "staff".into(),
            auth: "SIMPLE",
            ip: Some("127.0.0.1:50312".parse().unwrap()),
            cmd: "rename",
            src: AlluxioPath::parse("/a").unwrap(),
            dst: Some(AlluxioPath::parse("/b").unwrap()),
            perm: Some(Perm { owner: "alice".into(), group: "staff".into(), mode: 0o644 }),
            micros: 42,
        }
    }

    #[test]
    fn lines_are_alluxios() {
        assert_eq!(
            entry().to_string(),
            "succeeded=true\tallowed=true\tugi=alice,staff (AUTH=SIMPLE)\tip=/127.0.0.1:50312\tcmd=rename\t\
             src=/a\tdst=/b\tperm=alice:staff:rw-r--r--\texecutionTimeUs=42"
        );
        let denied =
            Pending::new(AuditEntry { dst: None, ..entry() }).finish(Some(tonic::Code::PermissionDenied), None);
        let line = denied.to_string();
        assert!(line.starts_with("succeeded=false\tallowed=false\t"), "{line}");
        assert!(line.contains("\tdst=null\tperm=null\t"), "{line}");
        let failed = Pending::new(entry()).finish(Some(tonic::Code::NotFound), None);
        assert!(failed.to_string().starts_with("succeeded=false\tallowed=true\t"));
    }

    #[test]
    fn lines_reach_the_file_and_a_full_queue_drops_instead_of_waiting() {
        let t = tempfile::tempdir().unwrap();
        let log = AuditLog::start(t.path(), 4).unwrap();
        for _ in 0..10_000 {
            log.record(entry());
        }
        let path = t.path().join("master_audit.log");
        let deadline = Instant::now() + std::time::Duration::from_secs(10);
        loop {
            let n = std::fs::read_to_string(&path).unwrap().lines().count() as u64;
            if n + log.dropped() == 10_000 {
                break;
            }
            assert!(Instant::now() < deadline, "{n} lines, {} dropped", log.dropped());
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
    }
}
