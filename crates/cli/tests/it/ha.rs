//! High availability: masters on the embedded (Raft) journal as real processes.

use std::process::Child;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::cluster::{free_port, Cluster};

/// One master of an HA cluster.
pub struct Master {
    pub rpc: u16,
    pub web: u16,
    pub journal: u16,
    pub child: Option<Child>,
}

/// Several masters sharing one `Cluster` home (its site file names them all), plus its worker.
pub struct Ha {
    pub c: Cluster,
    pub masters: Vec<Master>,
}

impl Ha {
    /// `n` masters, configured but not started.
    pub fn new(n: usize, extra: &[&str]) -> Ha {
        let masters: Vec<Master> =
            (0..n).map(|_| Master { rpc: free_port(), web: free_port(), journal: free_port(), child: None }).collect();
        let journals: Vec<String> = masters.iter().map(|m| format!("localhost:{}", m.journal)).collect();
        let rpcs: Vec<String> = masters.iter().map(|m| format!("localhost:{}", m.rpc)).collect();
        let mut lines = vec![
            "alluxio.master.journal.type=EMBEDDED".to_owned(),
            format!("alluxio.master.embedded.journal.addresses={}", journals.join(",")),
            format!("alluxio.master.rpc.addresses={}", rpcs.join(",")),
            "alluxio.master.worker.timeout=10s".to_owned(),
        ];
        lines.extend(extra.iter().map(|s| s.to_string()));
        let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
        let ha = Ha { c: Cluster::new(&refs), masters };
        // As an operator sets up a new quorum: `alluxio formatJournal` on every master.
        for i in 0..n {
            let mut args = ha.args(i);
            args.push("formatJournal".into());
            let refs: Vec<&str> = args.iter().map(String::as_str).collect();
            ha.c.ok(&refs);
        }
        ha
    }

    fn args(&self, i: usize) -> Vec<String> {
        let m = &self.masters[i];
        vec![
            format!("-Dalluxio.master.rpc.port={}", m.rpc),
            format!("-Dalluxio.master.web.port={}", m.web),
            format!("-Dalluxio.master.embedded.journal.port={}", m.journal),
            format!("-Dalluxio.master.journal.folder={}", self.c.path(&format!("journal{i}")).display()),
        ]
    }

    pub fn start(&mut self, i: usize) {
        let child = self.c.spawn_named(&format!("master{i}"), "master", &self.args(i));
        self.masters[i].child = Some(child);
    }

    pub fn start_all(&mut self) {
        for i in 0..self.masters.len() {
            self.start(i);
        }
        self.leader();
    }

    pub fn kill(&mut self, i: usize) {
        if let Some(mut c) = self.masters[i].child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    pub fn signal(&self, i: usize, sig: i32) {
        let pid = self.masters[i].child.as_ref().expect("master running").id() as i32;
        // SAFETY: signalling a child process we own.
        unsafe {
            libc::kill(pid, sig);
        }
    }

    /// The index of the leading master, waiting up to 30 s for one.
    pub fn leader(&self) -> usize {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let o = self.c.run(&["fs", "masterInfo"]);
            let out = String::from_utf8_lossy(&o.stdout).to_string();
            if let Some(port) = out
                .lines()
                .find_map(|l| l.strip_prefix("Current leader master: "))
                .and_then(|a| a.rsplit(':').next())
                .and_then(|p| p.trim().parse::<u16>().ok())
            {
                if let Some(i) = self.masters.iter().position(|m| m.rpc == port) {
                    return i;
                }
            }
            assert!(Instant::now() < deadline, "no leader elected:\n{}{}", out, self.logs());
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    pub fn log(&self, i: usize) -> String {
        std::fs::read_to_string(self.c.path(&format!("master{i}.log"))).unwrap_or_default()
    }

    pub fn logs(&self) -> String {
        let mut s = String::new();
        for i in 0..self.masters.len() {
            let l = self.log(i);
            let tail: Vec<&str> = l.lines().rev().take(15).collect();
            s.push_str(&format!("\n---- master{i} ----\n"));
            for line in tail.iter().rev() {
                s.push_str(line);
                s.push('\n');
            }
        }
        s
    }

    /// A client that only knows master `i`.
    pub fn only(&self, i: usize) -> String {
        format!("-Dalluxio.master.rpc.addresses=localhost:{}", self.masters[i].rpc)
    }
}

impl Drop for Ha {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("{}", self.logs());
        }
        for i in 0..self.masters.len() {
            self.kill(i);
        }
    }
}

fn client_conf(ha: &Ha) -> alluxio_common::Conf {
    let mut c = alluxio_common::Conf::defaults();
    let rpcs: Vec<String> = ha.masters.iter().map(|m| format!("localhost:{}", m.rpc)).collect();
    c.set("alluxio.master.rpc.addresses", rpcs.join(","));
    c.set("alluxio.user.rpc.retry.max.duration", "60s");
    crate::cluster::with_suite_tls(&mut c);
    c
}

#[test]
fn acknowledged_creates_survive_repeated_leader_kills() {
    let mut ha = Ha::new(3, &[]);
    ha.start_all();
    ha.c.start_worker();
    ha.c.wait_workers(1);
    ha.c.ok(&["fs", "mkdir", "/loop"]);

    // A client creating files in a loop, recording what was acknowledged.
    let acked = Arc::new(Mutex::new(Vec::<String>::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let conf = client_conf(&ha);
    let writer = {
        let (acked, stop) = (acked.clone(), stop.clone());
        std::thread::spawn(move || {
            let rt = tokio::runtime::Runtime::new().unwrap();
            rt.block_on(async {
                let fs = alluxio_client::FileSystem::connect(&conf).await.unwrap();
                let mut n = 0;
                let mut failures = 0;
                while !stop.load(Ordering::SeqCst) {
                    let p = format!("/loop/f{n}");
                    n += 1;
                    let path = alluxio_common::AlluxioPath::parse(&p).unwrap();
                    let r = async {
                        let out = fs.create_file(&path, Default::default()).await?;
                        out.close().await
                    }
                    .await;
                    match r {
                        Ok(_) => acked.lock().unwrap().push(p),
                        // The in-flight create across a failover may fail either way.
                        Err(_) => failures += 1,
                    }
                }
                failures
            })
        })
    };

    let mut kills = 0;
    for _ in 0..3 {
        std::thread::sleep(Duration::from_millis(800));
        let before = acked.lock().unwrap().len();
        let old = ha.leader();
        ha.kill(old);
        kills += 1;
        // Writes resume on a new leader.
        let deadline = Instant::now() + Duration::from_secs(30);
        while acked.lock().unwrap().len() < before + 5 {
            assert!(Instant::now() < deadline, "writes did not resume after killing master {old}:{}", ha.logs());
            std::thread::sleep(Duration::from_millis(50));
        }
        assert_ne!(ha.leader(), old);
        ha.start(old);
    }
    std::thread::sleep(Duration::from_millis(500));
    stop.store(true, Ordering::SeqCst);
    let failures = writer.join().unwrap();
    assert!(failures <= kills * 2, "{failures} creates failed across {kills} failovers");

    let acked = acked.lock().unwrap().clone();
    assert!(acked.len() > 20, "only {} creates acknowledged", acked.len());
    let listing = ha.c.ok(&["fs", "ls", "/loop"]);
    for p in &acked {
        assert!(listing.contains(&format!("{p}\n")) || listing.ends_with(p.as_str()), "acknowledged {p} lost");
    }
    // The worker re-registered with the new leader.
    ha.c.wait_workers(1);
    // Every master holds the same namespace: make each leader in turn and list.
    let count = acked.len();
    for i in 0..3 {
        let a = format!("localhost:{}", ha.masters[i].journal);
        ha.c.ok(&["fsadmin", "journal", "quorum", "elect", "-address", &a]);
        assert_eq!(ha.leader(), i);
        let l = ha.c.ok(&["fs", "ls", "/loop"]);
        let n = l.lines().count();
        assert!(n >= count, "master {i} lists {n} files, {count} were acknowledged");
    }
}

#[test]
fn a_partitioned_old_leader_never_acknowledges_writes() {
    let mut ha = Ha::new(3, &[]);
    ha.start_all();
    ha.c.ok(&["fs", "mkdir", "/p"]);
    let old = ha.leader();
    ha.signal(old, libc::SIGSTOP);
    // The others elect a new leader and keep serving.
    let deadline = Instant::now() + Duration::from_secs(30);
    let new = loop {
        let o = ha.c.run(&["fs", "masterInfo"]);
        let out = String::from_utf8_lossy(&o.stdout).to_string();
        if let Some(i) =
            ha.masters.iter().position(|m| out.contains(&format!("Current leader master: localhost:{}", m.rpc)))
        {
            if i != old {
                break i;
            }
        }
        assert!(Instant::now() < deadline, "no new leader while {old} is stopped");
        std::thread::sleep(Duration::from_millis(200));
    };
    ha.c.ok(&["fs", "touch", "/p/while-partitioned"]);
    // The old leader wakes up believing it leads: a write sent only to it is never acknowledged.
    ha.signal(old, libc::SIGCONT);
    let only_old = ha.only(old);
    let o = ha.c.run(&["fs", &only_old, "-Dalluxio.user.rpc.retry.max.duration=3s", "touch", "/p/to-old-leader"]);
    assert!(!o.status.success(), "the old leader acknowledged a write");
    let deadline = Instant::now() + Duration::from_secs(30);
    while !ha.log(old).contains("restarting to rejoin") {
        if let Ok(Some(status)) = ha.masters[old].child.as_mut().unwrap().try_wait() {
            panic!("the old leader exited with {status:?}");
        }
        assert!(Instant::now() < deadline, "the old leader did not restart as a standby");
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(ha.leader(), new);
    let l = ha.c.ok(&["fs", "ls", "/p"]);
    assert!(l.contains("/p/while-partitioned") && !l.contains("/p/to-old-leader"), "{l}");
    // A standby refuses a write and names the leader.
    let standby = (0..3).find(|i| *i != new).unwrap();
    let only = ha.only(standby);
    ha.c.eventually("the standby to know the leader", || {
        let o = ha.c.run(&["fs", &only, "-Dalluxio.user.rpc.retry.max.duration=1s", "touch", "/p/to-standby"]);
        String::from_utf8_lossy(&o.stderr).contains(&format!("the leading master is localhost:{}", ha.masters[new].rpc))
    });
    assert!(!ha.c.ok(&["fs", "ls", "/p"]).contains("/p/to-standby"));
}

#[test]
fn a_stopped_standby_catches_up_by_snapshot() {
    let mut ha = Ha::new(3, &["alluxio.master.journal.checkpoint.period.entries=20"]);
    ha.start_all();
    let leader = ha.leader();
    let lagging = (0..3).find(|i| *i != leader).unwrap();
    ha.kill(lagging);
    ha.c.ok(&["fs", "mkdir", "/s"]);
    for i in 0..120 {
        ha.c.ok(&["fs", "mkdir", &format!("/s/d{i}")]);
    }
    ha.c.eventually("a snapshot on the leader", || ha.log(leader).contains("embedded journal snapshot"));
    ha.start(lagging);
    ha.c.eventually("the lagging master to install a snapshot", || ha.log(lagging).contains("installed snapshot"));
    let a = format!("localhost:{}", ha.masters[lagging].journal);
    ha.c.ok(&["fsadmin", "journal", "quorum", "elect", "-address", &a]);
    assert_eq!(ha.leader(), lagging);
    assert_eq!(ha.c.ok(&["fs", "ls", "/s"]).lines().count(), 120);
    // Its own snapshot survives its restart.
    ha.kill(lagging);
    ha.start(lagging);
    ha.c.eventually("the restarted master to load its snapshot", || {
        ha.log(lagging).matches("loaded snapshot").count() >= 1
    });
}

#[test]
fn quorum_members_are_removed_and_added() {
    let mut ha = Ha::new(5, &[]);
    ha.start_all();
    let leader = ha.leader();
    let dead: Vec<usize> = (0..5).filter(|i| *i != leader).take(2).collect();
    for &d in &dead {
        ha.kill(d);
    }
    ha.c.eventually("quorum info to show two unavailable members", || {
        let o = ha.c.ok(&["fsadmin", "journal", "quorum", "info", "-domain", "MASTER"]);
        o.matches("UNAVAILABLE").count() == 2 && o.contains("Quorum size\t: 5")
    });
    // Removing the leader is refused.
    let la = format!("localhost:{}", ha.masters[leader].journal);
    let (_, err) = ha.c.fails(&["fsadmin", "journal", "quorum", "remove", "-domain", "MASTER", "-address", &la]);
    assert!(err.contains("leading master"), "{err}");
    for &d in &dead {
        let a = format!("localhost:{}", ha.masters[d].journal);
        let out = ha.c.ok(&["fsadmin", "journal", "quorum", "remove", "-domain", "MASTER", "-address", &a]);
        assert!(out.contains(&format!("Removed server at: {a}")), "{out}");
    }
    let info = ha.c.ok(&["fsadmin", "journal", "quorum", "info", "-domain", "MASTER"]);
    assert!(info.contains("Quorum size\t: 3") && !info.contains("UNAVAILABLE"), "{info}");
    // The three left still tolerate one failure.
    let other = (0..5).find(|i| *i != leader && !dead.contains(i)).unwrap();
    ha.kill(other);
    ha.c.ok(&["fs", "mkdir", "/after-one-failure"]);
    ha.c.eventually("quorum info to show the failed member", || {
        ha.c.ok(&["fsadmin", "journal", "quorum", "info", "-domain", "MASTER"]).contains("UNAVAILABLE")
    });
    // With one of three down, removing an available member would leave no majority.
    let last = (0..5).find(|i| *i != leader && *i != other && !dead.contains(i)).unwrap();
    let a = format!("localhost:{}", ha.masters[last].journal);
    let (_, err) = ha.c.fails(&["fsadmin", "journal", "quorum", "remove", "-domain", "MASTER", "-address", &a]);
    assert!(err.contains("no majority"), "{err}");
    ha.start(other);
    // A new master joins the running quorum: the one case where a master starts on a journal
    // folder that was never formatted.
    let d = dead[0];
    let _ = std::fs::remove_dir_all(ha.c.path(&format!("journal{d}")));
    ha.start(d);
    ha.c.eventually("the new master to join", || {
        let o = ha.c.ok(&["fsadmin", "journal", "quorum", "info", "-domain", "MASTER"]);
        o.contains("Quorum size\t: 4") && !o.contains("UNAVAILABLE")
    });
    assert!(ha.c.ok(&["fs", "ls", "/"]).contains("/after-one-failure"));
}

#[test]
fn bad_quorum_settings_are_refused() {
    let ha = Ha::new(3, &[]);
    // This master's own address is not among the members.
    let stray = free_port();
    let o = ha.c.run(&[
        &format!("-Dalluxio.master.embedded.journal.port={stray}"),
        &format!("-Dalluxio.master.journal.folder={}", ha.c.path("stray").display()),
        "process",
        "master",
    ]);
    let err = String::from_utf8_lossy(&o.stderr).to_string() + &String::from_utf8_lossy(&o.stdout);
    assert!(!o.status.success());
    assert!(
        err.contains(&format!("localhost:{stray}")) && err.contains("alluxio.master.embedded.journal.addresses"),
        "{err}"
    );
    // A UFS-journal master cannot join several masters.
    let o = ha.c.run(&["-Dalluxio.master.journal.type=UFS", "process", "master"]);
    let err = String::from_utf8_lossy(&o.stderr).to_string();
    assert!(!o.status.success() && err.contains("EMBEDDED on every one"), "{err}");
}

fn backup_path(out: &str) -> String {
    let line = out
        .lines()
        .find(|l| l.starts_with("Successfully backed up journal to "))
        .unwrap_or_else(|| panic!("no success line in {out}"));
    let uri = line.trim_start_matches("Successfully backed up journal to ").split(" with ").next().unwrap();
    uri.trim_start_matches("file://").to_owned()
}

#[test]
fn backups_move_metadata_between_journal_types_and_into_three_masters() {
    // UFS journal, one master.
    let mut u = Cluster::new(&["alluxio.master.journal.type=UFS"]);
    u.format();
    u.start_master();
    u.ok(&["fs", "mkdir", "/a"]);
    u.ok(&["fs", "touch", "/a/f1"]);
    let bk = u.path("bk");
    let b1 = backup_path(&u.ok(&["fsadmin", "backup", bk.to_str().unwrap(), "--local"]));
    u.kill_master();

    // Restored into three EMBEDDED masters: only the first leader applies it.
    let init = format!("alluxio.master.journal.init.from.backup={b1}");
    let mut ha = Ha::new(3, &[init.as_str()]);
    ha.start_all();
    ha.c.eventually("the restored namespace", || ha.c.run(&["fs", "stat", "/a/f1"]).status.success());
    let restorers = (0..3).filter(|i| ha.log(*i).contains("Restored ")).count();
    assert_eq!(restorers, 1, "{}", ha.logs());
    ha.c.ok(&["fs", "touch", "/a/f2"]);
    // A restart keeps the journal and ignores the backup.
    for i in 0..3 {
        ha.kill(i);
    }
    ha.start_all();
    ha.c.eventually("the namespace after a restart", || ha.c.run(&["fs", "stat", "/a/f2"]).status.success());
    assert_eq!(ha.c.ok(&["fs", "ls", "/a"]).lines().count(), 2);
    let bk2 = ha.c.path("bk2");
    let b2 = backup_path(&ha.c.ok(&["fsadmin", "backup", bk2.to_str().unwrap(), "--local"]));

    // And back to a UFS journal.
    let init2 = format!("alluxio.master.journal.init.from.backup={b2}");
    let mut u2 = Cluster::new(&[init2.as_str(), "alluxio.master.journal.type=UFS"]);
    u2.format();
    u2.start_master();
    let l = u2.ok(&["fs", "ls", "/a"]);
    assert!(l.contains("/a/f1") && l.contains("/a/f2"), "{l}");
    assert!(u2.path("journal/v1/checkpoints").read_dir().unwrap().count() == 1, "not restored into a UFS journal");
}

#[test]
fn start_and_stop_scripts_run_several_masters_from_conf_masters() {
    let ha = Ha::new(3, &[]);
    let lines: Vec<String> = (0..3).map(|i| format!("localhost {}", ha.args(i).join(" "))).collect();
    std::fs::write(ha.c.path("conf/masters"), lines.join("\n") + "\n").unwrap();
    let o = ha.c.script("alluxio-start.sh", &["masters"]);
    let out = String::from_utf8_lossy(&o.stdout).to_string() + &String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{out}");
    assert_eq!(out.matches("is in a healthy state").count(), 3, "{out}");
    ha.c.ok(&["fs", "mkdir", "/scripted"]);
    let info = ha.c.ok(&["fs", "masterInfo"]);
    assert_eq!(info.matches("localhost:").count(), 4, "{info}");
    let o = ha.c.script("alluxio-stop.sh", &["masters"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let o = ha.c.run(&["fs", "-Dalluxio.user.rpc.retry.max.duration=1s", "ls", "/"]);
    assert!(!o.status.success(), "masters still answer after alluxio-stop.sh masters");
}

#[test]
fn standbys_take_backups_when_delegation_is_enabled() {
    let mut ha = Ha::new(3, &["alluxio.master.backup.delegation.enabled=true"]);
    ha.start_all();
    ha.c.ok(&["fs", "mkdir", "/delegated"]);
    let leader = ha.leader();
    let dir = ha.c.path("bkd");
    let dir = dir.to_str().unwrap();
    let path = backup_path(&ha.c.ok(&["fsadmin", "backup", dir, "--local"]));
    assert!(std::path::Path::new(&path).exists(), "{path}");
    let takers: Vec<usize> = (0..3).filter(|i| ha.log(*i).contains("Successfully backed up journal to")).collect();
    assert_eq!(takers.len(), 1, "{}", ha.logs());
    assert_ne!(takers[0], leader, "the leader took the backup itself");
    // With no standby left, the leader takes it only when allowed to.
    for i in (0..3).filter(|i| *i != leader) {
        ha.kill(i);
    }
    ha.c.eventually("both standbys to be unavailable", || {
        ha.c.ok(&["fsadmin", "journal", "quorum", "info", "-domain", "MASTER"]).matches("UNAVAILABLE").count() == 2
    });
    let (_, err) = ha.c.fails(&["fsadmin", "backup", dir, "--local"]);
    assert!(err.contains("--allow-leader"), "{err}");
    let out = ha.c.ok(&["fsadmin", "backup", dir, "--local", "--allow-leader"]);
    assert!(out.contains("Successfully backed up journal to"), "{out}");
}

#[test]
fn a_journal_folder_is_read_only_by_its_own_journal_type() {
    let mut u = Cluster::new(&["alluxio.master.journal.type=UFS"]);
    u.format();
    u.start_master();
    u.ok(&["fs", "mkdir", "/kept"]);
    u.stop_master();
    let o = u.run(&["-Dalluxio.master.journal.type=EMBEDDED", "process", "master"]);
    let err = String::from_utf8_lossy(&o.stderr).to_string();
    assert!(!o.status.success() && err.contains("holds a UFS journal") && err.contains("fsadmin backup"), "{err}");
    // Nothing was changed: the UFS master still starts with its namespace.
    u.start_master();
    assert!(u.ok(&["fs", "ls", "/"]).contains("/kept"));
    u.stop_master();

    let mut e = Cluster::new(&["alluxio.master.journal.type=EMBEDDED"]);
    e.format();
    e.start_master();
    e.ok(&["fs", "mkdir", "/raft"]);
    e.stop_master();
    let o = e.run(&["-Dalluxio.master.journal.type=UFS", "process", "master"]);
    let err = String::from_utf8_lossy(&o.stderr).to_string();
    assert!(!o.status.success() && err.contains("holds an EMBEDDED journal"), "{err}");
    e.start_master();
    assert!(e.ok(&["fs", "ls", "/"]).contains("/raft"));
}
