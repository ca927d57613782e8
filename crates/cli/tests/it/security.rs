//! Permissions end to end: two users of one cluster (SIMPLE authentication, `-D` login names)
//! and the superuser that started it, through the CLI.

use crate::cluster::Cluster;

const ALICE: &str = "-Dalluxio.security.login.username=alice";
const BOB: &str = "-Dalluxio.security.login.username=bob";

fn as_user<'a>(user: &'a str, args: &[&'a str]) -> Vec<&'a str> {
    let mut v = vec![args[0], user];
    v.extend_from_slice(&args[1..]);
    v
}

/// `fs stat` without the times and percentages that change as a file is cached or persisted.
fn perms_of(c: &Cluster, path: &str) -> String {
    let ls = c.ok(&["fs", "ls", "-d", path]);
    ls.split_whitespace().take(3).collect::<Vec<_>>().join(" ")
}

#[test]
fn a_private_file_is_safe_from_other_users_and_not_from_the_superuser() {
    let mut c = Cluster::new(&[]);
    c.format();
    c.start();
    let local = c.path("secret.txt");
    std::fs::write(&local, b"alice's secret").unwrap();
    let local = local.to_str().unwrap();

    // The superuser opens a shared directory; alice keeps a private file in it.
    c.ok(&["fs", "mkdir", "/shared"]);
    c.ok(&["fs", "chmod", "1777", "/shared"]);
    c.ok(&as_user(ALICE, &["fs", "copyFromLocal", local, "/shared/a.txt"]));
    c.ok(&as_user(ALICE, &["fs", "chmod", "600", "/shared/a.txt"]));
    let before = perms_of(&c, "/shared/a.txt");
    assert!(before.starts_with("-rw------- alice"), "{before}");

    let refused = |args: &[&str], wants: &str| {
        let (_, err) = c.fails(&as_user(BOB, args));
        assert!(err.contains(wants), "bob {args:?}: {err}");
        assert!(err.contains("Permission denied") || err.contains("PERMISSION_DENIED"), "bob {args:?}: {err}");
        assert_eq!(perms_of(&c, "/shared/a.txt"), before, "bob {args:?} changed the file");
        assert_eq!(c.ok(&["fs", "cat", "/shared/a.txt"]), "alice's secret", "bob {args:?} changed the data");
    };
    refused(&["fs", "cat", "/shared/a.txt"], "user=bob, access=r--, path=/shared/a.txt: failed at a.txt");
    refused(&["fs", "rm", "/shared/a.txt"], "sticky bit");
    refused(&["fs", "mv", "/shared/a.txt", "/shared/b.txt"], "sticky bit");
    refused(&["fs", "chmod", "666", "/shared/a.txt"], "user=bob is not the owner of path=/shared/a.txt");
    refused(&["fs", "chown", "bob", "/shared/a.txt"], "bob is not a super user or in super group");
    refused(&["fs", "pin", "/shared/a.txt"], "access=-w-");
    refused(&["fs", "mount", "/bobs", c.path("").to_str().unwrap()], "bob is not a super user");
    assert!(!c.run(&["fs", "stat", "/shared/b.txt"]).status.success());
    assert!(!c.run(&["fs", "stat", "/bobs"]).status.success(), "bob's mount happened");

    // bob works in his own space; alice may not touch it.
    c.ok(&["fs", "mkdir", "/home"]);
    c.ok(&["fs", "mkdir", "/home/bob"]);
    c.ok(&["fs", "chown", "bob", "/home/bob"]);
    c.ok(&as_user(BOB, &["fs", "touch", "/home/bob/notes"]));
    let (_, err) = c.fails(&as_user(ALICE, &["fs", "touch", "/home/bob/mine"]));
    assert!(err.contains("user=alice, access=-w-, path=/home/bob/mine: failed at bob"), "{err}");
    let (_, err) = c.fails(&as_user(ALICE, &["fs", "mkdir", "/top"]));
    assert!(err.contains("failed at /"), "{err}");

    // The superuser (the user that started the master) may do anything.
    assert_eq!(c.ok(&["fs", "cat", "/shared/a.txt"]), "alice's secret");
    c.ok(&["fs", "chown", "bob", "/shared/a.txt"]);
    assert!(perms_of(&c, "/shared/a.txt").starts_with("-rw------- bob"));
    // Now bob owns it: the sticky bit lets him rename and delete it.
    c.ok(&as_user(BOB, &["fs", "mv", "/shared/a.txt", "/shared/b.txt"]));
    c.ok(&as_user(BOB, &["fs", "rm", "/shared/b.txt"]));
}

#[test]
fn permission_checks_can_be_turned_off() {
    let mut c = Cluster::new(&["alluxio.security.authorization.permission.enabled=false"]);
    c.format();
    c.start();
    c.ok(&as_user(ALICE, &["fs", "mkdir", "/a"]));
    c.ok(&as_user(ALICE, &["fs", "touch", "/a/f"]));
    c.ok(&as_user(ALICE, &["fs", "chmod", "600", "/a/f"]));
    c.ok(&as_user(BOB, &["fs", "cat", "/a/f"]));
    c.ok(&as_user(BOB, &["fs", "rm", "/a/f"]));
}

/// Paths under `dir` (itself included) that users other than the owner may read or enter.
fn readable_by_others(dir: &std::path::Path) -> Vec<String> {
    use std::os::unix::fs::PermissionsExt;
    let mut wide = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(p) = todo.pop() {
        let meta = std::fs::symlink_metadata(&p).unwrap();
        if meta.permissions().mode() & 0o077 != 0 {
            wide.push(format!("{} {:o}", p.display(), meta.permissions().mode() & 0o777));
        }
        if meta.is_dir() {
            todo.extend(std::fs::read_dir(&p).unwrap().flatten().map(|e| e.path()));
        }
    }
    wide
}

#[test]
fn journal_and_backups_with_mount_secrets_are_for_the_superuser_only() {
    for journal in ["EMBEDDED", "UFS"] {
        let mut c = Cluster::new(&[&format!("alluxio.master.journal.type={journal}")]);
        c.format();
        c.start();
        let ufs = c.path("mounted");
        std::fs::create_dir_all(&ufs).unwrap();
        c.ok(&["fs", "mount", "--option", "s3a.secretKey=hush-hush", "/m", ufs.to_str().unwrap()]);
        c.ok(&["fsadmin", "journal", "checkpoint"]);
        // Backups and checkpoints are the superuser's (a backup writes where it is told, as
        // the master's user).
        let elsewhere = c.path("bobs-backup");
        let (_, err) = c.fails(&as_user(BOB, &["fsadmin", "backup", elsewhere.to_str().unwrap(), "--local"]));
        assert!(err.contains("bob is not a super user"), "{err}");
        assert!(!elsewhere.exists());
        let (_, err) = c.fails(&as_user(BOB, &["fsadmin", "journal", "checkpoint"]));
        assert!(err.contains("bob is not a super user"), "{err}");

        // A backup to the root UFS: owner-only on the host and in the namespace.
        let out = c.ok(&["fsadmin", "backup"]);
        let uri =
            out.lines().find(|l| l.starts_with("Backup URI")).and_then(|l| l.split_once(" : ")).unwrap().1.to_owned();
        let name = uri.rsplit('/').next().unwrap().to_owned();
        assert!(name.starts_with("alluxio-backup-"), "{out}");
        let host_dir = c.path("underFSStorage/alluxio_backups");
        assert_eq!(readable_by_others(&host_dir), Vec::<String>::new(), "{journal}");
        let (_, err) = c.fails(&as_user(BOB, &["fs", "cat", &format!("/alluxio_backups/{name}")]));
        assert!(err.contains("user=bob, access=--x, path=/alluxio_backups/"), "{err}");
        let (_, err) = c.fails(&as_user(BOB, &["fs", "ls", "/alluxio_backups"]));
        assert!(err.contains("Permission denied"), "{err}");
        assert!(c.ok(&["fs", "ls", "/alluxio_backups"]).contains(&name), "the superuser sees its backups");

        // A local backup and the journal folder itself.
        let local = c.path("local-backups");
        c.ok(&["fsadmin", "backup", local.to_str().unwrap(), "--local"]);
        assert_eq!(readable_by_others(&local), Vec::<String>::new(), "{journal}");
        let journal_dir = c.path("journal");
        assert!(journal_dir.is_dir(), "{}", journal_dir.display());
        assert_eq!(readable_by_others(&journal_dir), Vec::<String>::new(), "{journal}");
    }
}

const IMPERSONATE: &str = "alluxio.security.login.impersonation.username";

#[test]
fn impersonation_follows_the_masters_rules() {
    let mut c = Cluster::new(&[
        "alluxio.master.security.impersonation.alice.users=bob",
        "alluxio.master.security.impersonation.carol.groups=no-such-group",
    ]);
    c.format();
    c.start();
    c.ok(&["fs", "mkdir", "/tmp"]);
    c.ok(&["fs", "chmod", "777", "/tmp"]);
    let acting = |user: &str| format!("-D{IMPERSONATE}={user}");

    // alice may act for bob: what she creates is bob's.
    let (as_bob, as_carol, as_alice) = (acting("bob"), acting("carol"), acting("alice"));
    c.ok(&["fs", ALICE, &as_bob, "touch", "/tmp/by-bob"]);
    assert!(perms_of(&c, "/tmp/by-bob").ends_with(" bob"), "{}", perms_of(&c, "/tmp/by-bob"));

    // Anyone else is refused, naming both users, and nothing happens.
    let (_, err) = c.fails(&["fs", ALICE, &as_carol, "touch", "/tmp/x"]);
    assert!(err.contains("user=\"alice\" is not configured to impersonate as impersonationUser=\"carol\""), "{err}");
    let (_, err) = c.fails(&["fs", BOB, &as_alice, "touch", "/tmp/y"]);
    assert!(err.contains("User \"bob\" is not configured to allow any impersonation"), "{err}");
    let (_, err) = c.fails(&["fs", "-Dalluxio.security.login.username=carol", &as_bob, "touch", "/tmp/z"]);
    assert!(err.contains("impersonationUser=\"bob\""), "{err}");
    let ls = c.ok(&["fs", "ls", "/tmp"]);
    assert!(!ls.contains("/tmp/x") && !ls.contains("/tmp/y") && !ls.contains("/tmp/z"), "{ls}");

    // The superuser may act for anyone: it only narrows what it may do.
    c.ok(&["fs", &as_alice, "touch", "/tmp/for-alice"]);
    assert!(perms_of(&c, "/tmp/for-alice").ends_with(" alice"));
    c.ok(&["fs", ALICE, "chmod", "600", "/tmp/for-alice"]);
    let (_, err) = c.fails(&["fs", &as_bob, "cat", "/tmp/for-alice"]);
    assert!(err.contains("user=bob, access=r--"), "{err}");
}

#[test]
fn nosasl_checks_nothing_and_custom_authentication_is_refused() {
    let mut c = Cluster::new(&["alluxio.security.authentication.type=NOSASL"]);
    c.format();
    c.start();
    c.ok(&as_user(ALICE, &["fs", "touch", "/f"]));
    c.ok(&as_user(ALICE, &["fs", "chmod", "600", "/f"]));
    c.ok(&as_user(BOB, &["fs", "cat", "/f"]));
    c.ok(&as_user(BOB, &["fs", "rm", "/f"]));
    let (_, err) = c.fails(&["fs", "-Dalluxio.security.authentication.type=CUSTOM", "ls", "/"]);
    assert!(err.contains("alluxio.security.authentication.type") && err.contains("SIMPLE or NOSASL"), "{err}");
    // Alluxio's group mapping keys are accepted; only the shell-based mapping is available.
    let mapping = "alluxio.security.group.mapping.class";
    let shell = format!("-D{mapping}=alluxio.security.group.provider.ShellBasedUnixGroupsMapping");
    assert!(c
        .ok(&["getConf", &shell, "-Dalluxio.security.group.mapping.cache.timeout=0", mapping])
        .contains("ShellBasedUnixGroupsMapping"));
    let (_, err) = c.fails(&["getConf", &format!("-D{mapping}=com.example.LdapGroupsMapping"), mapping]);
    assert!(err.contains(mapping) && err.contains("ShellBasedUnixGroupsMapping"), "{err}");
}

/// `/alice/a.txt`, mode 600, in alice's own 755 directory; returns its content.
fn alices_private_file(c: &Cluster) -> &'static str {
    let local = c.path("secret.txt");
    std::fs::write(&local, b"alice's secret").unwrap();
    c.ok(&["fs", "mkdir", "/alice"]);
    c.ok(&["fs", "chown", "alice", "/alice"]);
    c.ok(&as_user(ALICE, &["fs", "copyFromLocal", local.to_str().unwrap(), "/alice/a.txt"]));
    c.ok(&as_user(ALICE, &["fs", "chmod", "600", "/alice/a.txt"]));
    "alice's secret"
}

#[test]
fn the_gateways_act_for_their_users() {
    let c = crate::proxy::start_with_proxy(&[]);
    let content = alices_private_file(&c);
    let port = c.proxy_port.to_string();
    crate::proxy::python("rest_users.py", &[&port, "param", "/alice/a.txt", content]);
    // S3: the access key names the user.
    let endpoint = format!("http://127.0.0.1:{port}/api/v1/s3");
    let bob = crate::s3_server::aws_cli(&endpoint, "bob", "any", &["s3", "cp", "s3://alice/a.txt", "-"]);
    let err = String::from_utf8_lossy(&bob.stderr);
    assert!(!bob.status.success() && (err.contains("AccessDenied") || err.contains("403")), "{err}");
    let alice = crate::s3_server::aws_cli(&endpoint, "alice", "any", &["s3", "cp", "s3://alice/a.txt", "-"]);
    assert_eq!(String::from_utf8_lossy(&alice.stdout), content, "{}", String::from_utf8_lossy(&alice.stderr));
    assert_eq!(perms_of(&c, "/alice/a.txt"), "-rw------- alice alice", "a refusal changed the file");
}

#[test]
fn with_key_pairs_each_user_needs_its_own_secret() {
    let dir = tempfile::tempdir().unwrap();
    let creds = dir.path().join("s3-credentials");
    std::fs::write(&creds, "# access key, secret key\nalice alice-secret\nbob bob-secret\n").unwrap();
    std::fs::set_permissions(&creds, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    let creds_line = format!("alluxio.proxy.s3.auth.credentials.file={}", creds.display());
    let c = crate::proxy::start_with_proxy(&[&creds_line]);
    let content = alices_private_file(&c);
    let port = c.proxy_port.to_string();
    crate::proxy::python("rest_users.py", &[&port, "basic", "/alice/a.txt", content]);
    // The `user` parameter is no way around authentication.
    let (status, body) =
        crate::proxy::http(c.proxy_port, "POST", "/api/v1/paths//alice/a.txt/delete?user=alice", &[], b"");
    assert!(status == 401 && body.contains("UNAUTHENTICATED"), "{status} {body}");

    let root = format!("http://127.0.0.1:{port}");
    let s3 =
        |key: &str, secret: &str| crate::s3_server::aws_cli(&root, key, secret, &["s3", "cp", "s3://alice/a.txt", "-"]);
    let out = s3("alice", "alice-secret");
    assert_eq!(String::from_utf8_lossy(&out.stdout), content, "{}", String::from_utf8_lossy(&out.stderr));
    let out = s3("bob", "bob-secret");
    assert!(!out.status.success(), "bob read alice's file");
    let out = crate::s3_server::aws_cli(&root, "alice", "bob-secret", &["s3", "ls", "s3://alice/"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("SignatureDoesNotMatch"), "{out:?}");
    assert!(!c.log("proxy").contains("bob-secret"), "a secret reached the log");
    assert_eq!(perms_of(&c, "/alice/a.txt"), "-rw------- alice alice");
}

#[test]
fn the_audit_log_has_a_line_for_each_operation_allowed_or_not() {
    let mut c = Cluster::new(&["alluxio.master.audit.logging.enabled=true"]);
    c.format();
    c.start();
    c.ok(&["fs", "mkdir", "/shared"]);
    c.ok(&["fs", "chmod", "777", "/shared"]);
    c.ok(&as_user(ALICE, &["fs", "touch", "/shared/f"]));
    c.ok(&as_user(ALICE, &["fs", "mv", "/shared/f", "/shared/g"]));
    c.ok(&as_user(ALICE, &["fs", "chmod", "600", "/shared/g"]));
    c.fails(&as_user(BOB, &["fs", "cat", "/shared/g"]));

    let path = c.path("logs/master_audit.log");
    let wanted = [
        "succeeded=true\tallowed=true\tugi=alice,alice (AUTH=SIMPLE)\tip=/127.0.0.1:",
        "\tcmd=createFile\tsrc=/shared/f\tdst=null\tperm=alice:alice:rw-r--r--\texecutionTimeUs=",
        "\tcmd=rename\tsrc=/shared/f\tdst=/shared/g\tperm=null\t",
        "\tcmd=setAttribute\tsrc=/shared/g\tdst=null\tperm=alice:alice:rw-------\t",
        "succeeded=false\tallowed=false\tugi=bob,bob (AUTH=SIMPLE)",
    ];
    c.eventually("the audit lines are written", || {
        let log = std::fs::read_to_string(&path).unwrap_or_default();
        wanted.iter().all(|w| log.contains(w))
    });
    let log = std::fs::read_to_string(&path).unwrap();
    let denied = log.lines().find(|l| l.contains("ugi=bob,bob")).unwrap();
    assert!(denied.contains("src=/shared/g"), "{denied}");
    for line in log.lines() {
        assert_eq!(line.split('\t').count(), 9, "{line}");
    }
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
}

#[test]
fn get_conf_shows_the_masters_configuration_with_secrets_masked() {
    let mut c = Cluster::new(&["alluxio.proxy.s3.auth.access.key=admin", "alluxio.proxy.s3.auth.secret.key=hush-hush"]);
    c.format();
    c.start();
    let size = "alluxio.user.block.size.bytes.default";
    let mine = format!("-D{size}=1MB");
    assert_eq!(c.ok(&["getConf", &mine, size]).trim(), "1MB");
    assert_eq!(c.ok(&["getConf", &mine, "--master", size]).trim(), "64MB", "the master's own value");
    assert_eq!(c.ok(&["getConf", &mine, "--master", "--unit", "KB", size]).trim(), "65536");
    let source = c.ok(&["getConf", "--master", "--source", "alluxio.master.rpc.port"]);
    assert!(source.starts_with("SITE_PROPERTY"), "{source}");
    let secret = "alluxio.proxy.s3.auth.secret.key";
    assert_eq!(c.ok(&["getConf", "--master", secret]).trim(), "******");
    assert_eq!(c.ok(&["getConf", secret]).trim(), "******");
    let all = c.ok(&["getConf", "--master"]);
    assert!(all.contains(&format!("{secret}=******")) && all.contains("alluxio.master.rpc.port="), "{all}");
    assert!(!all.contains("hush-hush") && !c.ok(&["getConf"]).contains("hush-hush"));
    c.stop_master();
    let (_, err) = c.fails(&["getConf", "-Dalluxio.user.rpc.retry.max.duration=1s", "--master", size]);
    assert!(err.contains("master"), "{err}");
}

#[test]
fn acls_grant_beyond_the_mode_and_default_acls_are_inherited() {
    let mut c = crate::proxy::start_with_proxy(&[]); // `/` is 777
    const CAROL: &str = "-Dalluxio.security.login.username=carol";
    c.ok(&as_user(ALICE, &["fs", "mkdir", "/proj"]));
    c.ok(&as_user(ALICE, &["fs", "chmod", "750", "/proj"]));
    let (_, err) = c.fails(&as_user(BOB, &["fs", "ls", "/proj"]));
    assert!(err.contains("user=bob, access=r-x"), "{err}");

    // A named user entry lets bob in; the mask shows as the group bits.
    c.ok(&as_user(ALICE, &["fs", "setfacl", "-m", "user:bob:r-x", "/proj"]));
    c.ok(&as_user(BOB, &["fs", "ls", "/proj"]));
    assert!(perms_of(&c, "/proj").starts_with("drwxr-x---+ alice"), "{}", perms_of(&c, "/proj"));
    let facl = c.ok(&["fs", "getfacl", "/proj"]);
    assert_eq!(
        facl.lines().collect::<Vec<_>>(),
        [
            "# file: /proj",
            "# owner: alice",
            "# group: alice",
            "user::rwx",
            "user:bob:r-x",
            "group::r-x",
            "mask::r-x",
            "other::---"
        ],
        "{facl}"
    );
    // So does `fs stat`, as Alluxio prints an ACL.
    let stat = c.ok(&["fs", "stat", "/proj"]);
    assert!(stat.contains("acl=user::rwx,user:bob:r-x,group::r-x,mask::r-x,other::---,"), "{stat}");
    // The REST API shows the entries too.
    let (status, body) = crate::proxy::http(c.proxy_port, "POST", "/api/v1/paths//proj/get-status", &[], b"");
    assert!(status == 200 && body.contains("\"user:bob:r-x\"") && body.contains("\"mask::r-x\""), "{body}");
    // Only the owner (or the superuser) changes an ACL.
    let (_, err) = c.fails(&as_user(BOB, &["fs", "setfacl", "-m", "user:bob:rwx", "/proj"]));
    assert!(err.contains("user=bob is not the owner of path=/proj"), "{err}");
    let (_, err) = c.fails(&as_user(ALICE, &["fs", "setfacl", "-m", "user:bob:rwz", "/proj"]));
    assert!(err.contains("user:bob:rwz"), "{err}");

    // A default ACL: new files under /proj give bob access, not others, whatever the umask.
    c.ok(&as_user(ALICE, &["fs", "setfacl", "-d", "-m", "user:bob:rwx,other::---", "/proj"]));
    let local = c.path("plan.txt");
    std::fs::write(&local, b"the plan").unwrap();
    c.ok(&as_user(ALICE, &["fs", "copyFromLocal", local.to_str().unwrap(), "/proj/plan.txt"]));
    let facl = c.ok(&["fs", "getfacl", "/proj/plan.txt"]);
    assert!(
        facl.contains("\nuser:bob:rwx\n") && facl.contains("\nmask::rw-\n") && facl.contains("\nother::---"),
        "{facl}"
    );
    assert_eq!(c.ok(&as_user(BOB, &["fs", "cat", "/proj/plan.txt"])), "the plan");
    let (_, err) = c.fails(&as_user(CAROL, &["fs", "cat", "/proj/plan.txt"]));
    assert!(err.contains("Permission denied"), "{err}");

    // ACLs are journaled: they survive a crash, and a checkpoint.
    let before = c.ok(&["fs", "getfacl", "/proj"]);
    assert!(before.contains("default:user:bob:rwx"), "{before}");
    c.kill_master();
    c.start_master();
    assert_eq!(c.ok(&["fs", "getfacl", "/proj"]), before);
    c.ok(&["fsadmin", "journal", "checkpoint"]);
    c.kill_master();
    c.start_master();
    assert!(c.ok(&["fs", "getfacl", "/proj/plan.txt"]).contains("user:bob:rwx"));
    assert_eq!(c.ok(&as_user(BOB, &["fs", "cat", "/proj/plan.txt"])), "the plan");

    // chmod narrows the mask; -b takes the ACL away (the owning group keeps its own entry).
    c.ok(&as_user(ALICE, &["fs", "chmod", "700", "/proj"]));
    assert!(c.ok(&["fs", "getfacl", "/proj"]).contains("\nmask::---\n"));
    assert!(!c.run(&as_user(BOB, &["fs", "ls", "/proj"])).status.success());
    c.ok(&as_user(ALICE, &["fs", "setfacl", "-b", "/proj"]));
    let facl = c.ok(&["fs", "getfacl", "/proj"]);
    assert_eq!(facl.lines().skip(3).collect::<Vec<_>>(), ["user::rwx", "group::r-x", "other::---"], "{facl}");
    assert!(perms_of(&c, "/proj").starts_with("drwxr-x--- alice"), "{}", perms_of(&c, "/proj"));
    assert!(!c.run(&as_user(BOB, &["fs", "ls", "/proj"])).status.success());
}
