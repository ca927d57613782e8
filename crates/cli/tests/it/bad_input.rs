//! Bad input: a clear error naming the path, key or port, a non-zero exit, nothing changed.

use crate::cluster::{free_port, Cluster};

#[test]
fn shell_errors_name_the_path_and_change_nothing() {
    let mut c = Cluster::new(&[]);
    c.format();
    c.start();
    c.ok(&["fs", "mkdir", "/d/sub"]);
    c.ok(&["fs", "touch", "/d/file"]);
    c.eventually("persistence", || !c.ok(&["fs", "ls", "-R", "/"]).contains("TO_BE_PERSISTED"));
    let before = c.ok(&["fs", "ls", "-R", "/"]);

    let (code, err) = c.fails(&["fs", "cat", "/missing"]);
    assert_eq!(code, 255);
    assert!(err.contains("Path \"/missing\" does not exist."), "{err}");

    let (code, err) = c.fails(&["fs", "mkdir", "/d"]);
    assert_eq!(code, 255);
    assert!(err.contains("already exists: /d"), "{err}");

    let (_, err) = c.fails(&["fs", "rm", "/d"]);
    assert!(err.contains("/d is a directory, to remove it, please use \"rm -R"), "{err}");

    let (_, err) = c.fails(&["fs", "touch", "/d/file"]);
    assert!(err.contains("already exists: /d/file"), "{err}");

    let (_, err) = c.fails(&["fs", "mkdir", "/d/file/below"]);
    assert!(err.contains("/d/file is a file"), "{err}");

    let (_, err) = c.fails(&["fs", "mv", "/missing", "/x"]);
    assert!(err.contains("Path \"/missing\" does not exist."), "{err}");

    let mount_src = c.path("mnt-src");
    std::fs::create_dir_all(&mount_src).unwrap();
    let (_, err) = c.fails(&["fs", "mount", "/d", mount_src.to_str().unwrap()]);
    assert!(err.contains("Mount point /d already exists"), "{err}");
    let (_, err) = c.fails(&["fs", "mount", "/m", "/definitely/not/here"]);
    assert!(err.contains("/definitely/not/here"), "{err}");
    let (_, err) = c.fails(&["fs", "mount", "/m", c.path("underFSStorage/d").to_str().unwrap()]);
    assert!(err.contains("is a prefix of"), "{err}");

    let (_, err) = c.fails(&["fs", "chmod", "999", "/d"]);
    assert!(err.contains("Invalid mode 999"), "{err}");
    let (_, err) = c.fails(&["fs", "ls", "relative/path"]);
    assert!(err.contains("Invalid path relative/path"), "{err}");

    assert_eq!(before, c.ok(&["fs", "ls", "-R", "/"]), "a failed command changed the namespace");

    // A mount at a fresh path works and lists the UFS; unmount leaves the UFS alone.
    std::fs::write(mount_src.join("inside"), b"i").unwrap();
    c.ok(&["fs", "mount", "/m", mount_src.to_str().unwrap()]);
    let mounts = c.ok(&["fs", "mount"]);
    assert!(
        mounts.lines().any(|l| l.starts_with(&mount_src.display().to_string()) && l.contains("  on  /m ")),
        "{mounts}"
    );
    assert_eq!(c.ok(&["fs", "cat", "/m/inside"]), "i");
    c.ok(&["fs", "unmount", "/m"]);
    assert!(mount_src.join("inside").exists());
}

#[test]
fn bad_configuration_is_refused_with_the_key_named() {
    let c = Cluster::new(&[]);
    let (code, err) = c.fails(&["fs", "-Dalluxio.user.block.size.bytes.default=64XB", "ls", "/"]);
    assert_eq!(code, 1);
    assert!(
        err.contains("alluxio.user.block.size.bytes.default") && err.contains("64XB") && err.contains("64MB"),
        "{err}"
    );
    let (_, err) = c.fails(&["fs", "-Dalluxio.user.blok.size.bytes.default=1", "ls", "/"]);
    assert!(err.contains("Unknown property key alluxio.user.blok.size.bytes.default"), "{err}");
    let (_, err) =
        c.fails(&["getConf", "-Dalluxio.master.worker.timeout=5 fortnights", "alluxio.master.worker.timeout"]);
    assert!(err.contains("alluxio.master.worker.timeout") && err.contains("duration"), "{err}");
    // The same mistake in the site file names the file.
    let site = c.path("conf/alluxio-site.properties");
    let mut text = std::fs::read_to_string(&site).unwrap();
    text.push_str("alluxio.master.journal.type=ZOOKEEPER\n");
    std::fs::write(&site, text).unwrap();
    let (_, err) = c.fails(&["getConf", "alluxio.master.journal.type"]);
    assert!(
        err.contains("alluxio.master.journal.type") && err.contains("alluxio-site.properties") && err.contains("UFS"),
        "{err}"
    );
}

#[test]
fn an_unformatted_journal_or_a_busy_port_stops_the_master_with_a_clear_message() {
    // Both journal types refuse an unformatted folder (only a new member of a running quorum
    // may start on one: ha::quorum_members_are_removed_and_added).
    for journal_type in ["EMBEDDED", "UFS"] {
        let c = Cluster::new(&[&format!("alluxio.master.journal.type={journal_type}")]);
        let o = c.run(&["process", "master"]);
        assert!(!o.status.success());
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains("has not been formatted") && err.contains("alluxio format"), "{err}");
    }
    let c = Cluster::new(&["alluxio.master.journal.type=UFS"]);

    c.format();
    let busy = std::net::TcpListener::bind(("0.0.0.0", c.master_port)).unwrap();
    let o = c.run(&["process", "master"]);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains(&c.master_port.to_string())
            && err.contains("alluxio.master.rpc.port")
            && err.contains("already in use"),
        "{err}"
    );
    drop(busy);

    // A journal written by a newer format version is refused, naming both versions and the procedure.
    let folder = c.path("journal/v1/logs");
    let mut header = vec![0u8; 32];
    header[..8].copy_from_slice(b"ALXRSJNL");
    header[8..12].copy_from_slice(&99u32.to_le_bytes());
    header[12..16].copy_from_slice(&1u32.to_le_bytes());
    let crc = crc32c_of(&header[..28]);
    header[28..32].copy_from_slice(&crc.to_le_bytes());
    std::fs::write(folder.join("0x0-0x7fffffffffffffff"), &header).unwrap();
    let o = c.run(&["process", "master"]);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("format version 99") && err.contains("fsadmin backup") && err.contains("alluxio-start.sh -i"),
        "{err}"
    );
    let _ = free_port();
}

fn crc32c_of(b: &[u8]) -> u32 {
    // Bitwise CRC32C (Castagnoli), to build a header without linking the journal crate.
    let mut crc = !0u32;
    for &x in b {
        crc ^= x as u32;
        for _ in 0..8 {
            crc = if crc & 1 != 0 { (crc >> 1) ^ 0x82F6_3B78 } else { crc >> 1 };
        }
    }
    !crc
}
