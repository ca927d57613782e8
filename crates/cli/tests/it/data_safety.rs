//! Acknowledged data survives an operator's slip, a duplicate process and a wrong journal:
//! each scenario was a way to lose data before it was fixed.

use std::path::Path;

use crate::cluster::{data, free_port, Cluster};

/// Writes `len` random bytes to `path` as MUST_CACHE (only the worker has them).
fn must_cache(c: &Cluster, path: &str, len: usize, seed: u64) -> Vec<u8> {
    let bytes = data(len, seed);
    let src = c.path(&format!("src-{seed}"));
    std::fs::write(&src, &bytes).unwrap();
    c.ok(&["fs", "-Dalluxio.user.file.writetype.default=MUST_CACHE", "copyFromLocal", src.to_str().unwrap(), path]);
    bytes
}

fn cat(c: &Cluster, path: &str) -> Vec<u8> {
    let o = c.run(&["fs", "cat", path]);
    assert!(o.status.success(), "fs cat {path}: {}", String::from_utf8_lossy(&o.stderr));
    o.stdout
}

fn output(o: &std::process::Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

fn block_files(tier: &Path) -> usize {
    std::fs::read_dir(tier.join("alluxioworker"))
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().parse::<i64>().is_ok())
        .count()
}

#[test]
fn a_missing_journal_folder_is_refused_on_both_journal_types_and_both_start_paths() {
    for journal_type in ["UFS", "EMBEDDED"] {
        let mut c = Cluster::new(&[&format!("alluxio.master.journal.type={journal_type}")]);
        c.format();
        c.start();
        let bytes = must_cache(&c, "/mc", 100_000, 1);
        c.stop_master();
        // A wrong mount or a typo: the folder the master is configured with is not there.
        std::fs::rename(c.path("journal"), c.path("journal.away")).unwrap();

        let o = c.run(&["process", "master"]);
        assert!(!o.status.success(), "{journal_type}: the master started on a missing journal");
        let err = output(&o);
        assert!(err.contains("has not been formatted") && err.contains("alluxio format"), "{journal_type}: {err}");
        assert!(!c.path("journal").exists(), "{journal_type}: the master created the journal folder");

        let o = c.script("alluxio-start.sh", &["master"]);
        assert!(!o.status.success(), "{journal_type}: alluxio-start.sh master started on a missing journal");
        assert!(output(&o).contains("has not been formatted"), "{journal_type}: {}", output(&o));
        assert!(!c.path("journal").exists(), "{journal_type}: alluxio-start.sh formatted the journal");

        // With the folder back, nothing was lost: the worker still has the only copy.
        std::fs::rename(c.path("journal.away"), c.path("journal")).unwrap();
        c.start_master();
        c.wait_workers(1);
        assert_eq!(cat(&c, "/mc"), bytes, "{journal_type}");
    }
}

#[test]
fn a_worker_with_another_clusters_blocks_is_refused_not_wiped() {
    let mut c = Cluster::new(&[]);
    c.format();
    c.start();
    let bytes = must_cache(&c, "/mc", 100_000, 2);
    let old_id = std::fs::read_to_string(c.shm.join("alluxioworker/.cluster_id")).unwrap();
    assert!(!old_id.is_empty());
    c.stop_master();
    // The operator formats the journal by mistake; the worker still runs with the old blocks.
    c.ok(&["formatJournal"]);
    c.start_master();
    let status = c.worker_exit(30).expect("the refused worker should stop");
    assert!(!status.success());
    let log = c.log("worker");
    assert!(log.contains(&format!("cluster {old_id}")) && log.contains("formatWorker"), "{log}");
    let new_id = log.split("journal belongs to cluster ").nth(1).unwrap().split(':').next().unwrap();
    assert_ne!(new_id, old_id);
    assert!(c.log("master").contains(&format!("cluster {new_id}")), "{}", c.log("master"));
    assert_eq!(block_files(&c.shm), 1, "the worker's block was deleted");

    // Back on the right journal... (here: restored by hand from a backup is not possible, so
    // the operator chooses to discard the worker's cache) and the worker joins the new cluster.
    c.ok(&["formatWorker"]);
    c.start_worker();
    assert_eq!(block_files(&c.shm), 0);
    assert_eq!(std::fs::read_to_string(c.shm.join("alluxioworker/.cluster_id")).unwrap(), new_id);
    drop(bytes);
}

#[test]
fn a_second_process_on_a_journal_or_tier_directory_is_refused_naming_the_holder() {
    for journal_type in ["UFS", "EMBEDDED"] {
        let mut c = Cluster::new(&[&format!("alluxio.master.journal.type={journal_type}")]);
        c.format();
        c.start();
        c.ok(&["fs", "mkdir", "/d"]);
        let (mp, wp, jp) = (free_port(), free_port(), free_port());
        let o = c.run(&[
            &format!("-Dalluxio.master.rpc.port={mp}"),
            &format!("-Dalluxio.master.web.port={wp}"),
            &format!("-Dalluxio.master.embedded.journal.port={jp}"),
            "process",
            "master",
        ]);
        assert!(!o.status.success(), "{journal_type}: a second master ran on the same journal");
        let holder = format!("master, pid {}", c.master_pid());
        assert!(output(&o).contains(&holder) && output(&o).contains("in use"), "{journal_type}: {}", output(&o));
        // Formatting under a running master is refused too, and changes nothing.
        let o = c.run(&["formatJournal"]);
        assert!(!o.status.success() && output(&o).contains(&holder), "{journal_type}: {}", output(&o));
        c.ok(&["fs", "ls", "/d"]);

        // A second worker on the same tier directory: refused before it touches the first one's
        // blocks being written.
        let writing = c.shm.join("alluxioworker/.tmp_blocks/live-write");
        std::fs::write(&writing, b"half a block").unwrap();
        let (rp, wp2, dp) = (free_port(), free_port(), free_port());
        let o = c.run(&[
            &format!("-Dalluxio.worker.rpc.port={rp}"),
            &format!("-Dalluxio.worker.web.port={wp2}"),
            &format!("-Dalluxio.worker.data.port={dp}"),
            "process",
            "worker",
        ]);
        assert!(!o.status.success(), "{journal_type}: a second worker ran on the same tier directory");
        let holder = format!("worker, pid {}", c.worker_pid());
        assert!(output(&o).contains(&holder), "{journal_type}: {}", output(&o));
        assert!(writing.exists(), "{journal_type}: the second worker cleaned the first one's temporary blocks");
        let o = c.run(&["formatWorker"]);
        assert!(!o.status.success() && output(&o).contains(&holder), "{journal_type}: {}", output(&o));
        c.ok(&["fsadmin", "report"]).contains("Live Workers: 1").then_some(()).expect("one worker");
    }
}

#[test]
fn a_retried_completion_succeeds_after_a_master_restart_and_never_deletes_the_file() {
    use alluxio_proto::grpc::file::file_system_master_client_service_client::FileSystemMasterClientServiceClient;
    use alluxio_proto::grpc::file::{CompleteFilePOptions, CompleteFilePRequest, GetStatusPRequest};
    use alluxio_proto::grpc::WritePType;
    use alluxio_proto::version::VersionStamp;

    let mut c = Cluster::new(&[]);
    c.format();
    c.start();
    let bytes = must_cache(&c, "/f", 5000, 3);
    // The master restarts after the completion committed; the writer never got the answer and
    // sends the same CompleteFile again (what the client's retry does).
    c.kill_master();
    c.start_master();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let addr = format!("localhost:{}", c.master_port);
    rt.block_on(async {
        let transport = alluxio_proto::transport::Transport::client(&c.client_conf()).unwrap();
        let ch =
            alluxio_proto::masters::MasterChannels::new(&addr, std::time::Duration::from_secs(3), &transport).unwrap();
        let mut fs = FileSystemMasterClientServiceClient::with_interceptor(
            ch.current(),
            VersionStamp::new(Some(&alluxio_common::user::current_user())),
        );
        let status = fs.get_status(GetStatusPRequest { path: "/f".into(), options: None }).await.unwrap();
        let id = status.into_inner().file_info.unwrap().file_id;
        let complete = |length: i64| CompleteFilePRequest {
            path: "/f".into(),
            file_id: id,
            options: Some(CompleteFilePOptions {
                length,
                write_type: WritePType::MustCache as i32,
                ..Default::default()
            }),
        };
        let again = fs.complete_file(complete(5000)).await.expect("the same writer's retried completion succeeds");
        assert_eq!(again.into_inner().file_info.unwrap().length, 5000);
        // A different length is not a retry: refused, and the file is untouched.
        let err = fs.complete_file(complete(4000)).await.unwrap_err();
        assert!(err.message().contains("already been completed"), "{}", err.message());
    });
    c.wait_workers(1);
    assert_eq!(cat(&c, "/f"), bytes);
}

#[test]
fn rm_and_mv_of_an_implicit_directory_reach_the_persisted_files_below_it() {
    let mut c = Cluster::new(&[]);
    c.format();
    c.start();
    let src = c.path("src");
    std::fs::write(&src, data(10_000, 4)).unwrap();
    let src = src.to_str().unwrap();
    for (wt, dir) in [("MUST_CACHE", "/d"), ("MUST_CACHE", "/m")] {
        // The first write creates the directory implicitly, NOT_PERSISTED.
        c.ok(&[
            "fs",
            &format!("-Dalluxio.user.file.writetype.default={wt}"),
            "copyFromLocal",
            src,
            &format!("{dir}/mc"),
        ]);
        c.ok(&[
            "fs",
            "-Dalluxio.user.file.writetype.default=ASYNC_THROUGH",
            "copyFromLocal",
            src,
            &format!("{dir}/at"),
        ]);
    }
    let ufs = c.path("underFSStorage");
    c.eventually("both files to be persisted", || ufs.join("d/at").exists() && ufs.join("m/at").exists());
    c.eventually("the PERSISTED state", || !c.ok(&["fs", "ls", "-R", "/"]).contains("TO_BE_PERSISTED"));

    let out = c.ok(&["fs", "rm", "-R", "/d"]);
    assert!(out.contains("removed"), "{out}");
    assert!(!ufs.join("d").exists(), "rm -R left the persisted file in the UFS");
    c.ok(&["fs", "mv", "/m", "/moved"]);
    assert!(ufs.join("moved/at").exists() && !ufs.join("m").exists(), "mv left the persisted file behind");
    // A metadata sync finds nothing to bring back.
    let ls = c.ok(&["fs", "-Dalluxio.user.file.metadata.sync.interval=0", "ls", "-R", "/"]);
    assert!(!ls.contains("/d") && !ls.contains(" /m/"), "{ls}");
    assert!(ls.contains("/moved/at"), "{ls}");
}

/// Block id → hosts holding it, from `fs stat`.
fn block_hosts(c: &Cluster, path: &str) -> Vec<String> {
    let stat = c.ok(&["fs", "stat", path]);
    stat.lines()
        .filter(|l| l.starts_with("BlockInfo{"))
        .flat_map(|b| b.split("host=").skip(1).map(|h| h.split(',').next().unwrap().to_owned()).collect::<Vec<_>>())
        .collect()
}

/// Writes `len` bytes MUST_CACHE through a long-lived in-process client.
fn write_with(rt: &tokio::runtime::Runtime, fs: &alluxio_client::FileSystem, path: &str, len: usize) {
    use alluxio_client::{CreateFileOptions, WritePType};
    rt.block_on(async {
        let p = alluxio_common::AlluxioPath::parse(path).unwrap();
        let o = CreateFileOptions { write_type: Some(WritePType::MustCache), ..Default::default() };
        let mut out = fs.create_file(&p, o).await.unwrap();
        out.write(bytes::Bytes::from(data(len, 9))).await.unwrap();
        out.close().await.unwrap_or_else(|e| panic!("writing {path}: {e}"));
    });
}

#[test]
fn writes_go_to_a_live_worker_at_once_when_a_worker_stops_or_dies() {
    let mut c = Cluster::new(&[]);
    c.format();
    c.start();
    c.add_worker("127.0.0.2", &[]);
    let third = c.add_worker("127.0.0.3", &[]);
    c.wait_workers(3);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let fs = rt.block_on(alluxio_client::FileSystem::connect(&c.client_conf())).unwrap();
    write_with(&rt, &fs, "/before", 1000);
    assert_eq!(block_hosts(&c, "/before"), ["localhost"], "LocalFirst writes to the local worker");

    // SIGTERM: the worker tells the master, which stops offering it at once (the timeout of a
    // silent worker is 5 minutes).
    c.stop_worker();
    c.wait_workers(2);
    must_cache(&c, "/new-client", 1000, 5);
    assert_ne!(block_hosts(&c, "/new-client"), ["localhost"]);
    // A client holding the old worker list finds the local worker gone and writes elsewhere.
    write_with(&rt, &fs, "/old-client", 1000);
    assert_ne!(block_hosts(&c, "/old-client"), ["localhost"]);

    // kill -9: the master does not know yet, but clients that fail to reach it go elsewhere.
    c.kill_added_worker(third);
    for i in 0..4 {
        write_with(&rt, &fs, &format!("/after-kill-{i}"), 1000);
        let hosts = block_hosts(&c, &format!("/after-kill-{i}"));
        assert_eq!(hosts, ["127.0.0.2"], "{i}");
    }
}

#[test]
fn right_after_a_master_restart_clients_wait_for_workers_instead_of_failing() {
    let mut c = Cluster::new(&[]);
    c.format();
    c.start();
    let bytes = must_cache(&c, "/mc", 50_000, 6);
    c.kill_master();
    c.start_master();
    // The worker has not re-registered yet: its heartbeat comes within a second.
    assert_eq!(cat(&c, "/mc"), bytes, "a read right after the restart failed");
    c.kill_master();
    c.start_master();
    must_cache(&c, "/written-right-after", 1000, 7);
}

/// The cluster's used worker space in bytes, from `fsadmin report`.
fn used_bytes(c: &Cluster) -> f64 {
    let report = c.ok(&["fsadmin", "report"]);
    let v = report.lines().find_map(|l| l.trim().strip_prefix("Used Capacity: ")).expect("Used Capacity line");
    let split = v.find(|ch: char| ch.is_ascii_alphabetic()).unwrap_or(v.len());
    let n: f64 = v[..split].parse().unwrap();
    n * match &v[split..] {
        "KB" => 1024.0,
        "MB" => 1048576.0,
        "GB" => 1073741824.0,
        _ => 1.0,
    }
}

#[test]
fn small_leaks_are_closed_idle_streams_temp_files_bad_restores_tiny_blocks_and_blank_owners() {
    use crate::proxy::{http, start_with_proxy};
    let mut c = start_with_proxy(&["alluxio.proxy.stream.idle.release.time=4s"]);
    // An abandoned REST write stream gives its reserved worker space back soon.
    let (status, id) =
        http(c.proxy_port, "POST", "/api/v1/paths//idle/create-file", &[], br#"{"writeType":"MUST_CACHE"}"#);
    assert_eq!(status, 200, "{id}");
    let write = format!("/api/v1/streams/{}/write", id.trim());
    assert_eq!(http(c.proxy_port, "POST", &write, &[], &data(1000, 1)).0, 200);
    // (Workers report their usage every second.)
    c.eventually("the open block's reserved space", || used_bytes(&c) >= 8.0 * 1048576.0);
    c.eventually("the idle stream to give its space back", || used_bytes(&c) < 1048576.0);
    let (_, info) = http(c.proxy_port, "GET", "/api/v1/proxy/info", &[], b"");
    assert!(info.contains("\"idleStreamsHoldingNoSpace\":1"), "{info}");
    // It still works: more bytes, then close.
    assert_eq!(http(c.proxy_port, "POST", &write, &[], &data(500, 2)).0, 200);
    assert_eq!(http(c.proxy_port, "POST", &format!("/api/v1/streams/{}/close", id.trim()), &[], b"").0, 200);
    let mut expected = data(1000, 1);
    expected.extend(data(500, 2));
    assert_eq!(cat(&c, "/idle"), expected);

    // A block size below the minimum is refused, naming the property; nothing is created.
    let src = c.path("small");
    std::fs::write(&src, data(20_000, 3)).unwrap();
    let (_, err) =
        c.fails(&["fs", "-Dalluxio.user.block.size.bytes.default=1B", "copyFromLocal", src.to_str().unwrap(), "/tiny"]);
    assert!(err.contains("alluxio.user.block.size.bytes.default") && err.contains("Invalid block size"), "{err}");
    assert!(!c.run(&["fs", "stat", "/tiny"]).status.success(), "/tiny was created");

    // An empty owner or group is refused; the owner stays.
    c.ok(&["fs", "touch", "/owned"]);
    // (The file may be persisted meanwhile: compare the owner and group only.)
    let owner = |c: &Cluster| {
        let stat = c.ok(&["fs", "stat", "/owned"]);
        let at = stat.find("owner=").expect("stat shows the owner");
        stat[at..].split(", mode=").next().unwrap().to_owned()
    };
    let before = owner(&c);
    for body in [r#"{"owner":""}"#, r#"{"group":" "}"#] {
        let (status, err) = http(c.proxy_port, "POST", "/api/v1/paths//owned/set-attribute", &[], body.as_bytes());
        assert_eq!(status, 500, "{body}: {err}");
        assert!(err.contains("INVALID_ARGUMENT") && err.contains("cannot be empty"), "{err}");
    }
    assert_eq!(owner(&c), before);
    c.fails(&["fs", "chown", "", "/owned"]);
    assert_eq!(owner(&c), before);

    // alluxio-start.sh -i <bad backup> says FAILED, never OK.
    c.stop_master();
    c.ok(&["formatJournal"]);
    let bad = c.path("bad-backup.gz");
    std::fs::write(&bad, b"not a backup").unwrap();
    let o = c.script("alluxio-start.sh", &["-i", bad.to_str().unwrap(), "master"]);
    let out = output(&o);
    assert!(!o.status.success() && out.contains("[ FAILED ]") && !out.contains("[ OK ]"), "{out}");
}

#[test]
fn a_worker_killed_in_a_through_write_leaves_no_temporary_file_in_the_ufs() {
    use std::io::Write;
    let mut c = Cluster::new(&["alluxio.master.file.writer.lease.timeout=1sec"]);
    c.format();
    c.start();
    let (mut writer, mut pipe) = c.copy_from_pipe("THROUGH", "/t");
    pipe.write_all(&data(2 << 20, 4)).unwrap();
    let ufs = c.path("underFSStorage");
    let temps = || -> Vec<String> {
        std::fs::read_dir(&ufs)
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.contains(".alluxio.0x"))
            .collect()
    };
    c.eventually("the temporary UFS file", || !temps().is_empty());
    c.kill_worker();
    let _ = pipe.write_all(&data(1 << 20, 5));
    drop(pipe);
    assert!(!writer.wait().unwrap().success(), "the write succeeded without its worker");
    c.eventually(&format!("the temporary UFS file to be removed ({:?})", temps()), || temps().is_empty());
    assert!(!c.run(&["fs", "stat", "/t"]).status.success());
    assert!(c.log("master").contains("temporary UFS file"), "{}", c.log("master"));
}

/// Flips one byte in the middle of every cached block file of `path`.
fn corrupt_blocks(c: &Cluster, path: &str) -> usize {
    let stat = c.ok(&["fs", "stat", path]);
    let ids: Vec<String> = stat
        .lines()
        .filter(|l| l.starts_with("BlockInfo{"))
        .map(|b| b.split("id=").nth(1).unwrap().split(',').next().unwrap().to_owned())
        .collect();
    for id in &ids {
        let f = c.shm.join("alluxioworker").join(id);
        let mut bytes = std::fs::read(&f).unwrap_or_else(|e| panic!("block file {}: {e}", f.display()));
        let mid = bytes.len() / 2;
        bytes[mid] ^= 0x5a;
        std::fs::write(&f, &bytes).unwrap();
    }
    ids.len()
}

/// How many blocks of `path` some worker caches.
fn cached_blocks(c: &Cluster, path: &str) -> usize {
    c.ok(&["fs", "stat", path]).lines().filter(|l| l.starts_with("BlockInfo{") && l.contains("host=")).count()
}

fn md5_hex(bytes: &[u8]) -> String {
    use md5::Digest;
    md5::Md5::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn a_corrupt_cached_block_is_never_served_and_is_dropped() {
    let mut c = Cluster::new(&["alluxio.user.block.size.bytes.default=2MB"]);
    c.format();
    c.start();
    let src = c.path("p");
    let persisted = data(3 << 20, 11);
    std::fs::write(&src, &persisted).unwrap();
    c.ok(&["fs", "-Dalluxio.user.file.writetype.default=CACHE_THROUGH", "copyFromLocal", src.to_str().unwrap(), "/p"]);
    let unpersisted = must_cache(&c, "/u", 100_000, 12);

    // Short-circuit reads (the first open after the write checks the block): the persisted file
    // comes from the UFS, the unpersisted one fails naming block and file; both blocks are dropped.
    assert_eq!(corrupt_blocks(&c, "/p"), 2);
    assert_eq!(corrupt_blocks(&c, "/u"), 1);
    assert_eq!(cat(&c, "/p"), persisted, "corrupt bytes were served");
    let o = c.run(&["fs", "cat", "/u"]);
    assert!(!o.status.success() && o.stdout.is_empty(), "corrupt bytes of /u were served");
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("/u") && err.contains("fails its checksum") && err.contains("Block "), "{err}");
    let dest = c.path("u-copy");
    assert!(!c.run(&["fs", "copyToLocal", "/u", dest.to_str().unwrap()]).status.success());
    assert!(c.log("worker").contains("fails its checksum"), "{}", c.log("worker"));
    drop(unpersisted);

    // The persisted file was cached again from the UFS; now over the network (data port).
    c.eventually("/p to be cached again", || cached_blocks(&c, "/p") == 2);
    assert_eq!(corrupt_blocks(&c, "/p"), 2);
    let o = c.run(&["fs", "-Dalluxio.user.short.circuit.enabled=false", "cat", "/p"]);
    assert!(o.status.success() && o.stdout == persisted, "remote read: {}", String::from_utf8_lossy(&o.stderr));
    let sum = c.ok(&["fs", "checksum", "/p"]);
    assert!(sum.contains(&md5_hex(&persisted)), "{sum}");

    // After a worker restart every block is checked again at its first short-circuit open.
    c.eventually("/p to be cached again", || cached_blocks(&c, "/p") == 2);
    c.stop_worker();
    assert_eq!(corrupt_blocks(&c, "/p"), 2);
    c.start_worker();
    assert_eq!(cat(&c, "/p"), persisted, "a block corrupted while the worker was down was served");
}

#[test]
fn a_restarted_worker_deletes_the_temporary_ufs_files_its_crash_left() {
    use std::io::Write;
    // The master's sweep comes only when the abandoned file's lease expires (an hour here).
    let mut c = Cluster::new(&["alluxio.master.file.writer.lease.timeout=1h"]);
    c.format();
    c.start();
    let (mut writer, mut pipe) = c.copy_from_pipe("THROUGH", "/t");
    pipe.write_all(&data(1 << 20, 4)).unwrap();
    let ufs = c.path("underFSStorage");
    let temps = || -> usize {
        std::fs::read_dir(&ufs)
            .unwrap()
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().contains(".alluxio.0x"))
            .count()
    };
    c.eventually("the temporary UFS file", || temps() == 1);
    // Worker and writer die together: nobody aborts the write.
    c.kill_worker_with(&mut writer);
    drop(pipe);
    assert_eq!(temps(), 1);
    c.start_worker();
    c.eventually("the restarted worker to delete its temporary UFS file", || temps() == 0);
    assert!(c.log("worker").contains("a temporary UFS file a crash of this worker left"), "{}", c.log("worker"));
}
