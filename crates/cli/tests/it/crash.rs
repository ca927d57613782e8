//! Crash consistency, in the style of redb's and FoundationDB's crash tests: a model of every
//! acknowledged write, concurrent writers through the CLI and the S3 API, `kill -9` of the
//! master and the worker at random moments, and random damage to journal and block files
//! between runs. After each run every acknowledged file reads back with its bytes, or the start
//! is refused naming the damaged file; a damaged block is never served.
//!
//! `ALLUXIO_CRASH_RUNS` (default 3) and `ALLUXIO_CRASH_SEED` repeat or replay it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::cluster::{data, Client, Cluster};
use crate::proxy::{http, start_with_proxy, try_http};

/// A small deterministic generator (xorshift64*), so a failing run can be replayed by seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// What the model holds: every acknowledged write (path → content seed and length) and whether
/// it was written to the UFS synchronously (its bytes survive any cache damage).
#[derive(Default)]
struct Model {
    files: BTreeMap<String, (u64, usize, bool)>,
}

const WRITE_TYPES: [&str; 3] = ["MUST_CACHE", "CACHE_THROUGH", "ASYNC_THROUGH"];

/// One writer: creates files until `stop`, through the CLI (`fs copyFromLocal`) or the S3 API,
/// recording the acknowledged ones.
/// Writes attempted and acknowledged.
#[derive(Default)]
struct Ops {
    attempted: AtomicU64,
    acked: AtomicU64,
}

fn writer(c: &Client, id: usize, s3: bool, stop: &AtomicBool, model: &Mutex<Model>, ops: &Ops, seed: u64) {
    let mut rng = Rng(seed | 1);
    for i in 0.. {
        if stop.load(Ordering::SeqCst) {
            return;
        }
        let len = 1 + rng.below(3 << 20) as usize;
        let content = rng.next();
        let bytes = data(len, content);
        ops.attempted.fetch_add(1, Ordering::SeqCst);
        let (path, ok, through) = if s3 {
            let key = format!("w{id}/f{i}");
            // Only an answered 200 is an acknowledgment; a dropped connection is not.
            let r = try_http(c.proxy_port, "PUT", &format!("/api/v1/s3/crash/{key}"), &[], &bytes);
            (format!("/crash/{key}"), r.is_ok_and(|(status, _)| status == 200), true)
        } else {
            let wt = WRITE_TYPES[rng.below(3) as usize];
            let src = c.path(&format!("src-{id}"));
            std::fs::write(&src, &bytes).unwrap();
            let path = format!("/cli/w{id}/f{i}");
            let o = c.run(&[
                "fs",
                &format!("-Dalluxio.user.file.writetype.default={wt}"),
                "-Dalluxio.user.rpc.retry.max.duration=5sec",
                "copyFromLocal",
                src.to_str().unwrap(),
                &path,
            ]);
            (path, o.status.success(), wt == "CACHE_THROUGH")
        };
        if ok {
            ops.acked.fetch_add(1, Ordering::SeqCst);
            model.lock().unwrap().files.insert(path, (content, len, through));
        }
    }
}

/// Flips one byte in the second half of a random file among `files`; returns the file and the
/// offset (flipping it again undoes the damage).
fn damage(rng: &mut Rng, files: &[PathBuf]) -> Option<(PathBuf, usize)> {
    let f = files.get(rng.below(files.len() as u64) as usize)?.clone();
    let mut bytes = std::fs::read(&f).ok()?;
    if bytes.is_empty() {
        return None;
    }
    let at = (bytes.len() / 2 + rng.below((bytes.len() / 2).max(1) as u64) as usize).min(bytes.len() - 1);
    bytes[at] ^= 0x40;
    std::fs::write(&f, &bytes).ok()?;
    Some((f, at))
}

fn flip(f: &Path, at: usize) {
    let mut bytes = std::fs::read(f).unwrap();
    bytes[at] ^= 0x40;
    std::fs::write(f, &bytes).unwrap();
}

/// Starts a master on the damaged journal: the error it exits with, or `None` when it started
/// (then it is stopped again).
fn start_on_damage(c: &Cluster) -> Option<String> {
    let mut child = std::process::Command::new(crate::cluster::BIN)
        .args(["process", "master"])
        .env("ALLUXIO_HOME", c.home.path())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(15);
    while Instant::now() < deadline {
        if child.try_wait().unwrap().is_some() {
            let o = child.wait_with_output().unwrap();
            return (!o.status.success()).then(|| String::from_utf8_lossy(&o.stderr).into_owned());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
    None
}

fn files_in(dir: &Path, keep: impl Fn(&str) -> bool) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|r| r.flatten().filter(|e| keep(&e.file_name().to_string_lossy())).map(|e| e.path()).collect())
        .unwrap_or_default();
    out.sort();
    out
}

/// Reads every acknowledged file (through one in-process client): its bytes, or (only when
/// its cached copy was damaged and nothing else holds it) an error naming the file, which then
/// leaves the model (its only copy is gone, and the reader was told). Returns the reads.
fn check(c: &Cluster, model: &mut Model, damaged_block: Option<&Path>) -> usize {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let mut conf = c.client_conf();
    conf.set("alluxio.user.rpc.retry.max.duration", "10sec");
    rt.block_on(async {
        let fs = alluxio_client::FileSystem::connect(&conf).await.unwrap();
        let mut checked = 0;
        let mut lost = Vec::new();
        for (path, (content, len, _)) in &model.files {
            let p = alluxio_common::AlluxioPath::parse(path).unwrap();
            let read = async {
                let mut input = fs.open_file(&p, None).await?;
                input.read_range(0, *len as u64 + 1).await
            };
            match read.await {
                Ok(bytes) => assert!(bytes == data(*len, *content), "{path}: an acknowledged file reads back wrong"),
                Err(e) => {
                    assert!(
                        damaged_block.is_some()
                            && e.message.contains(path.as_str())
                            && e.message.contains("fails its checksum"),
                        "{path}: an acknowledged file cannot be read: {e}\n{}",
                        diagnose(c, &e.message)
                    );
                    lost.push(path.clone());
                }
            }
            checked += 1;
        }
        for p in lost {
            log(&format!("{p} was lost to the damaged block, and said so"));
            model.files.remove(&p);
        }
        checked
    })
}

#[test]
fn acknowledged_writes_survive_kill_9_and_damage_is_detected() {
    let runs: usize = std::env::var("ALLUXIO_CRASH_RUNS").ok().and_then(|v| v.parse().ok()).unwrap_or(3);
    let seed: u64 = std::env::var("ALLUXIO_CRASH_SEED").ok().and_then(|v| v.parse().ok()).unwrap_or_else(|| {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64
    });
    eprintln!("crash test: {runs} runs, ALLUXIO_CRASH_SEED={seed}");
    let mut rng = Rng(seed | 1);
    let mut c = start_with_proxy(&[
        "alluxio.user.block.size.bytes.default=1MB",
        "alluxio.master.worker.connect.wait.time=2sec",
        "alluxio.master.journal.checkpoint.period.entries=200",
    ]);
    assert_eq!(http(c.proxy_port, "PUT", "/api/v1/s3/crash", &[], b"").0, 200);
    let model = Arc::new(Mutex::new(Model::default()));
    let ops = Ops::default();
    let (mut kills, mut checked, mut refused, mut damaged_blocks) = (0, 0, 0, 0);
    for run in 0..runs {
        // Writers (two through the CLI, one through S3) while the master and the worker are
        // killed at random moments.
        let stop = AtomicBool::new(false);
        let client = c.client();
        std::thread::scope(|s| {
            // A failing assertion below must not leave the writers running (the scope joins them).
            let _stop_writers = StopOnDrop(&stop);
            for w in 0..3 {
                let (c, stop, model, ops) = (&client, &stop, &model, &ops);
                let wseed = rng.next();
                s.spawn(move || writer(c, run * 10 + w, w == 2, stop, model, ops, wseed));
            }
            let deadline = Instant::now() + Duration::from_secs(6);
            while Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(500 + rng.below(1500)));
                if rng.below(2) == 0 {
                    log(&format!("run {run}: kill -9 of the master"));
                    c.kill_master();
                    c.start_master();
                } else {
                    log(&format!("run {run}: kill -9 of the worker"));
                    c.kill_worker();
                    c.start_worker();
                }
                kills += 1;
            }
            stop.store(true, Ordering::SeqCst);
        });
        log(&format!("run {run}: writers stopped"));
        c.wait_workers(1);
        c.eventually("persistence to settle", || !c.ok(&["fs", "ls", "-R", "/"]).contains("TO_BE_PERSISTED"));
        log(&format!("run {run}: checking"));
        let mut model = model.lock().unwrap();
        checked += check(&c, &mut model, None);

        // Everything stops; one journal or block file is damaged.
        c.kill_worker();
        c.kill_master();
        let journal = files_in(&c.path("journal/v1/raft/log"), |n| n.starts_with("log-"));
        let blocks = files_in(&c.shm.join("alluxioworker"), |n| n.parse::<i64>().is_ok());
        if rng.below(2) == 0 {
            let Some((f, at)) = damage(&mut rng, &journal) else { continue };
            log(&format!("run {run}: damaged {} at {at}", f.display()));
            let damaged = std::fs::read(&f).unwrap();
            // Every byte of a log segment is covered by its header check or a record's checksum.
            let err = start_on_damage(&c).unwrap_or_else(|| panic!("the master started on damaged {}", f.display()));
            // Refused, naming the file, and nothing changed; undo the damage (as restoring the
            // file would) and go on.
            assert!(err.contains(&f.display().to_string()), "refused without naming {}: {err}", f.display());
            assert_eq!(std::fs::read(&f).unwrap(), damaged, "the refused start changed {}", f.display());
            refused += 1;
            flip(&f, at);
            c.start_master();
            c.start_worker();
            checked += check(&c, &mut model, None);
        } else {
            let f = damage(&mut rng, &blocks);
            log(&format!("run {run}: damaged {f:?}"));
            damaged_blocks += 1;
            c.start_master();
            c.start_worker();
            checked += check(&c, &mut model, f.as_ref().map(|(p, _)| p.as_path()));
        }
        // Keep one file in eight for later runs to check again; the rest make room, so the
        // cache (and its unpersisted data, which cannot be evicted) never fills up.
        thin(&c, &mut model);
    }
    eprintln!(
        "crash test: {runs} runs, {} writes attempted, {} acknowledged, {checked} reads of acknowledged files \
         checked, {kills} kills, {refused} starts refused on a damaged journal, {damaged_blocks} damaged blocks",
        ops.attempted.load(Ordering::SeqCst),
        ops.acked.load(Ordering::SeqCst)
    );
}

/// Sets the flag when dropped, also while unwinding from a failed assertion.
struct StopOnDrop<'a>(&'a AtomicBool);

impl Drop for StopOnDrop<'_> {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

/// What the worker's directory and the logs say about the block an error names.
fn diagnose(c: &Cluster, err: &str) -> String {
    let Some(id) = err.split("Block ").nth(1).and_then(|r| r.split(' ').next()) else { return String::new() };
    let on_disk = c.shm.join("alluxioworker").join(id).exists();
    let lines = |log: String| -> Vec<String> { log.lines().filter(|l| l.contains(id)).map(str::to_owned).collect() };
    format!(
        "block {id} on the worker's disk: {on_disk}\nmaster: {:?}\nworker: {:?}\nworker tail: {:?}",
        lines(c.log("master")),
        lines(c.log("worker")),
        c.log("worker").lines().rev().take(40).collect::<Vec<_>>()
    )
}

fn log(what: &str) {
    eprintln!("{} crash test: {what}", chrono::Utc::now().format("%H:%M:%S%.3f"));
}

/// Deletes seven acknowledged files in eight (in Alluxio and in the model).
fn thin(c: &Cluster, model: &mut Model) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let paths: Vec<String> =
        model.files.keys().enumerate().filter(|(i, _)| i % 8 != 0).map(|(_, p)| p.clone()).collect();
    rt.block_on(async {
        let fs = alluxio_client::FileSystem::connect(&c.client_conf()).await.unwrap();
        for p in paths {
            fs.delete(&alluxio_common::AlluxioPath::parse(&p).unwrap(), false, false).await.unwrap();
            model.files.remove(&p);
        }
    });
}
