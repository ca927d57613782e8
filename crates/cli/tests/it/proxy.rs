//! The proxy (`alluxio-start.sh proxy`, port `alluxio.proxy.web.port`): Alluxio's REST API with
//! Alluxio's own Python client, and the S3 API with boto3 and the aws CLI.

use std::io::{Read, Write};
use std::process::Command;

use crate::cluster::{data, repo, Cluster};
use crate::s3_server::aws_cli;

pub(crate) fn start_with_proxy(extra: &[&str]) -> Cluster {
    let mut c = Cluster::new(extra);
    c.format();
    c.start();
    // S3 requests act as their access key's user and buckets are top-level directories: as
    // with Alluxio, the superuser opens the root to them.
    c.ok(&["fs", "chmod", "777", "/"]);
    let o = c.script("alluxio-start.sh", &["proxy"]);
    assert!(
        o.status.success(),
        "alluxio-start.sh proxy: {}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    c
}

pub(crate) fn python(script: &str, args: &[&str]) -> String {
    let o = crate::cluster::output_within(
        Command::new("python3").arg(repo().join("tests/clients").join(script)).args(args),
        crate::cluster::COMMAND_LIMIT,
    );
    let out = format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
    assert!(o.status.success() && out.contains("OK"), "{script} failed:\n{out}");
    out
}

/// One raw HTTP/1.1 request; returns (status code, body).
pub(crate) fn http(port: u16, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> (u16, String) {
    try_http(port, method, path, headers, body).unwrap()
}

/// [`http`], with a failed connection as an error (the server went away mid-request).
pub(crate) fn try_http(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> std::io::Result<(u16, String)> {
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    let mut bytes = req.into_bytes();
    bytes.extend_from_slice(body);
    let resp = match crate::cluster::suite_tls() {
        None => {
            let mut s = std::net::TcpStream::connect(("127.0.0.1", port))?;
            s.write_all(&bytes)?;
            let mut resp = Vec::new();
            s.read_to_end(&mut resp)?;
            resp
        }
        Some(_) => https_exchange(port, &bytes)?,
    };
    let text = String::from_utf8_lossy(&resp).into_owned();
    let status = text.split(' ').nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b.to_owned()).unwrap_or_default();
    Ok((status, body))
}

/// One request over TLS (the suite's TLS run), with the client library's own transport.
fn https_exchange(port: u16, request: &[u8]) -> std::io::Result<Vec<u8>> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut conf = alluxio_common::Conf::defaults();
    crate::cluster::with_suite_tls(&mut conf);
    let transport = alluxio_proto::transport::Transport::client(&conf).map_err(std::io::Error::other)?;
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    rt.block_on(async {
        let mut s = transport.connect(&format!("127.0.0.1:{port}"), alluxio_proto::transport::Protocol::Data).await?;
        s.write_all(request).await?;
        let mut resp = Vec::new();
        // A TLS peer may end without close_notify once it sent its answer.
        match s.read_to_end(&mut resp).await {
            Ok(_) => Ok(resp),
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof && !resp.is_empty() => Ok(resp),
            Err(e) => Err(e),
        }
    })
}

#[test]
fn alluxios_python_rest_client_works_against_the_proxy() {
    let c = start_with_proxy(&["alluxio.user.block.size.bytes.default=4MB"]);
    let outside = c.path("outside");
    std::fs::create_dir_all(&outside).unwrap();
    python("rest_client.py", &[&c.proxy_port.to_string(), outside.to_str().unwrap()]);
    // Errors are JSON with Alluxio's status names, whatever the failure.
    let (status, body) = http(c.proxy_port, "POST", "/api/v1/paths//nowhere/get-status", &[], b"");
    assert_eq!(status, 500, "{body}");
    assert!(body.contains(r#""statusCode":"NOT_FOUND""#) && body.contains("/nowhere"), "{body}");
    let (_, body) = http(c.proxy_port, "POST", "/api/v1/paths//x/create-directory", &[], b"{not json");
    assert!(body.contains("INVALID_ARGUMENT"), "{body}");
    let (_, body) = http(c.proxy_port, "POST", "/api/v1/streams/999/read", &[], b"");
    assert!(body.contains("NOT_FOUND") && body.contains("999"), "{body}");
    let (status, body) = http(c.proxy_port, "GET", "/api/v1/proxy/info", &[], b"");
    assert!(status == 200 && body.contains("startTimeMs"), "{body}");
    assert!(!c.ok(&["fs", "ls", "/"]).contains("/x"), "a failed call created something");
    let o = c.script("alluxio-stop.sh", &["proxy"]);
    assert!(o.status.success());
    assert!(std::net::TcpStream::connect(("127.0.0.1", c.proxy_port)).is_err(), "the proxy still runs");
}

#[test]
fn boto3_and_the_aws_cli_use_the_s3_api() {
    let c = start_with_proxy(&["alluxio.user.block.size.bytes.default=16MB", "alluxio.worker.ramdisk.size=512MB"]);
    let endpoint = format!("http://127.0.0.1:{}/api/v1/s3", c.proxy_port);
    python("s3_boto3.py", &[&endpoint]);
    // What boto3 wrote is an Alluxio file.
    assert_eq!(c.run(&["fs", "cat", "/bkt/a/b/small.txt"]).stdout, b"v2");
    assert!(c.ok(&["fs", "ls", "/bkt/mp/blob.bin"]).contains("104857600"));
    assert!(!c.ok(&["fs", "ls", "-R", "/"]).contains(".alluxio_s3_tmp"), "temporary files left behind");

    // The aws CLI: cp, sync, ls and s3api.
    let aws = |args: &[&str]| {
        let o = aws_cli(&endpoint, "cliuser", "clisecret", args);
        let out = format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
        assert!(o.status.success(), "aws {args:?}:\n{out}");
        out
    };
    aws(&["s3", "mb", "s3://cli"]);
    // The access key names the Alluxio user: it owns what it creates and lists its own buckets.
    assert!(c.ok(&["fs", "ls", "-d", "/cli"]).contains("cliuser"), "{}", c.ok(&["fs", "ls", "-d", "/cli"]));
    let buckets = aws(&["s3", "ls"]);
    assert!(buckets.contains(" cli") && !buckets.contains(" bkt"), "{buckets}");
    let dir = c.path("sync-src");
    std::fs::create_dir_all(dir.join("nested")).unwrap();
    let files: Vec<(String, Vec<u8>)> =
        vec![("one.bin".into(), data(5 << 20, 1)), ("nested/two.bin".into(), data(12345, 2)), ("three".into(), vec![])];
    for (name, bytes) in &files {
        std::fs::write(dir.join(name), bytes).unwrap();
    }
    aws(&["s3", "sync", dir.to_str().unwrap(), "s3://cli/synced"]);
    let ls = aws(&["s3", "ls", "--recursive", "s3://cli/synced/"]);
    for (name, _) in &files {
        assert!(ls.contains(&format!("synced/{name}")), "{ls}");
    }
    let back = c.path("sync-back");
    aws(&["s3", "sync", "s3://cli/synced", back.to_str().unwrap()]);
    for (name, bytes) in &files {
        assert_eq!(&std::fs::read(back.join(name)).unwrap(), bytes, "{name}");
    }
    let big = c.path("big.bin");
    std::fs::write(&big, data(20 << 20, 3)).unwrap();
    aws(&["s3", "cp", big.to_str().unwrap(), "s3://cli/big.bin"]); // multipart (8 MiB parts) in the CLI
    aws(&["s3", "cp", "s3://cli/big.bin", c.path("big.back").to_str().unwrap()]);
    assert_eq!(std::fs::read(c.path("big.back")).unwrap(), std::fs::read(&big).unwrap());
    let head = aws(&["s3api", "head-object", "--bucket", "cli", "--key", "big.bin"]);
    assert!(head.contains("20971520"), "{head}");
    aws(&["s3", "rm", "--recursive", "s3://cli/synced"]);
    assert!(!aws(&["s3", "ls", "--recursive", "s3://cli/"]).contains("synced/"));

    // Bad input gets S3 errors in XML and changes nothing.
    let before = c.ok(&["fs", "ls", "-R", "/"]);
    let p = c.proxy_port;
    let (status, body) = http(
        p,
        "POST",
        "/api/v1/s3/cli?delete",
        &[("Content-Type", "application/xml")],
        b"<Delete><Object><Key>big.bin",
    );
    assert!(status == 400 && body.contains("<Code>MalformedXML</Code>"), "{status} {body}");
    let (status, body) = http(p, "GET", "/api/v1/s3/cli/big.bin", &[("Range", "bytes=999999999-")], b"");
    assert!(status == 416 && body.contains("InvalidRange"), "{status} {body}");
    let (status, body) = http(p, "PUT", "/api/v1/s3/Not_A_Bucket", &[], b"");
    assert!(status == 400 && body.contains("InvalidBucketName"), "{status} {body}");
    let (status, body) = http(p, "PUT", "/api/v1/s3/cli/..%2F..%2Fescape", &[], b"x");
    assert!(status == 400 && body.contains("InvalidArgument"), "{status} {body}");
    let (status, body) = http(p, "PUT", "/api/v1/s3/cli/a%2F..%2F..%2Fescape", &[], b"x");
    assert!(status == 400 && body.contains("InvalidArgument"), "{status} {body}");
    let (status, body) = http(p, "GET", "/api/v1/s3/cli/missing", &[], b"");
    assert!(status == 404 && body.contains("<Code>NoSuchKey</Code>"), "{status} {body}");
    assert_eq!(c.ok(&["fs", "ls", "-R", "/"]), before, "bad requests changed the namespace");
}

#[test]
fn s3cmd_works_against_the_proxy_root() {
    let c = start_with_proxy(&[]);
    let cfg = c.path("s3cfg");
    let host = format!("127.0.0.1:{}", c.proxy_port);
    std::fs::write(
        &cfg,
        format!(
            "[default]\naccess_key = anyuser\nsecret_key = anysecret\nhost_base = {host}\nhost_bucket = {host}\n\
             use_https = False\nbucket_location = us-east-1\nsignature_v2 = False\n"
        ),
    )
    .unwrap();
    let s3cmd = |args: &[&str]| {
        let o = crate::cluster::output_within(
            Command::new("s3cmd").arg("-c").arg(&cfg).args(args),
            crate::cluster::COMMAND_LIMIT,
        );
        let out = format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
        assert!(o.status.success(), "s3cmd {args:?}:\n{out}");
        out
    };
    let f = c.path("up.bin");
    let bytes = data(3 << 20, 5);
    std::fs::write(&f, &bytes).unwrap();
    s3cmd(&["mb", "s3://cmd"]);
    // s3cmd checks the returned ETag against the file's MD5.
    let put = s3cmd(&["put", f.to_str().unwrap(), "s3://cmd/dir/up.bin"]);
    assert!(!put.contains("MD5 Sums don't match"), "{put}");
    assert!(s3cmd(&["ls", "-r", "s3://cmd"]).contains("s3://cmd/dir/up.bin"));
    let back = c.path("down.bin");
    s3cmd(&["get", "s3://cmd/dir/up.bin", back.to_str().unwrap()]);
    assert_eq!(std::fs::read(&back).unwrap(), bytes);
    s3cmd(&["del", "s3://cmd/dir/up.bin"]);
    s3cmd(&["rb", "s3://cmd"]);
    assert!(!c.ok(&["fs", "ls", "/"]).contains("/cmd"));
}

#[test]
fn with_keys_configured_the_s3_api_checks_signatures() {
    let c =
        start_with_proxy(&["alluxio.proxy.s3.auth.access.key=admin", "alluxio.proxy.s3.auth.secret.key=s3cr3t-key"]);
    let root = format!("http://127.0.0.1:{}", c.proxy_port);
    let ok = aws_cli(&root, "admin", "s3cr3t-key", &["s3", "mb", "s3://signed"]);
    assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stderr));
    let f = c.path("f");
    std::fs::write(&f, b"signed bytes").unwrap();
    let ok = aws_cli(&root, "admin", "s3cr3t-key", &["s3", "cp", f.to_str().unwrap(), "s3://signed/f"]);
    assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stderr));
    assert_eq!(c.run(&["fs", "cat", "/signed/f"]).stdout, b"signed bytes");
    // A wrong secret, an unknown key, no signature, or the unverifiable prefixed endpoint: refused.
    let bad = aws_cli(&root, "admin", "wrong", &["s3", "cp", f.to_str().unwrap(), "s3://signed/g"]);
    assert!(!bad.status.success() && String::from_utf8_lossy(&bad.stderr).contains("SignatureDoesNotMatch"));
    let bad = aws_cli(&root, "someone", "else", &["s3", "ls", "s3://signed"]);
    assert!(!bad.status.success());
    let (status, body) = http(c.proxy_port, "GET", "/signed/f", &[], b"");
    assert!(status == 403 && body.contains("AccessDenied"), "{status} {body}");
    let prefixed = aws_cli(&format!("{root}/api/v1/s3"), "admin", "s3cr3t-key", &["s3", "ls", "s3://signed"]);
    let err = String::from_utf8_lossy(&prefixed.stderr);
    assert!(!prefixed.status.success() && err.contains("AccessDenied"), "{err}");
    let (status, body) = http(c.proxy_port, "GET", "/api/v1/s3/signed", &[], b"");
    assert!(status == 403 && body.contains("<Code>AccessDenied</Code>") && body.contains("no /api/v1/s3"), "{body}");
    assert!(!c.ok(&["fs", "ls", "/signed"]).contains("/signed/g"));
    assert!(!c.log("proxy").contains("s3cr3t-key"), "the secret reached the log");
    // REST v1 on the same port authenticates too: HTTP Basic with a configured key pair.
    let (status, body) = http(c.proxy_port, "GET", "/api/v1/proxy/info?raw_configuration=true", &[], b"");
    assert!(status == 401 && body.contains("UNAUTHENTICATED"), "{status} {body}");
    let (status, body) = http(c.proxy_port, "POST", "/api/v1/paths//signed/f/delete", &[], b"");
    assert!(status == 401 && body.contains("HTTP Basic"), "{status} {body}");
    let wrong = [("Authorization", "Basic YWRtaW46d3Jvbmc=")]; // admin:wrong
    assert_eq!(http(c.proxy_port, "POST", "/api/v1/paths//signed/f/delete", &wrong, b"").0, 401);
    assert_eq!(c.run(&["fs", "cat", "/signed/f"]).stdout, b"signed bytes", "an unauthenticated call changed data");
    let admin = [("Authorization", "Basic YWRtaW46czNjcjN0LWtleQ==")]; // admin:s3cr3t-key
    let (_, info) = http(c.proxy_port, "GET", "/api/v1/proxy/info?raw_configuration=true", &admin, b"");
    assert!(info.contains("alluxio.proxy.s3.auth.secret.key") && !info.contains("s3cr3t-key"), "{info}");
}

#[test]
fn oversize_s3_bodies_are_refused_and_leave_nothing() {
    let c = start_with_proxy(&["alluxio.proxy.s3.max.body.size=1MB"]);
    let endpoint = format!("http://127.0.0.1:{}/api/v1/s3", c.proxy_port);
    let o = aws_cli(&endpoint, "u", "s", &["s3", "mb", "s3://lim"]);
    assert!(o.status.success());
    let f = c.path("two-mb");
    std::fs::write(&f, data(2 << 20, 9)).unwrap();
    let o = aws_cli(
        &endpoint,
        "u",
        "s",
        &["s3api", "put-object", "--bucket", "lim", "--key", "k", "--body", f.to_str().unwrap()],
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success() && err.contains("EntityTooLarge"), "{err}");
    assert!(!c.ok(&["fs", "ls", "-R", "/lim"]).contains('k'), "{}", c.ok(&["fs", "ls", "-R", "/"]));
}
