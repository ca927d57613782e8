//! The Upgrading page, command by command: backup, format, restore with `-i`, worker cache
//! persistence with `-c`, golden fixtures of every format version, version checks.

use std::path::{Path, PathBuf};

use crate::cluster::{data, listing, repo, Cluster};

fn backup_uri(out: &str) -> String {
    let line = out
        .lines()
        .find(|l| l.starts_with("Successfully backed up journal to "))
        .unwrap_or_else(|| panic!("no success line in {out}"));
    line.trim_start_matches("Successfully backed up journal to ")
        .split(" with ")
        .next()
        .unwrap()
        .to_owned()
}

fn start_local(c: &Cluster, extra: &[&str]) -> String {
    let mut args = extra.to_vec();
    args.push("local");
    let o = c.script("alluxio-start.sh", &args);
    let out = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(
        o.status.success(),
        "alluxio-start.sh {args:?} failed:\n{out}\n{}",
        c.log("master")
    );
    c.wait_workers(1);
    out
}

fn stop_local(c: &Cluster) {
    let o = c.script("alluxio-stop.sh", &["local"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

#[test]
fn backup_format_and_restore_follow_the_upgrading_page() {
    let c = Cluster::new(&[]);
    start_local(&c, &[]);
    let f = c.path("f");
    std::fs::write(&f, data(200_000, 5)).unwrap();
    c.ok(&["fs", "mkdir", "/dir1"]);
    c.ok(&[
        "fs",
        "-Dalluxio.user.file.writetype.default=CACHE_THROUGH",
        "copyFromLocal",
        f.to_str().unwrap(),
        "/dir1/f",
    ]);
    let mounted = c.path("mounted");
    std::fs::create_dir_all(&mounted).unwrap();
    std::fs::write(mounted.join("m.txt"), b"mounted").unwrap();
    c.ok(&[
        "fs",
        "mount",
        "--option",
        "alluxio.underfs.example=1",
        "/mnt",
        mounted.to_str().unwrap(),
    ]);

    // B1 to the default directory of the root UFS: the backup and its .complete marker.
    let out1 = c.ok(&["fsadmin", "backup"]);
    assert!(
        out1.contains("Backup Entry Count") && out1.contains("Backup Host"),
        "{out1}"
    );
    let b1 = backup_uri(&out1);
    let backups_dir = c.path("underFSStorage/alluxio_backups");
    let names: Vec<String> = std::fs::read_dir(&backups_dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");
    assert!(
        names
            .iter()
            .any(|n| n.starts_with("alluxio-backup-") && n.ends_with(".gz")),
        "{names:?}"
    );
    assert!(
        names.iter().any(|n| n.ends_with(".gz.complete")),
        "{names:?}"
    );

    // B2 after more changes, to a local directory.
    // Not in the UFS, so only the metadata (and B2) knows it.
    c.ok(&[
        "fs",
        "-Dalluxio.user.file.writetype.default=MUST_CACHE",
        "mkdir",
        "/dir2",
    ]);
    let local_dir = c.path("local-backups");
    let out2 = c.ok(&["fsadmin", "backup", local_dir.to_str().unwrap(), "--local"]);
    let b2 = backup_uri(&out2);
    assert!(b2.starts_with("file://"), "{b2}");
    let at_b2 = listing(&c.ok(&["fs", "ls", "-R", "/"]));

    // Upgrade procedure: stop, format, start with -i.
    stop_local(&c);
    let fmt = c.ok(&["format"]);
    assert!(
        fmt.contains("WARNING: This will re-format the ramdisks"),
        "{fmt}"
    );
    start_local(&c, &["-i", &b2]);
    assert!(c.log("master").contains("Restored "), "{}", c.log("master"));
    assert_eq!(
        listing(&c.ok(&["fs", "ls", "-R", "/"])),
        at_b2,
        "B2 did not restore the namespace"
    );
    assert_eq!(c.run(&["fs", "cat", "/dir1/f"]).stdout, data(200_000, 5));
    assert_eq!(c.ok(&["fs", "cat", "/mnt/m.txt"]), "mounted");
    assert!(
        c.ok(&["fs", "mount"]).contains("alluxio.underfs.example=1"),
        "mount options survive"
    );

    // B1 (through the root UFS path): /dir1 but no /dir2.
    stop_local(&c);
    c.ok(&["formatJournal"]);
    start_local(&c, &["-i", &b1]);
    let ls = c.ok(&["fs", "ls", "/"]);
    assert!(ls.contains("/dir1") && !ls.contains("/dir2"), "{ls}");

    // A plain restart keeps the restored state; -i on a non-empty journal is refused, not applied.
    stop_local(&c);
    let out = start_local(&c, &["-i", &b2]);
    let ls = c.ok(&["fs", "ls", "/"]);
    assert!(ls.contains("/dir1") && !ls.contains("/dir2"), "{ls}");
    assert!(
        c.log("master").contains("is not empty") && c.log("master").contains("was not applied"),
        "{out}"
    );
    stop_local(&c);
}

#[test]
fn a_bad_backup_restores_nothing_and_the_retry_works() {
    let mut c = Cluster::new(&[]);
    c.format();
    c.start_master();
    c.ok(&["fs", "mkdir", "/a/b"]);
    let out = c.ok(&[
        "fsadmin",
        "backup",
        c.path("bk").to_str().unwrap(),
        "--local",
    ]);
    let good = backup_uri(&out).trim_start_matches("file://").to_owned();
    c.stop_master();
    c.ok(&["formatJournal"]);

    // Truncated and altered copies are refused, naming the file; the journal stays empty.
    let bytes = std::fs::read(&good).unwrap();
    let truncated = c.path("truncated.gz");
    std::fs::write(&truncated, &bytes[..bytes.len() / 2]).unwrap();
    let not_gzip = c.path("garbage.gz");
    std::fs::write(&not_gzip, b"this is not a backup").unwrap();
    for bad in [&truncated, &not_gzip] {
        let define = format!(
            "-Dalluxio.master.journal.init.from.backup={}",
            bad.display()
        );
        let o = c.run(&[&define, "process", "master"]);
        assert!(!o.status.success());
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            err.contains(&bad.display().to_string()) && err.contains("backup"),
            "{err}"
        );
        assert_eq!(
            std::fs::read_dir(c.path("journal/v1/checkpoints"))
                .unwrap()
                .count(),
            0
        );
        assert!(
            std::fs::read_dir(c.path("journal/v1/logs"))
                .unwrap()
                .count()
                == 0
        );
    }
    // The good one restores into the same (still empty) journal.
    let define = format!("-Dalluxio.master.journal.init.from.backup={good}");
    let mut child = std::process::Command::new(crate::cluster::BIN)
        .args([define.as_str(), "process", "master"])
        .env("ALLUXIO_HOME", c.home.path())
        .stderr(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    c.eventually("the restored master", || {
        c.run(&["fs", "ls", "/a"]).status.success()
    });
    assert!(c.ok(&["fs", "ls", "/a"]).contains("/a/b"));
    child.kill().unwrap();
    child.wait().unwrap();
}

#[test]
fn worker_ramdisk_caches_survive_stop_and_start_with_c() {
    let c = Cluster::new(&[]);
    start_local(&c, &[]);
    let f = c.path("f");
    std::fs::write(&f, data(300_000, 9)).unwrap();
    for name in ["/keep", "/gone"] {
        c.ok(&["fs", "-Dalluxio.user.file.writetype.default=MUST_CACHE", "copyFromLocal", f.to_str().unwrap(), name]);
    }
    for name in ["/persisted", "/damaged"] {
        c.ok(&["fs", "-Dalluxio.user.file.writetype.default=CACHE_THROUGH", "copyFromLocal", f.to_str().unwrap(), name]);
    }
    let block_of = |path: &str| -> String {
        let stat = c.ok(&["fs", "stat", path]);
        let ids = stat.split("blockIds=[").nth(1).unwrap();
        ids[..ids.find(']').unwrap()].to_owned()
    };
    let damaged_block = block_of("/damaged");
    let gone_block = block_of("/gone");
    let cache = c.path("cache");
    let o = c.script("alluxio-stop.sh", &["workers", "-c", cache.to_str().unwrap()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let saved = cache.join(c.shm.strip_prefix("/").unwrap()).join("alluxioworker");
    assert_eq!(std::fs::read_dir(&saved).unwrap().count(), 4);
    // A saved block rots on disk.
    let victim = saved.join(&damaged_block);
    let mut bytes = std::fs::read(&victim).unwrap();
    bytes[1000] ^= 0xff;
    std::fs::write(&victim, bytes).unwrap();
    // The ramdisk is wiped, as by a reboot; a file is deleted while the worker is down.
    std::fs::remove_dir_all(&c.shm).unwrap();
    c.ok(&["fs", "rm", "/gone"]);
    let o = c.script("alluxio-start.sh", &["workers", "NoMount", "-c", cache.to_str().unwrap()]);
    let out = format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
    assert!(o.status.success(), "{out}");
    assert!(out.contains(&format!("block {damaged_block}")) && out.contains("corrupt"), "{out}");
    c.wait_workers(1);
    // Served from the restored cache: MUST_CACHE data has no UFS copy, and the persisted file's
    // UFS copy is gone, so any UFS read would fail.
    std::fs::remove_file(c.path("underFSStorage/persisted")).unwrap();
    for name in ["/keep", "/persisted"] {
        assert_eq!(c.run(&["fs", "cat", name]).stdout, data(300_000, 9), "{name}");
        assert!(c.ok(&["fs", "ls", name]).contains("100%"));
    }
    // The corrupt block was not served: the bytes come from the UFS, correct.
    assert!(c.ok(&["fs", "ls", "/damaged"]).contains(" 0%"));
    assert_eq!(c.run(&["fs", "cat", "/damaged"]).stdout, data(300_000, 9));
    c.eventually("the block of the deleted file to be dropped", || !c.shm.join("alluxioworker").join(&gone_block).exists());
    // A missing cache directory is refused.
    c.script("alluxio-stop.sh", &["workers"]);
    let o = c.script("alluxio-start.sh", &["workers", "NoMount", "-c", "/no/such/cache"]);
    assert_eq!(o.status.code(), Some(2), "{}", String::from_utf8_lossy(&o.stderr));
    stop_local(&c);
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        let dst = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &dst);
        } else {
            std::fs::copy(e.path(), &dst).unwrap();
        }
    }
}

/// `ls -R` in UTC without the in-Alluxio column, as scripts/make-fixtures.sh records it.
fn fixture_listing(c: &Cluster) -> String {
    let o = std::process::Command::new(crate::cluster::BIN)
        .args(["fs", "ls", "-R", "/"])
        .env("ALLUXIO_HOME", c.home.path())
        .env("TZ", "UTC")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8(o.stdout)
        .unwrap()
        .lines()
        .map(|l| {
            let mut cols: Vec<&str> = l.split_whitespace().collect();
            cols[7] = "";
            cols.join(" ") + "\n"
        })
        .collect()
}

#[test]
fn every_released_format_version_still_loads() {
    let fixtures = repo().join("tests/fixtures");
    let versions: Vec<PathBuf> = std::fs::read_dir(&fixtures)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    assert!(
        !versions.is_empty(),
        "no fixtures in {}",
        fixtures.display()
    );
    for v in versions {
        let expected = std::fs::read_to_string(v.join("expected-ls.txt")).unwrap();
        // The journal folder, as that version left it.
        let mut c = Cluster::new(&[]);
        copy_dir(&v.join("journal"), &c.path("journal"));
        c.start_master();
        assert_eq!(fixture_listing(&c), expected, "journal of {}", v.display());
        c.stop_master();
        // The backup, restored into a freshly formatted journal.
        let mut c = Cluster::new(&[&format!(
            "alluxio.master.journal.init.from.backup={}",
            v.join("backup.gz").display()
        )]);
        c.format();
        c.start_master();
        assert_eq!(fixture_listing(&c), expected, "backup of {}", v.display());
        // readJournal dumps both as text.
        let dump = c.path("dump");
        let out = c.ok(&[
            "readJournal",
            "-inputFile",
            v.join("backup.gz").to_str().unwrap(),
            "-outputDir",
            dump.to_str().unwrap(),
        ]);
        assert!(out.contains("Dumped"), "{out}");
        assert!(std::fs::read_to_string(dump.join("backup.txt"))
            .unwrap()
            .contains("InodeFile"));
        c.stop_master();
        let out = c.ok(&["readJournal", "-outputDir", dump.to_str().unwrap()]);
        assert!(out.contains("checkpoint entries"), "{out}");
        assert!(std::fs::read_to_string(dump.join("checkpoint.txt"))
            .unwrap()
            .contains("CACHE_THROUGH.txt"));
    }
}

#[test]
fn an_incompatible_client_gets_both_versions_named() {
    let mut c = Cluster::new(&[]);
    c.format();
    c.start_master();
    let o = std::process::Command::new(crate::cluster::BIN)
        .args(["fs", "ls", "/"])
        .env("ALLUXIO_HOME", c.home.path())
        .env("ALLUXIO_RS_PROTOCOL_VERSION", "99")
        .output()
        .unwrap();
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("protocol version 99") && err.contains("protocol versions 1 to 1"),
        "{err}"
    );
}

#[test]
fn daily_backups_run_at_their_time_and_keep_the_newest() {
    // The next whole UTC minute (or the one after, if this one is about to end).
    let now = alluxio_common::now_ms();
    let mut at = now / 60_000 + 1;
    if at * 60_000 - now < 3_000 {
        at += 1;
    }
    let hh_mm = format!("{:02}:{:02}", (at / 60) % 24, at % 60);
    let mut c = Cluster::new(&[
        "alluxio.master.daily.backup.enabled=true",
        &format!("alluxio.master.daily.backup.time={hh_mm}"),
        "alluxio.master.daily.backup.files.retained=2",
    ]);
    c.format();
    c.start_master();
    let dir = c.path("underFSStorage/alluxio_backups");
    std::fs::create_dir_all(&dir).unwrap();
    for old in ["alluxio-backup-2020-01-01-1577836800000.gz", "alluxio-backup-2020-01-02-1577923200000.gz"] {
        std::fs::write(dir.join(old), b"old").unwrap();
        std::fs::write(dir.join(format!("{old}.complete")), b"").unwrap();
    }
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(150);
    loop {
        let names: Vec<String> = std::fs::read_dir(&dir).unwrap().flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect();
        if !names.iter().any(|n| n.contains("2020-01-01")) && names.len() == 4 {
            assert!(names.iter().any(|n| n.contains("2020-01-02")), "{names:?}");
            break;
        }
        assert!(std::time::Instant::now() < deadline, "no daily backup at {hh_mm} UTC: {names:?}\n{}", c.log("master"));
        std::thread::sleep(std::time::Duration::from_millis(500));
    }
    assert!(c.log("master").contains("daily backup written"));
}
