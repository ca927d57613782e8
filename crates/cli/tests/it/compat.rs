//! An Alluxio 2.9 deployment's configuration, unchanged: every Alluxio 2.9.3 key is accepted,
//! deprecated aliases stand for their keys, and only typos are refused.

use crate::cluster::Cluster;

/// Keys of a realistic Alluxio 2.9 site file that alluxio-rs has no use for.
const ALLUXIO_ONLY: &[&str] = &[
    "alluxio.user.metadata.cache.enabled=true",
    "alluxio.job.master.hostname=localhost",
    "alluxio.fuse.user.group.translation.enabled=true",
    "alluxio.user.block.master.client.pool.gc.threshold=120sec",
    "alluxio.user.network.rpc.keepalive.time=30sec",
];

#[test]
fn an_alluxio_29_site_file_starts_unchanged() {
    let mut lines = ALLUXIO_ONLY.to_vec();
    lines.push("alluxio.master.format.file_prefix=_fmt_"); // the deprecated name of ...format.file.prefix
                                                           // An Alluxio 1.x key some 2.9 site files still carry (not in 2.9.3's list): ignored.
    lines.push("alluxio.master.worker.threads.max=2048");
    let mut c = Cluster::new(&lines);
    c.format();
    c.start();
    c.ok(&["fs", "mkdir", "/works"]);
    let log = c.log("master");
    for l in ALLUXIO_ONLY {
        let key = l.split('=').next().unwrap();
        assert!(log.contains(&format!("{key}: accepted, no effect in alluxio-rs")), "{key}:\n{log}");
    }
    assert!(log.contains("alluxio.master.format.file_prefix is deprecated"), "{log}");
    assert!(log.contains("alluxio.master.worker.threads.max: unknown property, ignored"), "{log}");
    assert_eq!(c.ok(&["getConf", "alluxio.master.format.file.prefix"]).trim(), "_fmt_", "the alias applies");

    let v = c.ok(&["validateConf"]);
    assert!(v.contains("alluxio.job.master.hostname: accepted, no effect in alluxio-rs"), "{v}");
    assert!(v.contains("Validating configuration: OK"), "{v}");
    // Alluxio's keys show their values, or Alluxio's defaults when unset.
    assert_eq!(c.ok(&["getConf", "alluxio.job.master.hostname"]).trim(), "localhost");
    assert_eq!(c.ok(&["getConf", "alluxio.conf.validation.enabled"]).trim(), "true");

    // A typo of a known key is still refused, with the key meant; so is a bad value of a key
    // alluxio-rs uses.
    let (_, err) = c.fails(&["fs", "-Dalluxio.user.metadata.cache.enabld=true", "ls", "/"]);
    assert!(err.contains("did you mean alluxio.user.metadata.cache.enabled?"), "{err}");
    let (_, err) = c.fails(&["fs", "-Dalluxio.user.file.writetype.default=SOMETIMES", "ls", "/"]);
    assert!(err.contains("alluxio.user.file.writetype.default") && err.contains("SOMETIMES"), "{err}");
    // A key nobody knows, far from any known one, is ignored with a word.
    let v = c.ok(&["validateConf", "-Dalluxio.site.team.name=storage"]);
    assert!(v.contains("alluxio.site.team.name: unknown property, ignored"), "{v}");
}

#[test]
fn get_conf_source_says_where_a_default_differs_from_alluxios() {
    let c = Cluster::new(&[]);
    let out = c.ok(&["getConf", "--source", "alluxio.master.journal.flush.batch.time"]);
    assert!(out.starts_with("DEFAULT (alluxio-rs's, not Alluxio 2.9's: group commit waits 5ms"), "{out}");
    assert_eq!(c.ok(&["getConf", "--source", "alluxio.user.block.size.bytes.default"]).trim(), "DEFAULT");
    assert_eq!(c.ok(&["getConf", "alluxio.user.file.create.ttl.action"]).trim(), "FREE", "Alluxio 2.9's default");
}

#[test]
fn clients_take_the_masters_client_settings_unless_they_set_their_own() {
    let mut c = Cluster::new(&[]);
    c.format();
    c.start_master_with(&[
        "-Dalluxio.user.file.writetype.default=THROUGH",
        "-Dalluxio.user.block.size.bytes.default=2MB",
    ]);
    c.start_worker();
    let src = c.path("five-mb");
    std::fs::write(&src, crate::cluster::data(5 << 20, 18)).unwrap();
    let src = src.to_str().unwrap();
    let stat = |path: &str| c.ok(&["fs", "stat", path]);

    // The masters' write type and block size apply to a client that sets neither.
    c.ok(&["fs", "copyFromLocal", src, "/through"]);
    let s = stat("/through");
    assert!(s.contains("blockSizeBytes=2097152") && s.contains("persisted=true"), "{s}");
    assert!(s.contains("inAlluxioPercentage=0"), "THROUGH does not cache: {s}");

    // A client's own setting wins over the cluster's.
    c.ok(&["fs", "-Dalluxio.user.file.writetype.default=MUST_CACHE", "copyFromLocal", src, "/cached"]);
    let s = stat("/cached");
    assert!(s.contains("blockSizeBytes=2097152") && s.contains("persisted=false"), "{s}");
    assert!(s.contains("inAlluxioPercentage=100"), "{s}");

    // And the switch turns cluster defaults off: Alluxio's defaults apply.
    c.ok(&["fs", "-Dalluxio.user.conf.cluster.default.enabled=false", "copyFromLocal", src, "/own"]);
    let s = stat("/own");
    assert!(s.contains("blockSizeBytes=67108864") && s.contains("inAlluxioPercentage=100"), "{s}");
}

#[test]
fn update_conf_changes_client_settings_at_run_time_and_refuses_the_rest() {
    let mut c = Cluster::new(&[]);
    c.format();
    c.start();
    let key = "alluxio.user.file.writetype.default";
    let out = c.ok(&["fsadmin", "updateConf", &format!("{key}=THROUGH")]);
    assert_eq!(out.trim(), "Updated 1 configs");
    assert_eq!(c.ok(&["getConf", "--master", key]).trim(), "THROUGH");
    assert!(c.ok(&["getConf", "--master", "--source", key]).starts_with("RUNTIME"));
    // Clients take it from now on.
    let src = c.path("f");
    std::fs::write(&src, b"written through").unwrap();
    c.ok(&["fs", "copyFromLocal", src.to_str().unwrap(), "/f"]);
    let s = c.ok(&["fs", "stat", "/f"]);
    assert!(s.contains("persisted=true") && s.contains("inAlluxioPercentage=0"), "{s}");

    // A key read once at start, and a bad value: refused, saying why; nothing changed.
    let o = c.run(&["fsadmin", "updateConf", "--option", "alluxio.master.rpc.port=1", &format!("{key}=SOMETIMES")]);
    let (out, err) = (String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
    assert_eq!(o.status.code(), Some(254), "{out}{err}");
    assert!(out.contains("Updated 2 configs") && out.contains("Failed to Update alluxio.master.rpc.port"), "{out}");
    assert!(out.contains(&format!("Failed to Update {key}")), "{out}");
    assert!(err.contains("cannot change at run time") && err.contains("SOMETIMES"), "{err}");
    assert_eq!(c.ok(&["getConf", "--master", key]).trim(), "THROUGH");
    let (code, out) = c.fails(&["fsadmin", "updateConf"]);
    assert!(code == 255 && out.contains("No config to update"), "{code} {out}");
    // Only the superuser changes the cluster's configuration.
    let (_, err) =
        c.fails(&["fsadmin", "-Dalluxio.security.login.username=bob", "updateConf", &format!("{key}=MUST_CACHE")]);
    assert!(err.contains("bob is not a super user"), "{err}");
    assert_eq!(c.ok(&["getConf", "--master", key]).trim(), "THROUGH");
}
