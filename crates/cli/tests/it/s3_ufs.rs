//! S3 as under storage: a real S3 server (SeaweedFS) mounted into Alluxio.

use crate::cluster::{data, Cluster};
use crate::s3_server::{S3Server, SECRET_KEY};

#[test]
fn an_s3_bucket_mounts_reads_through_caches_and_takes_writes() {
    let s3 = S3Server::start(&["ufs"]);
    let mut c = Cluster::new(&["alluxio.user.block.size.bytes.default=1MB"]);
    c.format();
    c.start();

    // An object put straight into the bucket, before the mount.
    let pre = data(2_500_000, 1);
    std::fs::write(c.path("pre.bin"), &pre).unwrap();
    s3.put(&c.path("pre.bin"), "ufs", "data/in/pre.bin");

    let mut mount = vec!["fs", "mount"];
    let opts = s3.options();
    mount.extend(opts.iter().map(String::as_str));
    mount.extend(["/s3", "s3://ufs/data"]);
    c.ok(&mount);
    let table = c.ok(&["fs", "mount"]);
    assert!(table.contains("s3://ufs/data") && table.contains("/s3"), "{table}");
    assert!(!table.contains(SECRET_KEY) && table.contains("s3a.secretKey=******"), "{table}");

    // Cold read through to S3 caches the blocks; the warm read is the same bytes.
    assert!(c.ok(&["fs", "ls", "-R", "/s3"]).contains("/s3/in/pre.bin"));
    assert_eq!(c.run(&["fs", "cat", "/s3/in/pre.bin"]).stdout, pre);
    c.eventually("pre.bin cached", || c.ok(&["fs", "ls", "/s3/in/pre.bin"]).contains("100%"));
    assert_eq!(c.run(&["fs", "cat", "/s3/in/pre.bin"]).stdout, pre);
    assert_eq!(c.run(&["fs", "tail", "-c", "1000", "/s3/in/pre.bin"]).stdout, &pre[pre.len() - 1000..]);

    // CACHE_THROUGH and ASYNC_THROUGH writes end up as objects.
    let w = data(3_000_000, 2);
    std::fs::write(c.path("w.bin"), &w).unwrap();
    let src = c.path("w.bin");
    c.ok(&[
        "fs",
        "-Dalluxio.user.file.writetype.default=CACHE_THROUGH",
        "copyFromLocal",
        src.to_str().unwrap(),
        "/s3/ct.bin",
    ]);
    assert!(s3.keys("ufs", "data/").contains(&"data/ct.bin".to_string()), "{:?}", s3.keys("ufs", "data/"));
    c.ok(&[
        "fs",
        "-Dalluxio.user.file.writetype.default=ASYNC_THROUGH",
        "copyFromLocal",
        src.to_str().unwrap(),
        "/s3/at.bin",
    ]);
    c.eventually("ASYNC_THROUGH persisted", || s3.keys("ufs", "data/").contains(&"data/at.bin".to_string()));
    let got = s3.aws(&["s3", "cp", "s3://ufs/data/at.bin", c.path("back.bin").to_str().unwrap()]);
    assert!(got.status.success());
    assert_eq!(std::fs::read(c.path("back.bin")).unwrap(), w);
    // No temporary objects left behind.
    assert!(s3.keys("ufs", "").iter().all(|k| !k.contains(".alluxio.0x")), "{:?}", s3.keys("ufs", ""));

    // Directories, renames (copy + delete) and deletes reach the bucket.
    c.ok(&["fs", "mkdir", "/s3/newdir"]);
    c.ok(&[
        "fs",
        "-Dalluxio.user.file.writetype.default=CACHE_THROUGH",
        "copyFromLocal",
        src.to_str().unwrap(),
        "/s3/newdir/f",
    ]);
    c.ok(&["fs", "mv", "/s3/newdir", "/s3/moved"]);
    let keys = s3.keys("ufs", "data/");
    assert!(
        keys.contains(&"data/moved/f".to_string()) && !keys.iter().any(|k| k.starts_with("data/newdir")),
        "{keys:?}"
    );
    assert_eq!(c.run(&["fs", "cat", "/s3/moved/f"]).stdout, w);
    c.ok(&["fs", "rm", "/s3/ct.bin"]);
    assert!(!s3.keys("ufs", "data/").contains(&"data/ct.bin".to_string()));
    c.ok(&["fs", "rm", "-R", "/s3/moved"]);
    assert!(!s3.keys("ufs", "data/").iter().any(|k| k.starts_with("data/moved")));

    // A file put into the bucket after the mount shows up (metadata sync on demand).
    s3.put(&c.path("pre.bin"), "ufs", "data/later.bin");
    c.ok(&["fs", "loadMetadata", "/s3"]);
    assert_eq!(c.run(&["fs", "cat", "/s3/later.bin"]).stdout, pre);

    // UFS modes: readOnly refuses what would write to S3, noAccess also stops reads of data not
    // cached, readWrite brings both back; cached data is served all along.
    c.ok(&["fsadmin", "ufs", "--mode", "readOnly", "s3://ufs/data"]);
    let (_, err) = c.fails(&[
        "fs",
        "-Dalluxio.user.file.writetype.default=CACHE_THROUGH",
        "copyFromLocal",
        src.to_str().unwrap(),
        "/s3/ro.bin",
    ]);
    assert!(err.contains("READ_ONLY"), "{err}");
    assert!(!s3.keys("ufs", "data/").contains(&"data/ro.bin".to_string()));
    c.ok(&["fs", "free", "/s3/later.bin"]);
    c.eventually("later.bin freed", || c.ok(&["fs", "ls", "/s3/later.bin"]).contains(" 0%"));
    c.ok(&["fsadmin", "ufs", "--mode", "noAccess", "s3://ufs/data"]);
    assert_eq!(c.run(&["fs", "cat", "/s3/in/pre.bin"]).stdout, pre);
    std::thread::sleep(std::time::Duration::from_millis(1100)); // the worker re-reads the mode each second
    let (_, err) = c.fails(&["fs", "cat", "/s3/later.bin"]);
    assert!(err.contains("NO_ACCESS"), "{err}");
    c.ok(&["fsadmin", "ufs", "--mode", "readWrite", "s3://ufs/data"]);
    std::thread::sleep(std::time::Duration::from_millis(1100));
    assert_eq!(c.run(&["fs", "cat", "/s3/later.bin"]).stdout, pre);
    let (_, err) = c.fails(&["fsadmin", "ufs", "--mode", "sometimes", "s3://ufs/data"]);
    assert!(err.contains("sometimes") && err.contains("--mode"), "{err}");
    let (_, err) = c.fails(&["fsadmin", "ufs", "--mode", "readOnly", "s3://elsewhere"]);
    assert!(err.contains("s3://elsewhere"), "{err}");

    // The secret never reaches the logs.
    for role in ["master", "worker"] {
        assert!(!c.log(role).contains(SECRET_KEY), "the {role} log shows the secret key");
    }
    // Bad mounts name the problem and change nothing.
    let (_, err) = c.fails(&["fs", "mount", "/bad", "s3://"]);
    assert!(err.contains("s3://"), "{err}");
    let (_, err) = c.fails(&["fs", "mount", "--option", "s3a.accessKeyId=x", "/bad", "s3://ufs/x"]);
    assert!(err.contains("s3a.secretKey"), "{err}");
    // A bucket the server does not have, and an HDFS namenode nobody runs.
    let mut missing = vec!["fs", "mount"];
    missing.extend(opts.iter().map(String::as_str));
    missing.extend(["/bad", "s3://no-such-bucket/x"]);
    let started = std::time::Instant::now();
    let (_, err) = c.fails(&missing);
    assert!(err.contains("UFS path s3://no-such-bucket/x does not exist"), "{err}");
    let (_, err) = c.fails(&["fs", "mount", "/bad", "hdfs://127.0.0.1:1/x"]);
    assert!(err.contains("hdfs://127.0.0.1:1/x") && err.contains("is not accessible"), "{err}");
    assert!(started.elapsed() < std::time::Duration::from_secs(10), "bad mounts took {:?}", started.elapsed());
    assert!(!c.ok(&["fs", "ls", "/"]).contains("/bad"));
}
