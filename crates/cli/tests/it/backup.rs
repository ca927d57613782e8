//! The Upgrading page, command by command: backup, format, restore with `-i`, worker cache
//! persistence with `-c`, golden fixtures of every format version, version checks.

use std::path::{Path, PathBuf};

use crate::cluster::{data, listing, repo, Cluster};

fn backup_uri(out: &str) -> String {
    let line = out
        .lines()
        .find(|l| l.starts_with("Successfully backed up journal to "))
        .unwrap_or_else(|| panic!("no success line in {out}"));
    line.trim_start_matches("Successfully backed up journal to ").split(" with ").next().unwrap().to_owned()
}

fn start_local(c: &Cluster, extra: &[&str]) -> String {
    start_action(c, extra, "local")
}

fn start_action(c: &Cluster, extra: &[&str], action: &str) -> String {
    let mut args = extra.to_vec();
    args.push(action);
    let o = c.script("alluxio-start.sh", &args);
    let out = format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
    assert!(o.status.success(), "alluxio-start.sh {args:?} failed:\n{out}\n{}", c.log("master"));
    c.wait_workers(1);
    out
}

fn stop_local(c: &Cluster) {
    stop_action(c, "local");
}

fn stop_action(c: &Cluster, action: &str) {
    let o = c.script("alluxio-stop.sh", &[action]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

#[test]
fn backup_format_and_restore_follow_the_upgrading_page() {
    let c = Cluster::new(&[]);
    start_action(&c, &[], "all");
    let f = c.path("f");
    std::fs::write(&f, data(200_000, 5)).unwrap();
    let f = f.to_str().unwrap();
    c.ok(&["fs", "mkdir", "/dir1"]);
    for wt in ["MUST_CACHE", "CACHE_THROUGH", "THROUGH", "ASYNC_THROUGH"] {
        let define = format!("-Dalluxio.user.file.writetype.default={wt}");
        c.ok(&["fs", &define, "copyFromLocal", f, &format!("/dir1/{wt}")]);
    }
    c.ok(&["fs", "-Dalluxio.user.file.writetype.default=CACHE_THROUGH", "copyFromLocal", f, "/dir1/f"]);
    c.ok(&["fs", "chmod", "750", "/dir1/THROUGH"]);
    c.ok(&["fs", "pin", "/dir1/CACHE_THROUGH"]);
    c.ok(&["fs", "setTtl", "--action", "free", "/dir1/f", "86400000"]);
    let mounted = c.path("mounted");
    std::fs::create_dir_all(&mounted).unwrap();
    std::fs::write(mounted.join("m.txt"), b"mounted").unwrap();
    c.ok(&["fs", "mount", "--option", "alluxio.underfs.example=1", "/mnt", mounted.to_str().unwrap()]);
    c.eventually("persistence", || !c.ok(&["fs", "ls", "-R", "/"]).contains("TO_BE_PERSISTED"));
    let persisted = ["/dir1/THROUGH", "/dir1/CACHE_THROUGH", "/dir1/f", "/dir1/ASYNC_THROUGH"];
    let stat_of = |c: &Cluster, p: &str| -> Vec<String> {
        let s = c.ok(&["fs", "stat", p]);
        // Everything but what legitimately changes (cached percentages, block locations).
        [
            "fileId",
            "length",
            "mode",
            "owner",
            "pinned",
            "ttl",
            "ttlAction",
            "persistenceState",
            "creationTimeMs",
            "blockIds",
        ]
        .iter()
        .map(|k| {
            s.split(&format!(" {k}=")).nth(1).map(|v| v.split(", ").next().unwrap_or("").to_owned()).unwrap_or_default()
        })
        .collect()
    };
    let stats_before: Vec<_> = persisted.iter().map(|p| stat_of(&c, p)).collect();

    // B1 to the default directory of the root UFS: the backup and its .complete marker.
    let out1 = c.ok(&["fsadmin", "backup"]);
    assert!(out1.contains("Backup Entry Count") && out1.contains("Backup Host"), "{out1}");
    let b1 = backup_uri(&out1);
    let backups_dir = c.path("underFSStorage/alluxio_backups");
    let names: Vec<String> = std::fs::read_dir(&backups_dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");
    assert!(names.iter().any(|n| n.starts_with("alluxio-backup-") && n.ends_with(".gz")), "{names:?}");
    assert!(names.iter().any(|n| n.ends_with(".gz.complete")), "{names:?}");

    // B2 after more changes, to a local directory. /dir2 is not in the UFS: only B2 knows it.
    c.ok(&["fs", "-Dalluxio.user.file.writetype.default=MUST_CACHE", "mkdir", "/dir2"]);
    let local_dir = c.path("local-backups");
    let out2 = c.ok(&["fsadmin", "backup", local_dir.to_str().unwrap(), "--local"]);
    let b2 = backup_uri(&out2);
    assert!(b2.starts_with("file://"), "{b2}");
    let at_b2 = listing(&c.ok(&["fs", "ls", "-R", "/"]));

    // The page's procedure: stop all, format, start all with -i.
    stop_action(&c, "all");
    let fmt = c.ok(&["format"]);
    assert!(fmt.contains("WARNING: This will re-format the ramdisks"), "{fmt}");
    start_action(&c, &["-i", &b2], "all");
    assert!(c.log("master").contains("Restored "), "{}", c.log("master"));
    assert_eq!(listing(&c.ok(&["fs", "ls", "-R", "/"])), at_b2, "B2 did not restore the namespace");
    let stats_after: Vec<_> = persisted.iter().map(|p| stat_of(&c, p)).collect();
    assert_eq!(stats_before, stats_after);
    for p in persisted {
        assert_eq!(c.run(&["fs", "cat", p]).stdout, data(200_000, 5), "{p}");
    }
    assert_eq!(c.ok(&["fs", "cat", "/mnt/m.txt"]), "mounted");
    assert!(c.ok(&["fs", "mount"]).contains("alluxio.underfs.example=1"), "mount options survive");

    // B1 (through the root UFS path): /dir1 but no /dir2.
    stop_action(&c, "all");
    c.ok(&["formatJournal"]);
    start_action(&c, &["-i", &b1], "all");
    let ls = c.ok(&["fs", "ls", "/"]);
    assert!(ls.contains("/dir1") && !ls.contains("/dir2"), "{ls}");

    // A plain restart keeps the restored state; -i on a non-empty journal is not applied.
    stop_action(&c, "all");
    start_action(&c, &["-i", &b2], "all");
    let ls = c.ok(&["fs", "ls", "/"]);
    assert!(ls.contains("/dir1") && !ls.contains("/dir2"), "{ls}");
    assert!(c.log("master").contains("is not empty") && c.log("master").contains("was not applied"));
    stop_action(&c, "all");
}

#[test]
fn a_bad_backup_restores_nothing_and_the_retry_works_on_the_ufs_journal() {
    bad_backup_then_good("UFS");
}

#[test]
fn a_bad_backup_restores_nothing_and_the_retry_works_on_the_embedded_journal() {
    bad_backup_then_good("EMBEDDED");
}

/// Whether the (stopped) journal holds no metadata: no UFS checkpoint or log file, and no
/// entry that `readJournal` finds in either journal type.
fn journal_is_empty(c: &Cluster, journal_type: &str) -> bool {
    let count = |d: &str| std::fs::read_dir(c.path(d)).map(|r| r.count()).unwrap_or(0);
    let dump = c.path("empty-check");
    let out = c.ok(&["readJournal", "-outputDir", dump.to_str().unwrap()]);
    (journal_type != "UFS" || count("journal/v1/checkpoints") + count("journal/v1/logs") == 0)
        && out.starts_with("Dumped 0 checkpoint entries and 0 log entries")
}

fn bad_backup_then_good(journal_type: &str) {
    let mut c = Cluster::new(&[&format!("alluxio.master.journal.type={journal_type}")]);
    c.format();
    c.start_master();
    c.ok(&["fs", "mkdir", "/a/b"]);
    let out = c.ok(&["fsadmin", "backup", c.path("bk").to_str().unwrap(), "--local"]);
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
        let define = format!("-Dalluxio.master.journal.init.from.backup={}", bad.display());
        let o = c.run(&[&define, "process", "master"]);
        assert!(!o.status.success());
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains(&bad.display().to_string()) && err.contains("backup"), "{err}");
        assert!(journal_is_empty(&c, journal_type), "{} restored something", bad.display());
    }
    // Altered, trailer-less and future-version backups are refused too, each saying why.
    for (what, bytes, expect) in corrupted_variants(&bytes) {
        let path = c.path(&format!("{what}.gz"));
        std::fs::write(&path, bytes).unwrap();
        let define = format!("-Dalluxio.master.journal.init.from.backup={}", path.display());
        let o = c.run(&[&define, "process", "master"]);
        assert!(!o.status.success(), "{what} was accepted");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains(&path.display().to_string()) && err.contains(expect), "{what}: {err}");
        assert!(journal_is_empty(&c, journal_type), "{what} restored something");
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
    c.eventually("the restored master", || c.run(&["fs", "ls", "/a"]).status.success());
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
        c.ok(&[
            "fs",
            "-Dalluxio.user.file.writetype.default=CACHE_THROUGH",
            "copyFromLocal",
            f.to_str().unwrap(),
            name,
        ]);
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
    let blocks = std::fs::read_dir(&saved).unwrap().flatten();
    assert_eq!(blocks.filter(|e| e.file_name().to_string_lossy().parse::<i64>().is_ok()).count(), 4);
    assert!(saved.join(".cluster_id").exists(), "the cluster the blocks belong to was not saved");
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
    c.eventually("the block of the deleted file to be dropped", || {
        !c.shm.join("alluxioworker").join(&gone_block).exists()
    });
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
    let o = crate::cluster::output_within(
        std::process::Command::new(crate::cluster::BIN)
            .args(["fs", "ls", "-R", "/"])
            .env("ALLUXIO_HOME", c.home.path())
            .env("TZ", "UTC"),
        crate::cluster::COMMAND_LIMIT,
    );
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
    let versions: Vec<PathBuf> =
        std::fs::read_dir(&fixtures).unwrap().flatten().map(|e| e.path()).filter(|p| p.is_dir()).collect();
    assert!(!versions.is_empty(), "no fixtures in {}", fixtures.display());
    for v in versions {
        let expected = std::fs::read_to_string(v.join("expected-ls.txt")).unwrap();
        // The journal folder, as that version left it.
        // Every released version wrote a UFS journal.
        let mut c = Cluster::new(&["alluxio.master.journal.type=UFS"]);
        copy_dir(&v.join("journal"), &c.path("journal"));
        c.start_master();
        assert_eq!(fixture_listing(&c), expected, "journal of {}", v.display());
        c.stop_master();
        // The backup, restored into a freshly formatted journal.
        let mut c =
            Cluster::new(&[&format!("alluxio.master.journal.init.from.backup={}", v.join("backup.gz").display())]);
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
        assert!(std::fs::read_to_string(dump.join("backup.txt")).unwrap().contains("InodeFile"));
        c.stop_master();
        // (The default EMBEDDED journal holds the restored namespace in its Raft log.)
        let out = c.ok(&["readJournal", "-outputDir", dump.to_str().unwrap()]);
        assert!(out.contains("checkpoint entries"), "{out}");
        let text = ["checkpoint.txt", "log.txt"].map(|f| std::fs::read_to_string(dump.join(f)).unwrap()).concat();
        assert!(text.contains("CACHE_THROUGH.txt"), "{out}");
        embedded_fixture_loads(&v);
    }
}

/// The EMBEDDED journal (a Raft snapshot and the log after it) as `scripts/make-fixtures.sh`
/// recorded it, on the embedded journal port the script used (the log names its members).
fn embedded_fixture_loads(v: &Path) {
    let fixture = v.join("embedded");
    if !fixture.exists() {
        return;
    }
    let expected = std::fs::read_to_string(fixture.join("expected-ls.txt")).unwrap();
    let mut c = Cluster::new(&["alluxio.master.journal.type=EMBEDDED", "alluxio.master.embedded.journal.port=41997"]);
    copy_dir(&fixture.join("journal"), &c.path("journal"));
    c.start_master();
    assert_eq!(fixture_listing(&c), expected, "embedded journal of {}", v.display());
    c.stop_master();
    let dump = c.path("dump");
    let out = c.ok(&["readJournal", "-outputDir", dump.to_str().unwrap()]);
    assert!(!out.contains("Dumped 0 checkpoint entries"), "the Raft snapshot was not read: {out}");
    assert!(!out.contains("and 0 log entries"), "the Raft log after the snapshot was not read: {out}");
}

#[test]
fn an_incompatible_client_gets_both_versions_named() {
    let mut c = Cluster::new(&[]);
    c.format();
    c.start_master();
    let o = crate::cluster::output_within(
        std::process::Command::new(crate::cluster::BIN)
            .args(["fs", "ls", "/"])
            .env("ALLUXIO_HOME", c.home.path())
            .env("ALLUXIO_RS_PROTOCOL_VERSION", "99"),
        crate::cluster::COMMAND_LIMIT,
    );
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("protocol version 99") && err.contains("protocol versions 1 to 1"), "{err}");
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
        let names: Vec<String> =
            std::fs::read_dir(&dir).unwrap().flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect();
        if !names.iter().any(|n| n.contains("2020-01-01")) && names.len() == 4 {
            assert!(names.iter().any(|n| n.contains("2020-01-02")), "{names:?}");
            break;
        }
        assert!(std::time::Instant::now() < deadline, "no daily backup at {hh_mm} UTC: {names:?}\n{}", c.log("master"));
        std::thread::sleep(std::time::Duration::from_millis(500));
    }
    assert!(c.log("master").contains("daily backup written"));
}

/// Backup variants that must be refused: (name, bytes, a word the error must contain).
fn corrupted_variants(good: &[u8]) -> Vec<(&'static str, Vec<u8>, &'static str)> {
    use alluxio_proto::journal::{journal_entry::Entry, JournalEntry};
    use prost::Message;
    use std::io::{Read, Write};
    let mut raw = Vec::new();
    flate2::read::GzDecoder::new(good).read_to_end(&mut raw).unwrap();
    let gz = |b: &[u8]| {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(b).unwrap();
        e.finish().unwrap()
    };
    let mut records = Vec::new();
    let mut buf = &raw[..];
    while !buf.is_empty() {
        records.push(JournalEntry::decode_length_delimited(&mut buf).unwrap());
    }
    let encode = |rs: &[JournalEntry]| {
        let mut out = Vec::new();
        for r in rs {
            r.encode_length_delimited(&mut out).unwrap();
        }
        gz(&out)
    };
    let mut flipped = raw.clone();
    let mid = flipped.len() / 2;
    flipped[mid] ^= 0x01;
    let mut future = records.clone();
    if let Some(Entry::BackupHeader(h)) = &mut future[0].entry {
        h.format_version = 99;
    }
    vec![
        ("flipped-byte", gz(&flipped), "backup"),
        ("no-trailer", encode(&records[..records.len() - 1]), "truncated"),
        ("future-version", encode(&future), "format version 99"),
    ]
}

#[test]
fn backups_taken_under_load_restore_to_a_consistent_namespace() {
    use alluxio_client::{CreateFileOptions, FileSystem, WritePType};
    use alluxio_common::AlluxioPath;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;

    let mut c = Cluster::new(&[]);
    c.format();
    c.start();
    c.ok(&["fs", "mkdir", "/load"]);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let mut tasks = Vec::new();
    for t in 0..8 {
        let (conf, stop) = (c.client_conf(), stop.clone());
        tasks.push(rt.spawn(async move {
            let fs = FileSystem::connect(&conf).await.unwrap();
            let dir = AlluxioPath::parse(&format!("/load/t{t}")).unwrap();
            fs.create_directory(&dir, true, true, Some(WritePType::MustCache)).await.unwrap();
            let mut k = 0;
            while !stop.load(Ordering::SeqCst) {
                let p = dir.join(&format!("f{k}"));
                let mut out = fs
                    .create_file(
                        &p,
                        CreateFileOptions { write_type: Some(WritePType::MustCache), ..Default::default() },
                    )
                    .await
                    .unwrap();
                out.write(bytes::Bytes::from(vec![t as u8; 1024])).await.unwrap();
                out.close().await.unwrap();
                fs.rename(&p, &dir.join(&format!("g{k}"))).await.unwrap();
                k += 1;
            }
            k
        }));
    }
    std::thread::sleep(std::time::Duration::from_millis(500));
    let mut uris = Vec::new();
    for i in 0..3 {
        let dir = c.path(&format!("backups-{i}"));
        uris.push(backup_uri(&c.ok(&["fsadmin", "backup", dir.to_str().unwrap(), "--local"])));
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    stop.store(true, Ordering::SeqCst);
    let created: usize = tasks.into_iter().map(|t| rt.block_on(t).unwrap()).sum();
    assert!(created > 50, "too little load: {created} files");

    for uri in uris {
        let mut r =
            Cluster::new(&[&format!("alluxio.master.journal.init.from.backup={}", uri.trim_start_matches("file://"))]);
        r.format();
        r.start_master();
        let ls = r.ok(&["fs", "ls", "-R", "/load"]);
        let paths: std::collections::BTreeSet<&str> =
            ls.lines().map(|l| l.split_whitespace().last().unwrap()).collect();
        assert!(!paths.is_empty());
        for p in &paths {
            let parent = &p[..p.rfind('/').unwrap()];
            assert!(parent == "/load" || paths.contains(parent), "{p} restored without its parent {parent}");
            // A file is either at its old or its new name, never both, and complete.
            if let Some(k) = p.rsplit('/').next().unwrap().strip_prefix('f') {
                assert!(!paths.contains(format!("{parent}/g{k}").as_str()), "{p} exists under both names");
            }
        }
        assert!(!ls.contains("TO_BE_PERSISTED"));
        r.stop_master();
    }
}
