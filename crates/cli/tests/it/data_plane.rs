//! The data plane: tiers, caching policies, several workers, remote reads and failover.

use std::collections::BTreeMap;

use crate::cluster::{data, Cluster};

/// Block id → worker hosts holding it, from `fs stat`.
fn block_hosts(c: &Cluster, path: &str) -> BTreeMap<String, Vec<String>> {
    let stat = c.ok(&["fs", "stat", path]);
    let mut out = BTreeMap::new();
    for b in stat.lines().filter(|l| l.starts_with("BlockInfo{")) {
        let id = b.split("id=").nth(1).unwrap().split(',').next().unwrap().to_owned();
        let hosts = b.split("host=").skip(1).map(|h| h.split(',').next().unwrap().to_owned()).collect();
        out.insert(id, hosts);
    }
    out
}

/// Runs a command and checks its output bytes without printing megabytes on failure.
fn same(c: &Cluster, args: &[&str], expected: &[u8]) {
    let o = c.run(args);
    assert!(
        o.status.success() && o.stdout == expected,
        "alluxio {args:?}: exit {}, {} bytes instead of {}; stderr: {}",
        o.status,
        o.stdout.len(),
        expected.len(),
        String::from_utf8_lossy(&o.stderr)
    );
}

fn write(c: &Cluster, path: &str, len: usize, seed: u64, defines: &[&str]) -> Vec<u8> {
    let bytes = data(len, seed);
    let src = c.path(&format!("src-{seed}"));
    std::fs::write(&src, &bytes).unwrap();
    let mut args = vec!["fs"];
    args.extend(defines);
    args.extend(["copyFromLocal", src.to_str().unwrap(), path]);
    c.ok(&args);
    bytes
}

#[test]
fn three_workers_place_blocks_by_policy_and_survive_a_dead_worker() {
    let mut c =
        Cluster::new(&["alluxio.user.block.size.bytes.default=1MB", "alluxio.master.replication.check.interval=200ms"]);
    c.format();
    c.start();
    let w2 = c.add_worker("127.0.0.2", &[]);
    let w3 = c.add_worker("127.0.0.3", &["-Dalluxio.worker.ramdisk.size=512MB"]);
    c.wait_workers(3);

    // LocalFirst (the default): every block on the local worker.
    let local = write(&c, "/local", 3 << 20, 1, &["-Dalluxio.user.file.writetype.default=MUST_CACHE"]);
    assert!(block_hosts(&c, "/local").values().all(|h| h == &["localhost"]), "{:?}", block_hosts(&c, "/local"));
    // MostAvailableFirst: the worker with the largest free space (512 MB).
    write(
        &c,
        "/most",
        2 << 20,
        2,
        &[
            "-Dalluxio.user.file.writetype.default=MUST_CACHE",
            "-Dalluxio.user.block.write.location.policy.class=alluxio.client.block.policy.MostAvailableFirstPolicy",
        ],
    );
    assert!(block_hosts(&c, "/most").values().all(|h| h == &["127.0.0.3"]), "{:?}", block_hosts(&c, "/most"));
    // RoundRobin: three blocks on three workers.
    let rr = write(
        &c,
        "/rr",
        3 << 20,
        3,
        &[
            "-Dalluxio.user.file.writetype.default=CACHE_THROUGH",
            "-Dalluxio.user.block.write.location.policy.class=RoundRobinPolicy",
        ],
    );
    let hosts: std::collections::BTreeSet<String> = block_hosts(&c, "/rr").into_values().flatten().collect();
    assert_eq!(hosts.len(), 3, "{hosts:?}");
    // DeterministicHash: blocks spread, and reads come back right from the remote workers.
    let dh = write(
        &c,
        "/dh",
        4 << 20,
        4,
        &[
            "-Dalluxio.user.file.writetype.default=MUST_CACHE",
            "-Dalluxio.user.block.write.location.policy.class=DeterministicHashPolicy",
        ],
    );
    assert!(block_hosts(&c, "/dh").values().flatten().collect::<std::collections::BTreeSet<_>>().len() >= 2);
    same(&c, &["fs", "cat", "/dh"], &dh);
    same(&c, &["fs", "cat", "/local"], &local);

    // Reading /most (remote only) also caches it on the local worker (passive cache).
    c.run(&["fs", "cat", "/most"]);
    c.eventually("passive caching on the local worker", || {
        block_hosts(&c, "/most").values().all(|h| h.contains(&"localhost".to_string()))
    });

    // A second copy of every /rr block (setReplication --min 2), then a worker dies: reads go on.
    c.ok(&["fs", "setReplication", "--min", "2", "/rr"]);
    c.eventually("replication to 2 copies", || block_hosts(&c, "/rr").values().all(|h| h.len() >= 2));
    c.kill_added_worker(w2);
    same(&c, &["fs", "cat", "/rr"], &rr);
    // And with every copy of a persisted file's block gone, the UFS serves it.
    c.kill_added_worker(w3);
    same(&c, &["fs", "cat", "/rr"], &rr);
    // --max drops extra copies.
    c.ok(&["fs", "setReplication", "--max", "1", "/local"]);
}

#[test]
fn tiers_keep_hot_blocks_in_memory_and_lose_nothing() {
    let ssd = tempfile::tempdir().unwrap();
    let mut c = Cluster::new(&[
        "alluxio.user.block.size.bytes.default=1MB",
        "alluxio.worker.tieredstore.levels=2",
        "alluxio.worker.ramdisk.size=4MB",
        &format!("alluxio.worker.tieredstore.level1.dirs.path={}", ssd.path().display()),
        "alluxio.worker.tieredstore.level1.dirs.quota=64MB",
        "alluxio.worker.management.tier.promote.interval=200ms",
        "alluxio.master.ttl.checker.interval=200ms",
        "alluxio.master.replication.check.interval=200ms",
    ]);
    c.format();
    c.start();
    // A working set twice the MEM quota: eight 1 MB files.
    let mut files = Vec::new();
    for i in 0..8 {
        let p = format!("/ws/f{i}");
        files.push((
            p.clone(),
            write(&c, &p, 1 << 20, 10 + i, &["-Dalluxio.user.file.writetype.default=CACHE_THROUGH"]),
        ));
    }
    // Reads count as accesses only when the worker serves them: wait until the master knows
    // every block's location (under load the worker's commit can lag the client's return).
    for (p, _) in &files {
        c.eventually(&format!("{p} cached"), || c.ok(&["fs", "ls", p]).contains("100%"));
    }
    // Touch the first two repeatedly: they are the hot set.
    for _ in 0..5 {
        for (p, bytes) in &files[..2] {
            same(&c, &["fs", "cat", p], bytes);
        }
    }
    c.eventually("hot blocks promoted to MEM", || {
        let r = c.ok(&["fsadmin", "report", "capacity"]);
        r.contains("SSD") && files[..2].iter().all(|(p, _)| c.ok(&["fs", "ls", p]).contains("100%"))
    });
    // None lost: everything is still cached (MEM or SSD) and intact.
    for (p, bytes) in &files {
        assert!(c.ok(&["fs", "ls", p]).contains("100%"), "{p} left the cache");
        same(&c, &["fs", "cat", p], bytes);
    }
    let cap = c.ok(&["fsadmin", "report", "capacity"]);
    assert!(cap.contains("MEM") && cap.contains("SSD"), "{cap}");
    // The reads above touched every file once, so which blocks sit in MEM now depends on the
    // order they were read in. Touch the hot set again: it is now the most recently used, and
    // the promoter (every 200 ms) swaps it into MEM, moving colder blocks down.
    for (p, bytes) in &files[..2] {
        same(&c, &["fs", "cat", p], bytes);
    }
    for (p, _) in &files[..2] {
        c.eventually(&format!("{p} back in MEM"), || c.ok(&["fs", "stat", p]).contains("tierAlias=MEM"));
    }

    // Pinned to a medium: the hot f0 moves down to SSD and the promoter leaves it there.
    c.ok(&["fs", "pin", "/ws/f0", "SSD"]);
    assert!(c.ok(&["fs", "stat", "/ws/f0"]).contains("SSD"));
    c.eventually("f0 placed on SSD", || c.ok(&["fs", "stat", "/ws/f0"]).contains("tierAlias=SSD"));
    for _ in 0..3 {
        same(&c, &["fs", "cat", "/ws/f0"], &files[0].1);
    }
    std::thread::sleep(std::time::Duration::from_millis(800));
    assert!(c.ok(&["fs", "stat", "/ws/f0"]).contains("tierAlias=SSD"), "f0 left SSD while pinned there");
    let (_, err) = c.fails(&["fs", "pin", "/ws/f0", "FLOPPY"]);
    assert!(err.contains("FLOPPY"), "{err}");
    c.ok(&["fs", "unpin", "/ws/f0"]);

    // free drops cached copies of persisted files only.
    let mc = write(&c, "/ws/mc", 1000, 30, &["-Dalluxio.user.file.writetype.default=MUST_CACHE"]);
    let (_, err) = c.fails(&["fs", "free", "/ws"]);
    assert!(err.contains("not persisted"), "{err}");
    c.ok(&["fs", "free", "/ws/f7"]);
    c.eventually("f7 freed", || c.ok(&["fs", "ls", "/ws/f7"]).contains(" 0%"));
    same(&c, &["fs", "cat", "/ws/mc"], &mc);

    // TTLs: delete removes the file, free drops its cached copy.
    c.ok(&["fs", "setTtl", "/ws/f6", "500"]);
    c.ok(&["fs", "setTtl", "--action", "free", "/ws/f5", "500"]);
    c.eventually("TTL delete", || !c.run(&["fs", "stat", "/ws/f6"]).status.success());
    c.eventually("TTL free", || c.ok(&["fs", "ls", "/ws/f5"]).contains(" 0%"));
    assert!(!c.path("underFSStorage/ws/f6").exists());
}

#[test]
fn pinned_files_stay_through_eviction() {
    let mut c = Cluster::new(&["alluxio.user.block.size.bytes.default=1MB", "alluxio.worker.ramdisk.size=3MB"]);
    c.format();
    c.start();
    let pinned = write(&c, "/pinned", 1 << 20, 40, &["-Dalluxio.user.file.writetype.default=CACHE_THROUGH"]);
    c.ok(&["fs", "pin", "/pinned"]);
    for i in 0..5 {
        write(&c, &format!("/filler{i}"), 1 << 20, 41 + i, &["-Dalluxio.user.file.writetype.default=CACHE_THROUGH"]);
    }
    assert!(c.ok(&["fs", "ls", "/pinned"]).contains("100%"));
    assert!(c.ok(&["fs", "ls", "-p", "/"]).contains("/pinned"));
    std::fs::remove_file(c.path("underFSStorage/pinned")).unwrap();
    same(&c, &["fs", "cat", "/pinned"], &pinned);
}

#[test]
fn bad_tier_and_policy_configuration_is_refused_with_the_key_named() {
    let mut c = Cluster::new(&[]);
    c.format();
    c.start_master();
    let worker = |c: &Cluster, defines: &[&str]| {
        let mut args: Vec<&str> = defines.to_vec();
        args.extend(["process", "worker"]);
        let o = c.run(&args);
        assert!(!o.status.success(), "{defines:?} was accepted");
        String::from_utf8_lossy(&o.stderr).to_string()
    };
    let err = worker(&c, &["-Dalluxio.worker.tieredstore.level0.alias=FLASH"]);
    assert!(err.contains("alluxio.worker.tieredstore.level0.alias") && err.contains("FLASH"), "{err}");
    let err = worker(&c, &["-Dalluxio.worker.ramdisk.size=100TB"]);
    assert!(err.contains("alluxio.worker.ramdisk.size") && err.contains("file system of only"), "{err}");
    let dup = c.shm.display().to_string();
    let err = worker(
        &c,
        &[
            "-Dalluxio.worker.tieredstore.levels=2",
            &format!("-Dalluxio.worker.tieredstore.level1.dirs.path={dup}"),
            "-Dalluxio.worker.tieredstore.level1.dirs.quota=1GB",
        ],
    );
    assert!(err.contains("already used by tier MEM"), "{err}");
    let err = worker(&c, &["-Dalluxio.worker.allocator.class=alluxio.worker.block.allocator.BestAllocator"]);
    assert!(err.contains("alluxio.worker.allocator.class") && err.contains("MaxFreeAllocator"), "{err}");
    let (_, err) = c.fails(&["fs", "-Dalluxio.user.block.write.location.policy.class=NearestPolicy", "ls", "/"]);
    assert!(err.contains("alluxio.user.block.write.location.policy.class"), "{err}");
    c.ok(&["fs", "touch", "/t"]);
    let (_, err) = c.fails(&["fs", "setTtl", "/t", "-5"]);
    assert!(err.contains("Invalid TTL"), "{err}");
}

#[test]
fn metadata_sync_picks_up_changes_made_directly_in_the_ufs() {
    let mut c = Cluster::new(&[]);
    c.format();
    c.start();
    let ufs = c.path("underFSStorage/synced");
    std::fs::create_dir_all(&ufs).unwrap();
    std::fs::write(ufs.join("a"), b"first version").unwrap();
    assert!(c.ok(&["fs", "ls", "/synced"]).contains("/synced/a"));
    assert_eq!(c.ok(&["fs", "cat", "/synced/a"]), "first version");
    // Out-of-band changes: a new file, a changed file, a deleted file.
    std::fs::write(ufs.join("b"), b"new").unwrap();
    std::thread::sleep(std::time::Duration::from_millis(20));
    std::fs::write(ufs.join("a"), b"second, longer version").unwrap();
    // Without sync (the default, -1) the listing Alluxio loaded stays as it was.
    assert!(!c.ok(&["fs", "ls", "/synced"]).contains("/synced/b"));
    let sync = "-Dalluxio.user.file.metadata.sync.interval=0";
    let ls = c.ok(&["fs", sync, "ls", "/synced"]);
    assert!(ls.contains("/synced/b"), "{ls}");
    assert_eq!(c.ok(&["fs", sync, "cat", "/synced/a"]), "second, longer version");
    std::fs::remove_file(ufs.join("b")).unwrap();
    assert!(!c.ok(&["fs", sync, "ls", "/synced"]).contains("/synced/b"));
    // Alluxio-only data is never removed by a sync.
    c.ok(&["fs", "-Dalluxio.user.file.writetype.default=MUST_CACHE", "touch", "/synced/only-in-alluxio"]);
    assert!(c.ok(&["fs", sync, "ls", "/synced"]).contains("/synced/only-in-alluxio"));
}

#[test]
fn a_decommissioned_worker_is_drained_of_unpersisted_data() {
    let mut c = Cluster::new(&["alluxio.user.block.size.bytes.default=1MB"]);
    c.format();
    c.start();
    let w2 = c.add_worker("127.0.0.2", &["-Dalluxio.worker.ramdisk.size=512MB"]);
    c.wait_workers(2);
    let only_there = write(
        &c,
        "/only-there",
        3 << 20,
        50,
        &[
            "-Dalluxio.user.file.writetype.default=MUST_CACHE",
            "-Dalluxio.user.block.write.location.policy.class=MostAvailableFirstPolicy",
        ],
    );
    assert!(block_hosts(&c, "/only-there").values().all(|h| h == &["127.0.0.2"]));
    let addr = format!("127.0.0.2:{w2}");
    let out = c.ok(&["fsadmin", "decommissionWorker", "-a", &addr, "-w", "30s"]);
    assert!(out.contains("Decommissioned worker(s)"), "{out}");
    assert!(c.ok(&["fsadmin", "report", "capacity"]).contains("127.0.0.2"));
    // New data avoids it.
    write(
        &c,
        "/after",
        1 << 20,
        51,
        &[
            "-Dalluxio.user.file.writetype.default=MUST_CACHE",
            "-Dalluxio.user.block.write.location.policy.class=MostAvailableFirstPolicy",
        ],
    );
    assert!(block_hosts(&c, "/after").values().all(|h| h == &["localhost"]));
    // Stopping it loses nothing.
    c.kill_added_worker(w2);
    same(&c, &["fs", "cat", "/only-there"], &only_there);
    let (_, err) = c.fails(&["fsadmin", "decommissionWorker", "-a", "nowhere:1"]);
    assert!(err.contains("Unknown workers: nowhere:1"), "{err}");
}

#[test]
fn a_worker_with_many_cached_blocks_registers_them_all() {
    // `bench worker-scale` writes its namespace as a UFS journal.
    let mut c = Cluster::new(&["alluxio.worker.ramdisk.size=128MB", "alluxio.master.journal.type=UFS"]);
    let out = c.ok(&[
        "bench",
        "worker-scale",
        "--journal",
        c.path("journal").to_str().unwrap(),
        "--tier",
        c.shm.to_str().unwrap(),
        "--blocks",
        "10000",
    ]);
    assert!(out.contains("10000 cached blocks"), "{out}");
    c.start_master();
    c.start_worker();
    assert!(c.log("worker").contains("10000 blocks (40960000 bytes) found"), "{}", c.log("worker"));
    c.eventually("all blocks registered", || c.log("worker").contains("registered with the master"));
    assert!(
        c.log("worker").contains(": 10000 blocks, 0 protected, 0 unknown to the master deleted"),
        "{}",
        c.log("worker")
    );
    assert!(c.ok(&["fs", "ls", "/d9/f999"]).contains("100%"));
}

#[test]
fn short_circuit_reads_racing_eviction_never_see_torn_bytes() {
    use alluxio_client::{FileSystem, ReadPType};
    use alluxio_common::AlluxioPath;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;

    let mut c = Cluster::new(&[
        "alluxio.user.block.size.bytes.default=1MB",
        "alluxio.worker.ramdisk.size=6MB",
        "alluxio.user.file.writetype.default=CACHE_THROUGH",
    ]);
    c.format();
    c.start();
    let hot = write(&c, "/hot", 3 << 20, 1, &[]);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let fs = rt.block_on(FileSystem::connect(&c.client_conf())).unwrap();
    let path = AlluxioPath::parse("/hot").unwrap();

    // One reader holds block 0 open (short-circuit, read-locked) while other writes fill the
    // cache: block 0 must stay, the others may go, and the rest of the read comes from the
    // cache or, after an eviction, from the UFS — the same bytes either way.
    let mut held = rt.block_on(fs.open_file(&path, Some(ReadPType::NoCache))).unwrap();
    let first = rt.block_on(held.read_chunk()).unwrap().unwrap();
    for i in 0..4 {
        write(&c, &format!("/churn/a{i}"), 3 << 20, 100 + i, &[]);
    }
    let mut got = first.to_vec();
    while let Some(chunk) = rt.block_on(held.read_chunk()).unwrap() {
        got.extend_from_slice(&chunk);
    }
    drop(held);
    assert!(got == hot, "the held read returned different bytes");
    // Evictions reach the master with the next heartbeat.
    c.eventually("evictions reported", || c.ok(&["fs", "ls", "/churn/a0"]).contains(" 0%"));

    // Many readers re-caching /hot while writers keep evicting it.
    let stop = Arc::new(AtomicBool::new(false));
    let readers: Vec<_> = (0..3)
        .map(|_| {
            let (fs, path, hot, stop) = (fs.clone(), path.clone(), hot.clone(), stop.clone());
            rt.spawn(async move {
                let mut reads = 0;
                while !stop.load(Ordering::SeqCst) || reads == 0 {
                    let mut s = fs.open_file(&path, Some(ReadPType::Cache)).await.unwrap();
                    let mut got = Vec::with_capacity(hot.len());
                    while let Some(chunk) = s.read_chunk().await.unwrap() {
                        got.extend_from_slice(&chunk);
                        tokio::task::yield_now().await;
                    }
                    assert!(got == hot, "read {reads} of /hot returned different bytes");
                    reads += 1;
                }
                reads
            })
        })
        .collect();
    for i in 0..8 {
        write(&c, &format!("/churn/b{i}"), 3 << 20, 200 + i, &[]);
    }
    stop.store(true, Ordering::SeqCst);
    for r in readers {
        assert!(rt.block_on(r).unwrap() > 0);
    }
    same(&c, &["fs", "cat", "/hot"], &hot);
    assert!(!c.log("worker").contains("panicked"), "{}", c.log("worker"));
}
