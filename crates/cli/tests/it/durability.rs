//! Acknowledged metadata survives `kill -9` of the master, before and after a checkpoint, on
//! both journal types, and a torn journal tail is cut with a log line.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use alluxio_client::{CreateFileOptions, FileSystem, WritePType};
use alluxio_common::AlluxioPath;

use crate::cluster::Cluster;

/// Creates files in a loop from 4 clients until the master dies; returns (acked, in flight).
fn create_until_killed(c: &mut Cluster, prefix: &str) -> (BTreeSet<String>, BTreeSet<String>) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let conf = c.client_conf();
    let acked = Arc::new(Mutex::new(BTreeSet::new()));
    let in_flight = Arc::new(Mutex::new(BTreeSet::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let mut tasks = Vec::new();
    for t in 0..4 {
        let (conf, acked, in_flight, stop, prefix) =
            (conf.clone(), acked.clone(), in_flight.clone(), stop.clone(), prefix.to_owned());
        tasks.push(rt.spawn(async move {
            let fs = FileSystem::connect(&conf).await.unwrap();
            for i in 0.. {
                if stop.load(Ordering::SeqCst) {
                    break;
                }
                let name = format!("{prefix}/f-{t}-{i}");
                in_flight.lock().unwrap().insert(name.clone());
                let p = AlluxioPath::parse(&name).unwrap();
                let r = async {
                    let out = fs
                        .create_file(
                            &p,
                            CreateFileOptions { write_type: Some(WritePType::MustCache), ..Default::default() },
                        )
                        .await?;
                    out.close().await
                }
                .await;
                if r.is_err() {
                    break; // the master is gone: this one stays "in flight"
                }
                in_flight.lock().unwrap().remove(&name);
                acked.lock().unwrap().insert(name);
            }
        }));
    }
    // Let creates run, then kill the master in the middle of them.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while acked.lock().unwrap().len() < 300 && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    c.kill_master();
    stop.store(true, Ordering::SeqCst);
    for t in tasks {
        let _ = rt.block_on(t);
    }
    let a = acked.lock().unwrap().clone();
    let f = in_flight.lock().unwrap().clone();
    (a, f)
}

fn names_under(c: &Cluster, dir: &str) -> BTreeSet<String> {
    c.ok(&["fs", "ls", dir]).lines().map(|l| l.split_whitespace().last().unwrap().to_owned()).collect()
}

fn check(acked: &BTreeSet<String>, in_flight: &BTreeSet<String>, found: &BTreeSet<String>) {
    let missing: Vec<_> = acked.difference(found).collect();
    assert!(
        missing.is_empty(),
        "{} acknowledged creates were lost, e.g. {:?}",
        missing.len(),
        missing.iter().take(5).collect::<Vec<_>>()
    );
    let extra: Vec<_> = found.difference(acked).filter(|f| !in_flight.contains(*f)).collect();
    assert!(extra.is_empty(), "files that were never created: {extra:?}");
}

#[test]
fn acknowledged_creates_survive_kill_9_before_and_after_a_checkpoint_on_the_ufs_journal() {
    creates_survive_kill_9("UFS");
}

#[test]
fn acknowledged_creates_survive_kill_9_before_and_after_a_snapshot_on_the_embedded_journal() {
    creates_survive_kill_9("EMBEDDED");
}

fn creates_survive_kill_9(journal_type: &str) {
    let mut c = Cluster::new(&[&format!("alluxio.master.journal.type={journal_type}")]);
    c.format();
    c.start_master();
    c.ok(&["fs", "mkdir", "/k1", "/k2"]);
    let (acked1, flight1) = create_until_killed(&mut c, "/k1");
    assert!(acked1.len() >= 100, "too few creates before the kill: {}", acked1.len());

    c.start_master();
    check(&acked1, &flight1, &names_under(&c, "/k1"));
    let log = c.log("master");
    assert!(!log.contains("ERROR"), "replay logged errors:\n{log}");

    // Checkpoint, more creates, kill again: the restart loads the checkpoint then the log.
    let out = c.ok(&["fsadmin", "journal", "checkpoint"]);
    assert!(out.contains("Successfully took a checkpoint on master"), "{out}");
    let (checkpoint, loaded) = match journal_type {
        "UFS" => {
            assert_eq!(std::fs::read_dir(c.path("journal/v1/checkpoints")).unwrap().count(), 1);
            ("journal/v1/checkpoints", "checkpoint entries")
        }
        _ => ("journal/v1/raft/snapshot", "embedded journal: loaded snapshot"),
    };
    assert!(c.path(checkpoint).exists(), "no {checkpoint}");
    let (acked2, flight2) = create_until_killed(&mut c, "/k2");
    c.start_master();
    check(&acked1, &flight1, &names_under(&c, "/k1"));
    check(&acked2, &flight2, &names_under(&c, "/k2"));
    assert!(c.log("master").contains(loaded), "{}", c.log("master"));
}

fn files(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir).unwrap().flatten().map(|e| e.path()).collect()
}

/// Three directories, a `kill -9`, then half a record appended to the newest segment under
/// `logs` (what a crash mid-append leaves): the restart cuts it with a log line and keeps all
/// three. Returns the cluster (master stopped) and the segment's bytes before the tear.
fn torn_tail_is_cut(journal_type: &str, logs: &str, newest: impl Fn(&Path) -> PathBuf) -> (Cluster, Vec<u8>) {
    let mut c = Cluster::new(&[&format!("alluxio.master.journal.type={journal_type}")]);
    c.format();
    c.start_master();
    c.ok(&["fs", "mkdir", "/a", "/b", "/c"]);
    c.kill_master();
    let seg = newest(&c.path(logs));
    let mut bytes = std::fs::read(&seg).unwrap();
    let intact = bytes.clone();
    // A record header claiming more bytes than follow.
    bytes.extend_from_slice(&[200, 0, 0, 0, 1, 2, 3, 4, 9, 9]);
    std::fs::write(&seg, &bytes).unwrap();
    c.start_master();
    assert_eq!(c.ok(&["fs", "ls", "/"]).lines().count(), 3);
    assert!(c.log("master").contains("cutting a torn tail"), "{}", c.log("master"));
    c.kill_master();
    (c, intact)
}

#[test]
fn a_torn_journal_tail_is_cut_and_corruption_stops_the_start() {
    let logs = "journal/v1/logs";
    let (c, intact) = torn_tail_is_cut("UFS", logs, |d| files(d).into_iter().max().unwrap());
    let logs = c.path(logs);

    // Damage in the middle of a segment is not a torn tail: the master refuses to start.
    let seg = files(&logs).into_iter().min().unwrap();
    let mut bytes = std::fs::read(&seg).unwrap();
    assert!(bytes.len() > 60 && intact.len() > 60);
    bytes[50] ^= 0xff;
    std::fs::write(&seg, &bytes).unwrap();
    let o = c.run(&["process", "master"]);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("is corrupt at byte offset") && err.contains(&seg.display().to_string()), "{err}");
}

#[test]
fn a_torn_raft_log_tail_is_cut_and_corruption_stops_the_start() {
    let newest = |d: &Path| {
        files(d).into_iter().filter(|p| p.file_name().unwrap().to_string_lossy().starts_with("log-")).max().unwrap()
    };
    let (c, _) = torn_tail_is_cut("EMBEDDED", "journal/v1/raft/log", newest);

    // A flipped byte in the first record, with whole records after it, is corruption: the
    // master refuses to start and cuts nothing.
    let seg = newest(&c.path("journal/v1/raft/log"));
    let mut bytes = std::fs::read(&seg).unwrap();
    bytes[30] ^= 0xff;
    std::fs::write(&seg, &bytes).unwrap();
    let o = c.run(&["process", "master"]);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("corruption, not a torn write") && err.contains(&seg.display().to_string()), "{err}");
    assert_eq!(std::fs::read(&seg).unwrap(), bytes, "the log was changed");
}

#[test]
fn a_crashed_writer_leaves_no_half_file() {
    use std::io::Write;
    let mut c =
        Cluster::new(&["alluxio.master.file.writer.lease.timeout=1sec", "alluxio.user.block.size.bytes.default=1MB"]);
    c.format();
    c.start();
    let (mut writer_cli, mut pipe) = c.copy_from_pipe("CACHE_THROUGH", "/crash");
    pipe.write_all(&crate::cluster::data(3 << 20, 3)).unwrap();
    c.eventually("the file to be created", || c.run(&["fs", "stat", "/crash"]).status.success());
    assert!(c.ok(&["fs", "stat", "/crash"]).contains("completed=false"));
    writer_cli.kill().unwrap();
    writer_cli.wait().unwrap();
    drop(pipe);
    c.eventually("the abandoned file to be removed", || !c.run(&["fs", "stat", "/crash"]).status.success());
    assert!(c.log("master").contains("deleted incomplete file /crash"));
    let ufs: Vec<_> = std::fs::read_dir(c.path("underFSStorage")).unwrap().flatten().map(|e| e.file_name()).collect();
    c.eventually(&format!("no temporary UFS file (found {ufs:?})"), || {
        std::fs::read_dir(c.path("underFSStorage")).unwrap().count() == 0
    });
    c.eventually("no temporary block", || {
        std::fs::read_dir(c.shm.join("alluxioworker/.tmp_blocks")).unwrap().count() == 0
    });
    // The path is free again.
    c.ok(&["fs", "touch", "/crash"]);
}

/// Offset of the last record of a journal file whose records start at `header`.
fn last_record(bytes: &[u8], header: usize) -> usize {
    let (mut at, mut last) = (header, header);
    while at + 8 <= bytes.len() {
        last = at;
        at += 8 + u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap()) as usize;
    }
    last
}

/// The `alluxio repairJournal ...` command a refusal names, as arguments.
fn repair_command(err: &str) -> Vec<String> {
    let cmd = err.split("`alluxio repairJournal ").nth(1).unwrap_or_else(|| panic!("no repair command in: {err}"));
    let cmd = cmd.split('`').next().unwrap();
    let mut args = vec!["repairJournal".to_owned()];
    args.extend(cmd.split_whitespace().map(str::to_owned));
    args
}

#[test]
fn damage_in_the_last_record_is_refused_and_repair_journal_cuts_it_on_request() {
    for (journal_type, logs, header) in [("UFS", "journal/v1/logs", 32), ("EMBEDDED", "journal/v1/raft/log", 12)] {
        let mut c = Cluster::new(&[&format!("alluxio.master.journal.type={journal_type}")]);
        c.format();
        c.start_master();
        c.ok(&["fs", "mkdir", "/a", "/b"]);
        c.ok(&["fs", "chmod", "700", "/b"]);
        c.kill_master();
        let seg = files(&c.path(logs))
            .into_iter()
            .filter(|p| ["0x", "log-"].iter().any(|k| p.file_name().unwrap().to_string_lossy().starts_with(k)))
            .max()
            .unwrap();
        let mut bytes = std::fs::read(&seg).unwrap();
        // A flipped byte inside the last record (chmod): its whole length is there, so a crash
        // did not leave it. Before, the master cut it and the acknowledged chmod was gone.
        let last = last_record(&bytes, header);
        let mid = last + 8 + (bytes.len() - last - 8) / 2;
        bytes[mid] ^= 0x20;
        std::fs::write(&seg, &bytes).unwrap();
        let o = c.run(&["process", "master"]);
        assert!(!o.status.success(), "{journal_type}: the master started on a damaged journal");
        let err = String::from_utf8_lossy(&o.stderr).to_string();
        assert!(err.contains(&seg.display().to_string()), "{journal_type}: {err}");
        assert_eq!(std::fs::read(&seg).unwrap(), bytes, "{journal_type}: the refusal changed the journal");

        // The operator accepts losing the chmod: the repair command the refusal named cuts it.
        let args = repair_command(&err);
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = c.ok(&refs);
        assert!(out.contains("the changes recorded there are lost"), "{out}");
        c.start_master();
        let ls = c.ok(&["fs", "ls", "/"]);
        let b = ls.lines().find(|l| l.split_whitespace().last() == Some("/b"));
        let b = b.unwrap_or_else(|| panic!("{journal_type}: no /b in {ls}"));
        assert!(b.starts_with("drwxr-xr-x"), "{journal_type}: the cut chmod is still there: {b}");
        assert!(ls.lines().any(|l| l.split_whitespace().last() == Some("/a")), "{journal_type}: {ls}");
    }
}

#[test]
fn a_truncated_completed_segment_and_an_emptied_raft_segment_are_refused() {
    // UFS: a completed segment (named with its range, fsynced before the rename) cut short.
    let mut c = Cluster::new(&["alluxio.master.journal.type=UFS"]);
    c.format();
    c.start_master();
    c.ok(&["fs", "mkdir", "/a", "/b", "/c"]);
    c.stop_master();
    let seg = files(&c.path("journal/v1/logs")).into_iter().max().unwrap();
    let len = std::fs::metadata(&seg).unwrap().len();
    let last = last_record(&std::fs::read(&seg).unwrap(), 32) as u64;
    std::fs::OpenOptions::new().write(true).open(&seg).unwrap().set_len(last).unwrap();
    let o = c.run(&["process", "master"]);
    assert!(!o.status.success(), "the master started on a truncated segment ({len} -> {last} bytes)");
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains(&seg.display().to_string()) && err.contains("truncated"), "{err}");

    // EMBEDDED: the only Raft segment truncated to nothing. Before, the master deleted it,
    // started, and never elected a leader.
    let mut c = Cluster::new(&["alluxio.master.journal.type=EMBEDDED"]);
    c.format();
    c.start_master();
    c.ok(&["fs", "mkdir", "/a"]);
    c.stop_master();
    let logs = c.path("journal/v1/raft/log");
    let seg = files(&logs).into_iter().filter(|p| p.file_name().unwrap().to_string_lossy().starts_with("log-")).max();
    let seg = seg.unwrap();
    std::fs::write(&seg, b"").unwrap();
    let o = c.run(&["process", "master"]);
    assert!(!o.status.success(), "the master started on an emptied Raft log");
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains(&seg.display().to_string()) && err.contains("shorter than a segment header"), "{err}");
    assert!(seg.exists(), "the segment was deleted");
}
