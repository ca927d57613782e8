//! This process's TLS settings (`alluxio.network.tls.*`) as rustls configurations: the one its
//! servers accept with and the ones its clients connect with.
//!
//! Every port of a cluster speaks TLS or none does: a client trusts the servers whose
//! certificates chain to `alluxio.network.tls.ca.file` and name the host it dialed; servers
//! present `cert.file`/`key.file`; with `client.auth.required` they also demand a client
//! certificate from the same CA (mutual TLS), which clients present when they have one.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::sync::Arc;

use alluxio_common::Conf;
use rustls::crypto::CryptoProvider;
use rustls::server::WebPkiClientVerifier;
use rustls::{ClientConfig, RootCertStore, ServerConfig};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

use crate::error::ProtoError;

pub const ENABLED: &str = "alluxio.network.tls.enabled";
pub const CERT_FILE: &str = "alluxio.network.tls.cert.file";
pub const KEY_FILE: &str = "alluxio.network.tls.key.file";
pub const CA_FILE: &str = "alluxio.network.tls.ca.file";
pub const CLIENT_AUTH: &str = "alluxio.network.tls.client.auth.required";

/// The application protocol a TLS connection carries, named in the handshake (ALPN) so one
/// port can serve several: the embedded journal port takes Raft frames and gRPC.
pub const ALPN_H2: &[u8] = b"h2";
pub const ALPN_HTTP1: &[u8] = b"http/1.1";
pub const ALPN_RAFT: &[u8] = b"alluxio-raft";

/// What a client connection carries, which picks the protocol it offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// gRPC (HTTP/2) to a master or worker.
    Grpc,
    /// Raft frames between masters (`alluxio_journal::raft::wire`).
    Raft,
    /// The block data port's frames.
    Data,
}

/// Loaded TLS configurations.
pub struct Tls {
    /// `None` in a process without a certificate of its own (a client).
    server: Option<Arc<ServerConfig>>,
    grpc: Arc<ClientConfig>,
    raft: Arc<ClientConfig>,
    data: Arc<ClientConfig>,
}

impl std::fmt::Debug for Tls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Keys stay out of logs: only whether this side can serve.
        f.debug_struct("Tls").field("serves", &self.server.is_some()).finish()
    }
}

fn bad(property: &'static str, path: &str, reason: impl std::fmt::Display) -> ProtoError {
    ProtoError::Tls { property, path: path.to_owned(), reason: reason.to_string() }
}

fn setting(reason: impl std::fmt::Display) -> ProtoError {
    ProtoError::TlsSetting { reason: reason.to_string() }
}

impl Tls {
    /// The configurations `conf` asks for; `None` when TLS is off. A server (`serves`) needs a
    /// certificate and key; a client uses them only for mutual TLS.
    pub fn from_conf(conf: &Conf, serves: bool) -> Result<Option<Arc<Tls>>, ProtoError> {
        // An empty value unsets a file (`-Dalluxio.network.tls.cert.file=` on a client).
        let get = |k: &str| conf.get(k).map(|v| v.filter(|v| !v.trim().is_empty())).map_err(setting);
        if !conf.get_bool(ENABLED).map_err(setting)? {
            return Ok(None);
        }
        let Some(ca) = get(CA_FILE)? else {
            return Err(bad(CA_FILE, "", "not set, but TLS is on: name the PEM file of the CA certificates that sign this cluster's certificates"));
        };
        let roots = Arc::new(roots(&ca)?);
        let identity = match (get(CERT_FILE)?, get(KEY_FILE)?) {
            (Some(c), Some(k)) => Some((chain(&c)?, key(&k)?)),
            (None, None) => None,
            (Some(_), None) => return Err(bad(KEY_FILE, "", "a certificate is set but not its private key")),
            (None, Some(_)) => return Err(bad(CERT_FILE, "", "a private key is set but not its certificate")),
        };
        let mtls = conf.get_bool(CLIENT_AUTH).map_err(setting)?;
        if mtls && identity.is_none() {
            return Err(bad(CERT_FILE, "", "not set, but servers require client certificates (alluxio.network.tls.client.auth.required=true): set it and alluxio.network.tls.key.file"));
        }
        if serves && identity.is_none() {
            return Err(bad(
                CERT_FILE,
                "",
                "not set, but TLS is on and this process serves: set it and alluxio.network.tls.key.file",
            ));
        }
        let provider = Arc::new(provider());
        let server = match &identity {
            Some((c, k)) if serves => Some(server_config(&provider, roots.clone(), mtls, c.clone(), k.clone_key())?),
            _ => None,
        };
        let client = client_config(&provider, roots, identity)?;
        let with_alpn = |p: &[u8]| {
            let mut c = client.clone();
            c.alpn_protocols = vec![p.to_vec()];
            Arc::new(c)
        };
        Ok(Some(Arc::new(Tls {
            server,
            grpc: with_alpn(ALPN_H2),
            raft: with_alpn(ALPN_RAFT),
            data: Arc::new(client.clone()),
        })))
    }

    pub fn server(&self) -> Option<&Arc<ServerConfig>> {
        self.server.as_ref()
    }

    pub fn client(&self, p: Protocol) -> &Arc<ClientConfig> {
        match p {
            Protocol::Grpc => &self.grpc,
            Protocol::Raft => &self.raft,
            Protocol::Data => &self.data,
        }
    }
}

/// ring's suites with AES-128-GCM first: as safe, and faster for block data than AES-256.
fn provider() -> CryptoProvider {
    let mut p = rustls::crypto::ring::default_provider();
    p.cipher_suites.sort_by_key(|s| s.suite() != rustls::CipherSuite::TLS13_AES_128_GCM_SHA256);
    p
}

fn server_config(
    provider: &Arc<CryptoProvider>,
    roots: Arc<RootCertStore>,
    mtls: bool,
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
) -> Result<Arc<ServerConfig>, ProtoError> {
    let b =
        ServerConfig::builder_with_provider(provider.clone()).with_safe_default_protocol_versions().map_err(setting)?;
    let b = if mtls {
        let v = WebPkiClientVerifier::builder_with_provider(roots, provider.clone()).build().map_err(setting)?;
        b.with_client_cert_verifier(v)
    } else {
        b.with_no_client_auth()
    };
    let mut c =
        b.with_single_cert(chain, key).map_err(|e| bad(KEY_FILE, "", format!("does not fit the certificate: {e}")))?;
    c.alpn_protocols = vec![ALPN_H2.to_vec(), ALPN_HTTP1.to_vec(), ALPN_RAFT.to_vec()];
    Ok(Arc::new(c))
}

fn client_config(
    provider: &Arc<CryptoProvider>,
    roots: Arc<RootCertStore>,
    identity: Option<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>)>,
) -> Result<ClientConfig, ProtoError> {
    let b = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(setting)?
        .with_root_certificates(roots);
    match identity {
        Some((c, k)) => b.with_client_auth_cert(c, k).map_err(|e| bad(KEY_FILE, "", e)),
        None => Ok(b.with_no_client_auth()),
    }
}

fn roots(path: &str) -> Result<RootCertStore, ProtoError> {
    let mut store = RootCertStore::empty();
    for c in chain_of(CA_FILE, path)? {
        store.add(c).map_err(|e| bad(CA_FILE, path, e))?;
    }
    Ok(store)
}

fn chain(path: &str) -> Result<Vec<CertificateDer<'static>>, ProtoError> {
    chain_of(CERT_FILE, path)
}

fn chain_of(property: &'static str, path: &str) -> Result<Vec<CertificateDer<'static>>, ProtoError> {
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(|e| bad(property, path, e))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| bad(property, path, e))?;
    if certs.is_empty() {
        return Err(bad(property, path, "holds no PEM certificate"));
    }
    Ok(certs)
}

/// The private key, from a file only its owner can read (as ssh insists for its keys).
fn key(path: &str) -> Result<PrivateKeyDer<'static>, ProtoError> {
    let mode = std::fs::metadata(Path::new(path)).map_err(|e| bad(KEY_FILE, path, e))?.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(bad(
            KEY_FILE,
            path,
            format!("it is a private key but its mode is {mode:o}: make it readable by its owner only (chmod 600)"),
        ));
    }
    PrivateKeyDer::from_pem_file(path).map_err(|e| bad(KEY_FILE, path, e))
}
