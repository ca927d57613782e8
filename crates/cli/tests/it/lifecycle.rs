//! format → start (scripts) → every write type → read back → stop → start → same namespace and bytes.

use crate::cluster::{data, listing, Cluster};

const WRITE_TYPES: [&str; 4] = ["MUST_CACHE", "CACHE_THROUGH", "THROUGH", "ASYNC_THROUGH"];

#[test]
fn a_cluster_keeps_everything_across_stop_and_start() {
    let c = Cluster::new(&["alluxio.user.block.size.bytes.default=1MB"]);
    let started = c.script("alluxio-start.sh", &["local"]);
    let out = String::from_utf8_lossy(&started.stdout).to_string();
    assert!(started.status.success(), "start failed: {out}\n{}", String::from_utf8_lossy(&started.stderr));
    assert!(out.contains("Starting master @") && out.contains("healthy state"), "{out}");
    c.wait_workers(1);

    // Starting again says so and starts no second process.
    let again = c.script("alluxio-start.sh", &["local"]);
    let again_out = String::from_utf8_lossy(&again.stdout);
    assert!(
        again_out.contains("Master is already running") && again_out.contains("Worker is already running"),
        "{again_out}"
    );

    c.ok(&["fs", "mkdir", "/data/nested"]);
    let src = c.path("src");
    std::fs::create_dir_all(&src).unwrap();
    let mut files = Vec::new();
    for (i, wt) in WRITE_TYPES.iter().enumerate() {
        // 2.5 MB spans three 1 MB blocks.
        let bytes = data(2_500_000 + i, i as u64);
        let local = src.join(wt);
        std::fs::write(&local, &bytes).unwrap();
        let dst = format!("/data/{wt}");
        let define = format!("-Dalluxio.user.file.writetype.default={wt}");
        let out = c.ok(&["fs", &define, "copyFromLocal", local.to_str().unwrap(), &dst]);
        assert!(out.contains(&format!("Copied file://{} to {dst}", local.display())), "{out}");
        files.push((dst, bytes));
    }
    c.ok(&["fs", "touch", "/data/nested/empty"]);
    files.push(("/data/nested/empty".into(), Vec::new()));

    let check_content = |c: &Cluster| {
        for (p, bytes) in &files {
            let o = c.run(&["fs", "cat", p]);
            assert!(o.status.success(), "cat {p}: {}", String::from_utf8_lossy(&o.stderr));
            assert!(o.stdout == *bytes, "content of {p} differs ({} vs {} bytes)", o.stdout.len(), bytes.len());
        }
    };
    check_content(&c);

    // Persisted write types are in the UFS, MUST_CACHE is not.
    let ufs = c.path("underFSStorage/data");
    c.eventually("ASYNC_THROUGH persistence", || !c.ok(&["fs", "ls", "-R", "/"]).contains("TO_BE_PERSISTED"));
    for wt in ["CACHE_THROUGH", "THROUGH", "ASYNC_THROUGH"] {
        assert_eq!(
            std::fs::read(ufs.join(wt)).unwrap().len(),
            files.iter().find(|f| f.0 == format!("/data/{wt}")).unwrap().1.len()
        );
    }
    assert!(!ufs.join("MUST_CACHE").exists());
    let leftovers: Vec<_> = std::fs::read_dir(&ufs)
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().contains(".alluxio."))
        .collect();
    assert!(leftovers.is_empty(), "temporary files left in the UFS: {leftovers:?}");

    let before = listing(&c.ok(&["fs", "ls", "-R", "/"]));
    assert!(before.iter().any(|l| l.ends_with("/data/MUST_CACHE") && l.contains("NOT_PERSISTED")), "{before:#?}");

    let stopped = c.script("alluxio-stop.sh", &["local"]);
    assert!(String::from_utf8_lossy(&stopped.stdout).contains("Successfully Killed 2 process(es)"));
    let started = c.script("alluxio-start.sh", &["local"]);
    assert!(started.status.success(), "{}", String::from_utf8_lossy(&started.stderr));
    c.wait_workers(1);

    let after = listing(&c.ok(&["fs", "ls", "-R", "/"]));
    assert_eq!(before, after, "the namespace changed across a restart");
    // MUST_CACHE data lives only in the worker's tmpfs, which the restart kept.
    check_content(&c);
    let stopped = c.script("alluxio-stop.sh", &["local"]);
    assert!(stopped.status.success());
}

#[test]
fn configuration_is_read_as_alluxio_reads_it() {
    let c = Cluster::new(&["alluxio.user.block.size.bytes.default=${alluxio.user.network.reader.chunk.size.bytes}"]);
    // ${key} substitution and sizes.
    assert_eq!(c.ok(&["getConf", "alluxio.user.block.size.bytes.default"]).trim(), "1MB");
    assert_eq!(c.ok(&["getConf", "--unit", "KB", "alluxio.user.block.size.bytes.default"]).trim(), "1024");
    // Defaults derive from the home directory.
    let home = c.home.path().display().to_string();
    assert_eq!(c.ok(&["getConf", "alluxio.master.journal.folder"]).trim(), format!("{home}/journal"));
    assert_eq!(c.ok(&["getConf", "alluxio.master.mount.table.root.ufs"]).trim(), format!("{home}/underFSStorage"));
    assert_eq!(c.ok(&["getConf", "alluxio.master.rpc.port"]).trim(), c.master_port.to_string());
    // -D wins over the site file; durations parse.
    assert_eq!(
        c.ok(&["getConf", "-Dalluxio.master.worker.timeout=10sec", "--unit", "MS", "alluxio.master.worker.timeout"])
            .trim(),
        "10000"
    );
    assert!(c.ok(&["getConf", "--source", "alluxio.master.rpc.port"]).contains("SITE_PROPERTY"));
    let all = c.ok(&["getConf"]);
    assert!(
        all.contains("alluxio.master.web.port=")
            && all.contains("alluxio.master.journal.init.from.backup=(no value set)")
    );
    let (code, err) = c.fails(&["getConf", "alluxio.not.a.key"]);
    assert_eq!(code, 1);
    assert!(err.contains("alluxio.not.a.key is not a valid configuration key"), "{err}");
    let v = c.ok(&["version"]);
    assert!(v.starts_with("2.") && v.contains("Journal format version"), "{v}");
}

#[test]
fn clients_find_the_serving_master_among_rpc_addresses() {
    let mut c = Cluster::new(&[]);
    c.format();
    c.start_master();
    let dead = crate::cluster::free_port();
    let addrs = format!("-Dalluxio.master.rpc.addresses=127.0.0.1:{dead},localhost:{}", c.master_port);
    c.ok(&["fs", &addrs, "mkdir", "/via-list"]);
    assert!(c.ok(&["fs", &addrs, "ls", "/"]).contains("/via-list"));
    let all_dead = format!("-Dalluxio.master.rpc.addresses=127.0.0.1:{dead},127.0.0.1:{}", crate::cluster::free_port());
    let (_, err) = c.fails(&["fs", "-Dalluxio.user.rpc.retry.max.duration=1s", &all_dead, "ls", "/"]);
    assert!(err.contains("alluxio.master.rpc.addresses") && err.contains(&dead.to_string()), "{err}");
}
