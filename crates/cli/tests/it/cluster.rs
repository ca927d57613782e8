//! The test fixture: one Alluxio cluster (master + worker) as real processes.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_alluxio");

/// A free port below the kernel's ephemeral range (outgoing connections never take it), from
/// a per-process sequence so parallel tests do not collide.
pub fn free_port() -> u16 {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let base = 20_000 + (std::process::id() * 131) % 10_000;
    loop {
        let p = (base + NEXT.fetch_add(1, Ordering::SeqCst)) % 12_000 + 20_000;
        if TcpListener::bind(("0.0.0.0", p as u16)).is_ok() {
            return p as u16;
        }
    }
}

/// A test certificate authority and one certificate (key 0600) for every test host:
/// `localhost`, this machine's name and 127.0.0.1–9 (workers announce 127.0.0.x addresses).
/// Made with the `openssl` tool, in `dir`; returns (CA, certificate, key) paths.
pub fn make_certs(dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    std::fs::create_dir_all(dir).unwrap();
    let openssl = |args: &[&str]| {
        let o = Command::new("openssl").current_dir(dir).args(args).output().expect("the openssl tool is needed");
        assert!(o.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&o.stderr));
    };
    let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
    openssl(
        &[
            &["req", "-x509"][..],
            &ec,
            &["-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=alluxio-it-ca"],
        ]
        .concat(),
    );
    openssl(&[&["req"][..], &ec, &["-keyout", "node.key", "-out", "node.csr", "-subj", "/CN=localhost"]].concat());
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default().trim().to_owned();
    let mut san = format!("DNS:localhost,DNS:{host}");
    for i in 1..10 {
        san.push_str(&format!(",IP:127.0.0.{i}"));
    }
    std::fs::write(
        dir.join("ext"),
        format!(
            "subjectAltName={san}\nbasicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n\
             extendedKeyUsage=serverAuth,clientAuth\n"
        ),
    )
    .unwrap();
    openssl(&[
        "x509",
        "-req",
        "-in",
        "node.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "node.pem",
        "-days",
        "2",
        "-extfile",
        "ext",
    ]);
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(dir.join("node.key"), std::fs::Permissions::from_mode(0o600)).unwrap();
    (dir.join("ca.pem"), dir.join("node.pem"), dir.join("node.key"))
}

/// The properties that turn TLS on with the certificates in `dir` ([`make_certs`]).
pub fn tls_props(ca: &Path, cert: &Path, key: &Path) -> Vec<String> {
    vec![
        "alluxio.network.tls.enabled=true".into(),
        format!("alluxio.network.tls.ca.file={}", ca.display()),
        format!("alluxio.network.tls.cert.file={}", cert.display()),
        format!("alluxio.network.tls.key.file={}", key.display()),
    ]
}

/// With `ALLUXIO_IT_TLS` set, every cluster of this test process runs with TLS on every port
/// (`scripts/test-all.sh` runs the main scenarios so); one set of certificates per process.
pub fn suite_tls() -> Option<&'static [String]> {
    static PROPS: std::sync::OnceLock<Option<Vec<String>>> = std::sync::OnceLock::new();
    PROPS
        .get_or_init(|| {
            std::env::var_os("ALLUXIO_IT_TLS")?;
            let dir = std::env::temp_dir().join(format!("alluxio-it-tls-{}", std::process::id()));
            let (ca, cert, key) = make_certs(&dir);
            Some(tls_props(&ca, &cert, &key))
        })
        .as_deref()
}

/// Adds [`suite_tls`]'s properties, if any, to an in-process client's configuration.
pub fn with_suite_tls(c: &mut alluxio_common::Conf) {
    for p in suite_tls().unwrap_or_default() {
        let (k, v) = p.split_once('=').unwrap();
        c.set(k, v);
    }
}

/// The repository root (for bin/ scripts).
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().parent().unwrap().to_path_buf()
}

pub struct Cluster {
    pub home: tempfile::TempDir,
    pub shm: PathBuf,
    pub master_port: u16,
    pub worker_port: u16,
    pub proxy_port: u16,
    master: Option<Child>,
    worker: Option<Child>,
    /// Workers added with `add_worker`: (rpc port, process, tier directory).
    extra: Vec<(u16, Child, PathBuf)>,
}

/// What clients need of a cluster, apart from its processes: usable from other threads while
/// the test kills and restarts the servers.
#[derive(Clone)]
pub struct Client {
    pub home: PathBuf,
    pub proxy_port: u16,
}

impl Client {
    pub fn path(&self, rel: &str) -> PathBuf {
        self.home.join(rel)
    }

    /// Runs `alluxio <args>`.
    pub fn run(&self, args: &[&str]) -> Output {
        let mut c = Command::new(BIN);
        for (k, _) in std::env::vars() {
            if k.starts_with("ALLUXIO_") {
                c.env_remove(k);
            }
        }
        c.env("ALLUXIO_HOME", &self.home).env_remove("RUST_BACKTRACE");
        output_within(c.args(args), COMMAND_LIMIT)
    }
}

/// How long one CLI command may take before the test fails: a hang fails its test and says
/// which command hung, instead of stopping the whole suite.
pub const COMMAND_LIMIT: Duration = Duration::from_secs(240);

/// The stack of every thread of process `pid` (gdb), so a hang reports where it hangs.
fn thread_stacks(pid: u32) -> String {
    let gdb = Command::new("timeout")
        .args(["60", "gdb", "-batch", "-nx", "-p", &pid.to_string(), "-ex", "thread apply all bt 30"])
        .stdin(Stdio::null())
        .output();
    match gdb {
        Ok(o) if o.status.success() => {
            let text = String::from_utf8_lossy(&o.stdout);
            // Only the frames: gdb's banner and symbol-loading lines say nothing about the hang.
            text.lines().filter(|l| l.starts_with('#') || l.starts_with("Thread ")).collect::<Vec<_>>().join("\n")
        }
        Ok(o) => format!("(gdb failed: {})", String::from_utf8_lossy(&o.stderr).lines().last().unwrap_or_default()),
        Err(e) => format!("(cannot run gdb: {e})"),
    }
}

/// `cmd.output()`, killing the process and failing the test if it runs longer than `limit`.
pub fn output_within(cmd: &mut Command, limit: Duration) -> Output {
    use std::io::Read;
    let spawned = cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn();
    let mut child = match spawned {
        Ok(child) => child,
        Err(e) => panic!("cannot run {cmd:?}: {e} (scripts/test-all.sh installs the tools the tests use)"),
    };
    let drain = |r: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            if let Some(mut r) = r {
                let _ = r.read_to_end(&mut buf);
            }
            buf
        })
    };
    let out = drain(child.stdout.take().map(|o| Box::new(o) as Box<dyn Read + Send>));
    let err = drain(child.stderr.take().map(|e| Box::new(e) as Box<dyn Read + Send>));
    let deadline = Instant::now() + limit;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() >= deadline {
            let stacks = thread_stacks(child.id());
            let _ = child.kill();
            let _ = child.wait();
            let (stdout, stderr) = (out.join().unwrap(), err.join().unwrap());
            panic!(
                "{cmd:?} did not finish within {limit:?}; it was killed.\nstdout: {}\nstderr: {}\nits threads: {stacks}",
                String::from_utf8_lossy(&stdout),
                String::from_utf8_lossy(&stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    Output { status, stdout: out.join().unwrap(), stderr: err.join().unwrap() }
}

impl Cluster {
    /// Starts `fs copyFromLocal <named pipe> <path>` with `write_type`: the test feeds the pipe
    /// (a writer that can be stopped, or killed, in the middle of a file). Returns the CLI
    /// process and the pipe's writing end.
    pub fn copy_from_pipe(&self, write_type: &str, path: &str) -> (Child, std::fs::File) {
        let fifo = self.path(&format!("fifo-{}", path.replace('/', "_")));
        let cfifo = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        // SAFETY: creating a named pipe at a path we own.
        assert_eq!(unsafe { libc::mkfifo(cfifo.as_ptr(), 0o600) }, 0);
        let child = self
            .command(Path::new(BIN))
            .args([
                "fs",
                &format!("-Dalluxio.user.file.writetype.default={write_type}"),
                "copyFromLocal",
                fifo.to_str().unwrap(),
                path,
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let pipe = std::fs::OpenOptions::new().write(true).open(&fifo).unwrap();
        (child, pipe)
    }

    /// A client handle for other threads.
    pub fn client(&self) -> Client {
        Client { home: self.home.path().to_path_buf(), proxy_port: self.proxy_port }
    }

    /// A configured, not yet formatted cluster. `extra` lines go into alluxio-site.properties.
    pub fn new(extra: &[&str]) -> Cluster {
        let home = tempfile::tempdir().unwrap();
        let shm = PathBuf::from(format!("/dev/shm/alluxio-it-{}-{}", std::process::id(), free_port()));
        let (mp, mw, wp, ww, pp) = (free_port(), free_port(), free_port(), free_port(), free_port());
        let jp = free_port();
        std::fs::create_dir_all(home.path().join("conf")).unwrap();
        let mut props = format!(
            "alluxio.master.hostname=localhost\nalluxio.master.rpc.port={mp}\nalluxio.master.web.port={mw}\n\
             alluxio.master.embedded.journal.port={jp}\n\
             alluxio.worker.rpc.port={wp}\nalluxio.worker.web.port={ww}\nalluxio.proxy.web.port={pp}\n\
             alluxio.worker.tieredstore.level0.dirs.path={}\nalluxio.worker.ramdisk.size=256MB\n\
             alluxio.master.persistence.scheduler.interval=100ms\nalluxio.master.persistence.initial.interval=100ms\n",
            shm.display()
        );
        for e in suite_tls().unwrap_or_default().iter().map(String::as_str).chain(extra.iter().copied()) {
            props.push_str(e);
            props.push('\n');
        }
        std::fs::write(home.path().join("conf/alluxio-site.properties"), props).unwrap();
        Cluster {
            home,
            shm,
            master_port: mp,
            worker_port: wp,
            proxy_port: pp,
            master: None,
            worker: None,
            extra: Vec::new(),
        }
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.home.path().join(rel)
    }

    fn command(&self, program: &Path) -> Command {
        let mut c = Command::new(program);
        for (k, _) in std::env::vars() {
            if k.starts_with("ALLUXIO_") {
                c.env_remove(k);
            }
        }
        c.env("ALLUXIO_HOME", self.home.path()).env("ALLUXIO_BINARY", BIN).env_remove("RUST_BACKTRACE");
        c
    }

    /// Runs `alluxio <args>`.
    pub fn run(&self, args: &[&str]) -> Output {
        output_within(self.command(Path::new(BIN)).args(args), COMMAND_LIMIT)
    }

    /// Runs `alluxio <args>` and expects success; returns stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let o = self.run(args);
        assert!(
            o.status.success(),
            "alluxio {args:?} failed ({}):\nstdout: {}\nstderr: {}",
            o.status,
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
        String::from_utf8(o.stdout).unwrap()
    }

    /// Runs `alluxio <args>` and expects failure; returns (exit code, stderr + stdout).
    pub fn fails(&self, args: &[&str]) -> (i32, String) {
        let o = self.run(args);
        assert!(!o.status.success(), "alluxio {args:?} should have failed:\n{}", String::from_utf8_lossy(&o.stdout));
        (
            o.status.code().unwrap_or(-1),
            format!("{}{}", String::from_utf8_lossy(&o.stderr), String::from_utf8_lossy(&o.stdout)),
        )
    }

    /// Runs a script of bin/ (e.g. `alluxio-start.sh`) against this cluster.
    pub fn script(&self, name: &str, args: &[&str]) -> Output {
        output_within(self.command(&repo().join("bin").join(name)).args(args), COMMAND_LIMIT)
    }

    pub fn format(&self) {
        self.ok(&["format"]);
    }

    fn spawn(&self, role: &str) -> Child {
        let log =
            std::fs::OpenOptions::new().create(true).append(true).open(self.path(&format!("{role}.log"))).unwrap();
        self.command(Path::new(BIN))
            .args(["process", role])
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap()
    }

    /// Spawns `alluxio <args> process <role>` logging to `<log>.log` (HA masters).
    pub fn spawn_named(&self, log: &str, role: &str, args: &[String]) -> Child {
        let f = std::fs::OpenOptions::new().create(true).append(true).open(self.path(&format!("{log}.log"))).unwrap();
        self.command(Path::new(BIN))
            .args(args)
            .args(["process", role])
            .stdout(f.try_clone().unwrap())
            .stderr(f)
            .spawn()
            .unwrap()
    }

    pub fn start_master(&mut self) {
        self.master = Some(self.spawn("master"));
        self.wait_port(self.master_port, "master");
    }

    /// Starts the master with `-D` options only it has (what only the masters' configuration says).
    pub fn start_master_with(&mut self, defines: &[&str]) {
        let args: Vec<String> = defines.iter().map(|d| d.to_string()).collect();
        self.master = Some(self.spawn_named("master", "master", &args));
        self.wait_port(self.master_port, "master");
    }

    pub fn start_worker(&mut self) {
        let registered = |c: &Cluster| c.log("worker").matches("registered with the master").count();
        let before = registered(self);
        self.worker = Some(self.spawn("worker"));
        self.wait_port(self.worker_port, "worker");
        self.wait_workers(1);
        // A restarted worker's blocks are known to the master only once this process registered.
        self.eventually("the worker to register", || registered(self) > before);
    }

    /// Starts another worker announcing `host` (127.0.0.x addresses other than 127.0.0.1 look
    /// remote to clients), with its own ports and tier directory; `extra` are more -D options.
    pub fn add_worker(&mut self, host: &str, extra: &[&str]) -> u16 {
        let (rp, wp) = (free_port(), free_port());
        let dir = PathBuf::from(format!("{}-w{rp}", self.shm.display()));
        let mut args = vec![
            format!("-Dalluxio.worker.hostname={host}"),
            format!("-Dalluxio.worker.rpc.port={rp}"),
            format!("-Dalluxio.worker.web.port={wp}"),
            format!("-Dalluxio.worker.tieredstore.level0.dirs.path={}", dir.display()),
        ];
        args.extend(extra.iter().map(|s| s.to_string()));
        args.extend(["process".to_string(), "worker".to_string()]);
        let log = std::fs::File::create(self.path(&format!("worker-{rp}.log"))).unwrap();
        let child =
            self.command(Path::new(BIN)).args(&args).stdout(log.try_clone().unwrap()).stderr(log).spawn().unwrap();
        self.extra.push((rp, child, dir));
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", rp)).is_err() {
            assert!(Instant::now() < deadline, "worker {rp} did not start:\n{}", self.log(&format!("worker-{rp}")));
            std::thread::sleep(Duration::from_millis(50));
        }
        rp
    }

    /// `kill -9` of a worker added with `add_worker`.
    pub fn kill_added_worker(&mut self, port: u16) {
        if let Some(i) = self.extra.iter().position(|(p, _, _)| *p == port) {
            let (_, mut c, dir) = self.extra.remove(i);
            c.kill().unwrap();
            c.wait().unwrap();
            let _ = std::fs::remove_dir_all(dir);
        }
    }

    pub fn start(&mut self) {
        self.start_master();
        self.start_worker();
    }

    /// `kill -9` of the master.
    pub fn kill_master(&mut self) {
        if let Some(mut c) = self.master.take() {
            c.kill().unwrap();
            c.wait().unwrap();
        }
    }

    pub fn master_pid(&self) -> u32 {
        self.master.as_ref().expect("master running").id()
    }

    pub fn worker_pid(&self) -> u32 {
        self.worker.as_ref().expect("worker running").id()
    }

    /// Waits up to `secs` for the worker to exit by itself; its exit status.
    pub fn worker_exit(&mut self, secs: u64) -> Option<std::process::ExitStatus> {
        let deadline = Instant::now() + Duration::from_secs(secs);
        while Instant::now() < deadline {
            if let Some(status) = self.worker.as_mut()?.try_wait().unwrap() {
                self.worker = None;
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        None
    }

    pub fn kill_worker(&mut self) {
        if let Some(mut c) = self.worker.take() {
            c.kill().unwrap();
            c.wait().unwrap();
        }
    }

    /// SIGKILL to the worker and to `other` back to back, before reaping either: neither
    /// lives long enough to react to the other's death (a worker aborting a write whose
    /// client died, a client giving up on a dead worker).
    pub fn kill_worker_with(&mut self, other: &mut Child) {
        let worker = self.worker.take();
        if let Some(w) = &worker {
            // SAFETY: signalling a child process this harness started and has not reaped.
            unsafe { libc::kill(w.id() as libc::pid_t, libc::SIGKILL) };
        }
        other.kill().unwrap();
        other.wait().unwrap();
        if let Some(mut w) = worker {
            w.wait().unwrap();
        }
    }

    /// SIGTERM and wait.
    pub fn stop_master(&mut self) {
        if let Some(c) = self.master.take() {
            terminate(c);
        }
    }

    pub fn stop_worker(&mut self) {
        if let Some(c) = self.worker.take() {
            terminate(c);
        }
    }

    pub fn log(&self, role: &str) -> String {
        let mut s = std::fs::read_to_string(self.path(&format!("{role}.log"))).unwrap_or_default();
        s.push_str(&std::fs::read_to_string(self.path(&format!("logs/{role}.log"))).unwrap_or_default());
        s
    }

    pub fn wait_port(&mut self, port: u16, role: &str) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return;
            }
            let child = if role == "master" { self.master.as_mut() } else { self.worker.as_mut() };
            if let Some(c) = child {
                if let Ok(Some(status)) = c.try_wait() {
                    panic!("{role} exited with {status} before serving:\n{}", self.log(role));
                }
            }
            assert!(Instant::now() < deadline, "{role} did not open port {port}:\n{}", self.log(role));
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Waits until `n` workers are registered.
    pub fn wait_workers(&self, n: usize) {
        let deadline = Instant::now() + Duration::from_secs(30);
        let want = format!("Live Workers: {n}");
        loop {
            let o = self.run(&["fsadmin", "report"]);
            if String::from_utf8_lossy(&o.stdout).contains(&want) {
                return;
            }
            assert!(Instant::now() < deadline, "workers did not register:\n{}", self.log("worker"));
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Polls `f` until it returns true.
    pub fn eventually(&self, what: &str, mut f: impl FnMut() -> bool) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while !f() {
            assert!(Instant::now() < deadline, "timed out waiting for {what}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The master's address for an in-process client.
    pub fn client_conf(&self) -> alluxio_common::Conf {
        let mut c = alluxio_common::Conf::defaults();
        c.set("alluxio.master.hostname", "localhost");
        c.set("alluxio.master.rpc.port", self.master_port.to_string());
        c.set("alluxio.user.rpc.retry.max.duration", "1sec");
        with_suite_tls(&mut c);
        c
    }
}

fn terminate(mut c: Child) {
    // SAFETY: sending a signal to a child we own.
    unsafe {
        libc::kill(c.id() as i32, libc::SIGTERM);
    }
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = c.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = c.kill();
    let _ = c.wait();
}

impl Drop for Cluster {
    fn drop(&mut self) {
        if std::thread::panicking() {
            for role in ["master", "worker", "proxy"] {
                let log = self.log(role);
                let tail: Vec<&str> = log.lines().rev().take(30).collect();
                eprintln!("---- {role} log (last lines) ----");
                for l in tail.iter().rev() {
                    eprintln!("{l}");
                }
            }
        }
        self.kill_worker();
        for (_, mut c, dir) in std::mem::take(&mut self.extra) {
            let _ = c.kill();
            let _ = c.wait();
            let _ = std::fs::remove_dir_all(dir);
        }
        self.kill_master();
        // Processes started by the scripts.
        let _ = self.script("alluxio-stop.sh", &["local"]);
        let _ = self.script("alluxio-stop.sh", &["proxy"]);
        let _ = std::fs::remove_dir_all(&self.shm);
    }
}

/// Random bytes of a given length, deterministic per seed.
pub fn data(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

/// `ls -R` output with the columns that legitimately change (in-Alluxio %) removed.
pub fn listing(out: &str) -> Vec<String> {
    let mut v: Vec<String> = out
        .lines()
        .map(|l| {
            let cols: Vec<&str> = l.split_whitespace().collect();
            // perm owner group size state date time in% path
            format!(
                "{} {} {} {} {} {} {} {}",
                cols[0],
                cols[1],
                cols[2],
                cols[3],
                cols[4],
                cols[5],
                cols[6],
                cols[cols.len() - 1]
            )
        })
        .collect();
    v.sort();
    v
}
