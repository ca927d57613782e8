//! Files put straight into the UFS appear in Alluxio; a restarted worker keeps its tmpfs blocks;
//! the master tells a worker to drop blocks of files it does not know.

use crate::cluster::{data, Cluster};

#[test]
fn a_file_placed_in_the_ufs_is_listed_read_and_cached() {
    let mut c = Cluster::new(&[]);
    c.format();
    c.start();
    let ufs = c.path("underFSStorage");
    std::fs::create_dir_all(ufs.join("direct/sub")).unwrap();
    let bytes = data(3_000_000, 7);
    std::fs::write(ufs.join("direct/sub/file.bin"), &bytes).unwrap();
    std::fs::write(ufs.join("direct/top.txt"), b"hello").unwrap();

    let ls = c.ok(&["fs", "ls", "-R", "/"]);
    assert!(ls.contains("/direct/sub/file.bin") && ls.contains("/direct/top.txt"), "{ls}");
    assert!(
        ls.lines().any(|l| l.ends_with("/direct/sub/file.bin")
            && l.contains("3000000")
            && l.contains("PERSISTED")
            && l.contains(" 0%")),
        "{ls}"
    );
    let o = c.run(&["fs", "cat", "/direct/sub/file.bin"]);
    assert!(o.status.success() && o.stdout == bytes);
    // The read cached the block.
    c.eventually("the block to be cached", || c.ok(&["fs", "ls", "/direct/sub/file.bin"]).contains("100%"));
    assert_eq!(c.ok(&["fs", "cat", "/direct/top.txt"]), "hello");
    // A path that only exists in the UFS answers stat directly.
    std::fs::write(ufs.join("late.txt"), b"late").unwrap();
    assert!(c.ok(&["fs", "stat", "/late.txt"]).contains("is a file path"));

    // The worker restarts with its tmpfs blocks and re-registers them.
    c.stop_worker();
    c.start_worker();
    assert!(c.log("worker").contains("registered with the master"));
    c.eventually("re-registered blocks", || c.ok(&["fs", "ls", "/direct/sub/file.bin"]).contains("100%"));
    // Served from the cache even with the UFS copy gone.
    std::fs::remove_file(ufs.join("direct/sub/file.bin")).unwrap();
    let o = c.run(&["fs", "cat", "/direct/sub/file.bin"]);
    assert!(o.status.success() && o.stdout == bytes, "{}", String::from_utf8_lossy(&o.stderr));
}

#[test]
fn blocks_of_unknown_files_are_removed_when_a_worker_registers() {
    let mut c = Cluster::new(&[]);
    c.format();
    c.start();
    let f = c.path("f");
    std::fs::write(&f, data(100_000, 1)).unwrap();
    c.ok(&["fs", "-Dalluxio.user.file.writetype.default=MUST_CACHE", "copyFromLocal", f.to_str().unwrap(), "/f"]);
    c.stop_worker();
    // An orphan block file left by another cluster, and the known block.
    let dir = c.shm.join("alluxioworker");
    std::fs::write(dir.join("999999999"), b"stale").unwrap();
    let blocks: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().parse::<i64>().is_ok())
        .collect();
    assert_eq!(blocks.len(), 2);
    c.start_worker();
    c.eventually("the orphan block to be deleted", || !dir.join("999999999").exists());
    assert_eq!(c.run(&["fs", "cat", "/f"]).stdout, data(100_000, 1));
}

#[test]
fn format_wipes_journal_and_worker_storage_but_not_the_ufs() {
    let mut c = Cluster::new(&[]);
    c.format();
    c.start();
    let f = c.path("f");
    std::fs::write(&f, b"x").unwrap();
    c.ok(&["fs", "-Dalluxio.user.file.writetype.default=CACHE_THROUGH", "copyFromLocal", f.to_str().unwrap(), "/kept"]);
    c.stop_worker();
    c.stop_master();
    let out = c.ok(&["format"]);
    assert!(out.contains("WARNING: This will re-format the ramdisks"), "{out}");
    assert!(c.path("underFSStorage/kept").exists(), "format must never touch the UFS");
    assert_eq!(std::fs::read_dir(c.shm.join("alluxioworker")).unwrap().count(), 0);
    c.start();
    // The namespace is new, the UFS file loads again lazily.
    assert!(c.ok(&["fs", "ls", "/"]).contains("/kept"));
}

#[test]
fn a_must_cache_write_that_cannot_fit_fails_cleanly() {
    let mut c = Cluster::new(&["alluxio.worker.ramdisk.size=4MB", "alluxio.user.block.size.bytes.default=1MB"]);
    c.format();
    c.start();
    let big = c.path("big");
    std::fs::write(&big, data(6 << 20, 2)).unwrap();
    let (code, err) = c.fails(&[
        "fs",
        "-Dalluxio.user.file.writetype.default=MUST_CACHE",
        "copyFromLocal",
        big.to_str().unwrap(),
        "/big",
    ]);
    assert_eq!(code, 255);
    assert!(err.contains("Failed to allocate") && err.contains("never evicted"), "{err}");
    // Nothing half-written stays: no file, no temporary block, no space held.
    c.eventually("the failed file to be removed", || !c.run(&["fs", "stat", "/big"]).status.success());
    assert_eq!(std::fs::read_dir(c.shm.join("alluxioworker/.tmp_blocks")).unwrap().count(), 0);
    // The MUST_CACHE data already there is intact; a file that fits still goes in.
    let small = c.path("small");
    std::fs::write(&small, data(1 << 20, 3)).unwrap();
    c.ok(&[
        "fs",
        "-Dalluxio.user.file.writetype.default=MUST_CACHE",
        "copyFromLocal",
        small.to_str().unwrap(),
        "/small",
    ]);
    assert_eq!(c.run(&["fs", "cat", "/small"]).stdout, data(1 << 20, 3));
}

#[test]
fn data_moves_over_the_network_without_short_circuit_and_no_cache_reads_cache_nothing() {
    let mut c =
        Cluster::new(&["alluxio.user.short.circuit.enabled=false", "alluxio.user.block.size.bytes.default=1MB"]);
    c.format();
    c.start();
    let f = c.path("f");
    let bytes = data(3_500_000, 4);
    std::fs::write(&f, &bytes).unwrap();
    c.ok(&[
        "fs",
        "-Dalluxio.user.file.writetype.default=MUST_CACHE",
        "copyFromLocal",
        f.to_str().unwrap(),
        "/streamed",
    ]);
    assert_eq!(c.run(&["fs", "cat", "/streamed"]).stdout, bytes);
    assert_eq!(c.run(&["fs", "head", "-c", "10", "/streamed"]).stdout, &bytes[..10]);
    assert_eq!(c.run(&["fs", "tail", "-c", "1500000", "/streamed"]).stdout, &bytes[bytes.len() - 1_500_000..]);
    // NO_CACHE reads through without caching; CACHE then caches.
    std::fs::write(c.path("underFSStorage/cold"), &bytes).unwrap();
    let o = c.run(&["fs", "-Dalluxio.user.file.readtype.default=NO_CACHE", "cat", "/cold"]);
    assert_eq!(o.stdout, bytes);
    assert!(c.ok(&["fs", "ls", "/cold"]).contains(" 0%"));
    assert_eq!(c.run(&["fs", "cat", "/cold"]).stdout, bytes);
    c.eventually("caching", || c.ok(&["fs", "ls", "/cold"]).contains("100%"));
    let copied = c.path("copied");
    c.ok(&["fs", "copyToLocal", "/cold", copied.to_str().unwrap()]);
    assert_eq!(std::fs::read(&copied).unwrap(), bytes);
    assert!(c.ok(&["fs", "checksum", "/cold"]).contains("md5sum: "));
}
