//! TLS on every port (`alluxio.network.tls.*`): a cluster whose master, workers and proxy speak
//! only TLS serves TLS clients on every path (gRPC, short-circuit, the block data port, the web
//! UI, the S3 API), and a caller on the wrong side is told what to change.
//!
//! The rest of the suite's main scenarios run over TLS too: `scripts/test-all.sh` runs them again
//! with `ALLUXIO_IT_TLS=1` ([`crate::cluster::suite_tls`]).

use std::io::{Read, Write};

use crate::cluster::{data, free_port, make_certs, tls_props, Cluster};
use crate::proxy::{http, start_with_proxy};
use crate::s3_server::aws_cli;

/// Certificates that live as long as the test.
struct Certs {
    _dir: tempfile::TempDir,
    props: Vec<String>,
    ca: String,
}

fn certs() -> Certs {
    let dir = tempfile::tempdir().unwrap();
    let (ca, cert, key) = make_certs(dir.path());
    Certs { props: tls_props(&ca, &cert, &key), ca: ca.display().to_string(), _dir: dir }
}

fn defines(props: &[String]) -> Vec<String> {
    props.iter().map(|p| format!("-D{p}")).collect()
}

#[test]
fn a_tls_cluster_serves_every_port_over_tls_and_tells_plaintext_callers_so() {
    let certs = certs();
    let data_port = free_port();
    let mut extra: Vec<String> = certs.props.clone();
    extra.push("alluxio.user.block.size.bytes.default=1MB".into());
    extra.push(format!("alluxio.worker.data.port={data_port}"));
    let mut c = start_with_proxy(&extra.iter().map(String::as_str).collect::<Vec<_>>());
    c.add_worker("127.0.0.2", &["-Dalluxio.worker.ramdisk.size=512MB", "-Dalluxio.worker.data.port=0"]);
    c.wait_workers(2);

    // Local writes and reads (gRPC, short-circuit), and a file only the other worker holds: read
    // from its block data port.
    let local = c.path("local.bin");
    let bytes = data(3 << 20, 1);
    std::fs::write(&local, &bytes).unwrap();
    let local = local.to_str().unwrap();
    c.ok(&["fs", "copyFromLocal", local, "/here"]);
    assert_eq!(c.run(&["fs", "cat", "/here"]).stdout, bytes);
    c.ok(&[
        "fs",
        "-Dalluxio.user.file.writetype.default=MUST_CACHE",
        "-Dalluxio.user.block.write.location.policy.class=MostAvailableFirstPolicy",
        "copyFromLocal",
        local,
        "/there",
    ]);
    let hosts = c.ok(&["fs", "stat", "/there"]);
    assert!(hosts.contains("127.0.0.2"), "{hosts}");
    assert_eq!(c.run(&["fs", "cat", "/there"]).stdout, bytes, "the remote read over TLS");

    // A plaintext client: refused, told what to set, nothing changed.
    let (_, err) = c.fails(&["fs", "-Dalluxio.network.tls.enabled=false", "mkdir", "/plain"]);
    assert!(err.contains("accepts TLS only") && err.contains("alluxio.network.tls.enabled=true"), "{err}");
    assert!(!c.run(&["fs", "stat", "/plain"]).status.success());

    // The web UI: HTTPS with the CA; plain HTTP gets a 400 that says why.
    let web = cluster_web_port(&c);
    let (status, body) = http(web, "GET", "/", &[], b"");
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("accepts TLS only"), "{body}");
    let page = curl(&certs.ca, &format!("https://localhost:{web}/"));
    assert!(page.contains("Alluxio Master"), "{page}");

    // The block data port, in plaintext: a refusal frame (FAILED_PRECONDITION), not a hang.
    let mut s = std::net::TcpStream::connect(("127.0.0.1", data_port)).unwrap();
    s.write_all(&alluxio_proto::data_port::request(1, 0, 1)).unwrap();
    let mut reply = Vec::new();
    s.read_to_end(&mut reply).unwrap();
    assert_eq!(alluxio_proto::data_port::refusal_code(reply[0]), alluxio_common::Code::FailedPrecondition);
    assert!(String::from_utf8_lossy(&reply[5..]).contains("accepts TLS only"));

    // The proxy: the aws CLI over HTTPS, trusting the cluster's CA.
    let endpoint = format!("https://127.0.0.1:{}/api/v1/s3", c.proxy_port);
    let aws = |args: &[&str]| {
        let mut all = vec!["--ca-bundle", certs.ca.as_str()];
        all.extend_from_slice(args);
        let o = aws_cli(&endpoint, "tlsuser", "secret", &all);
        assert!(o.status.success(), "aws {args:?}: {}", String::from_utf8_lossy(&o.stderr));
        String::from_utf8(o.stdout).unwrap()
    };
    aws(&["s3", "mb", "s3://tls"]);
    aws(&["s3", "cp", local, "s3://tls/obj"]);
    assert!(aws(&["s3", "ls", "s3://tls/"]).contains("obj"));
    assert_eq!(c.run(&["fs", "cat", "/tls/obj"]).stdout, bytes);
    let (status, body) = http(c.proxy_port, "GET", "/api/v1/proxy/info", &[], b"");
    assert_eq!(status, 400, "plain HTTP to the TLS proxy: {body}");
}

fn cluster_web_port(c: &Cluster) -> u16 {
    let site = std::fs::read_to_string(c.path("conf/alluxio-site.properties")).unwrap();
    site.lines().find_map(|l| l.strip_prefix("alluxio.master.web.port=")).unwrap().parse().unwrap()
}

fn curl(ca: &str, url: &str) -> String {
    let o = std::process::Command::new("curl").args(["-sS", "--cacert", ca, url]).output().unwrap();
    assert!(o.status.success(), "curl {url}: {}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn a_tls_client_of_a_plaintext_master_is_told_so() {
    let certs = certs();
    let mut c = Cluster::new(&[]);
    c.format();
    c.start_master();
    let mut args: Vec<String> = vec!["fs".into()];
    args.extend(defines(&certs.props));
    args.extend(["ls".into(), "/".into()]);
    let started = std::time::Instant::now();
    let (_, err) = c.fails(&args.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(err.contains("TLS handshake with localhost:") && err.contains("does not seem to speak TLS"), "{err}");
    assert!(started.elapsed() < std::time::Duration::from_secs(5), "a settings error is not retried");
}

#[test]
fn with_mutual_tls_only_clients_with_a_certificate_of_the_ca_get_in() {
    let certs = certs();
    let mut extra = certs.props.clone();
    extra.push("alluxio.network.tls.client.auth.required=true".into());
    let mut c = Cluster::new(&extra.iter().map(String::as_str).collect::<Vec<_>>());
    c.format();
    c.start();
    c.ok(&["fs", "mkdir", "/in"]);

    // Without a certificate: the client's own settings say it needs one.
    let (_, err) = c.fails(&["fs", "-Dalluxio.network.tls.cert.file=", "-Dalluxio.network.tls.key.file=", "ls", "/"]);
    assert!(err.contains("alluxio.network.tls.cert.file") && err.contains("require client certificates"), "{err}");
    // A client whose settings differ is refused by the server. (With TLS 1.3 the refusal comes
    // after the client finished its handshake; it names CertificateRequired when it arrives
    // before the connection's end does.)
    let (_, err) = c.fails(&[
        "fs",
        "-Dalluxio.network.tls.client.auth.required=false",
        "-Dalluxio.network.tls.cert.file=",
        "-Dalluxio.network.tls.key.file=",
        "mkdir",
        "/anonymous",
    ]);
    assert!(err.contains("cannot connect to the Alluxio master"), "{err}");
    // A certificate from another CA is refused too.
    let other = tempfile::tempdir().unwrap();
    let (_, cert, key) = make_certs(other.path());
    let (_, err) = c.fails(&[
        "fs",
        &format!("-Dalluxio.network.tls.cert.file={}", cert.display()),
        &format!("-Dalluxio.network.tls.key.file={}", key.display()),
        "mkdir",
        "/stranger",
    ]);
    assert!(err.contains("cannot connect to the Alluxio master"), "{err}");
    let ls = c.ok(&["fs", "ls", "/"]);
    assert!(ls.contains("/in") && !ls.contains("/anonymous") && !ls.contains("/stranger"), "{ls}");
    assert!(c.log("master").contains("TLS handshake from"), "the master logs refused handshakes");
}

#[test]
fn tls_settings_that_cannot_work_are_refused_at_start_naming_the_property() {
    let certs = certs();
    let c = Cluster::new(&[]);
    let run = |props: &[String]| {
        let mut args: Vec<String> = vec!["fs".into()];
        args.extend(defines(props));
        args.extend(["ls".into(), "/".into()]);
        c.fails(&args.iter().map(String::as_str).collect::<Vec<_>>()).1
    };
    let without = |key: &str| -> Vec<String> { certs.props.iter().filter(|p| !p.starts_with(key)).cloned().collect() };
    let err = run(&without("alluxio.network.tls.ca.file"));
    assert!(err.contains("alluxio.network.tls.ca.file: not set"), "{err}");
    let mut half = without("alluxio.network.tls.key.file");
    half.push("alluxio.network.tls.key.file=".into());
    assert!(run(&half).contains("alluxio.network.tls.key.file"), "{}", run(&half));
    // A private key others can read is refused.
    let key = certs.props.iter().find_map(|p| p.strip_prefix("alluxio.network.tls.key.file=")).unwrap().to_owned();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    let err = run(&certs.props);
    assert!(err.contains(&key) && err.contains("chmod 600"), "{err}");
    // A server refuses to start without a certificate.
    let mut args: Vec<String> = defines(&without("alluxio.network.tls.cert.file"));
    args.extend(["process".into(), "master".into()]);
    let o = c.run(&args.iter().map(String::as_str).collect::<Vec<_>>());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success() && err.contains("alluxio.network.tls.cert.file"), "{err}");
}
