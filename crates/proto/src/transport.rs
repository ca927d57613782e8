//! How this process's connections are carried: plaintext TCP, or TLS on every port
//! ([`crate::tls`]). One [`Transport`] per process, handed to whatever dials or listens.
//!
//! A TLS server tells a plaintext caller what is wrong instead of dropping it: an HTTP or gRPC
//! caller gets an answer it can show (HTTP 400, gRPC FAILED_PRECONDITION) naming the setting;
//! a TLS client whose handshake fails says which side is likely misconfigured.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::io::{AsyncRead, AsyncWrite, BufReader, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tonic::transport::server::{Connected, TcpConnectInfo};
use tonic::transport::{Channel, Endpoint};

pub use crate::tls::Protocol;
use crate::tls::{Tls, ENABLED};

/// The first byte of every TLS connection (a handshake record).
const TLS_HANDSHAKE: u8 = 0x16;
/// Read buffer under a TLS stream: rustls reads the socket 4 KiB at a time, which for block
/// data means a system call per 4 KiB without it.
const TLS_READ_BUFFER: usize = 256 << 10;
/// The largest TLS record on the wire (16 KiB of data, its header and tag, with room).
const MAX_TLS_RECORD: usize = 17 << 10;
/// How long a connection may take to show its first byte and finish its handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Plaintext (the default) or TLS with this process's certificates.
#[derive(Clone, Default, Debug)]
pub struct Transport {
    tls: Option<Arc<Tls>>,
}

impl Transport {
    /// For a process that only dials (CLI, client library, proxy's and FUSE's clients).
    pub fn client(conf: &alluxio_common::Conf) -> Result<Transport, crate::error::ProtoError> {
        Ok(Transport { tls: Tls::from_conf(conf, false)? })
    }

    /// For a process that also listens (master, worker, proxy): needs its certificate.
    pub fn server(conf: &alluxio_common::Conf) -> Result<Transport, crate::error::ProtoError> {
        Ok(Transport { tls: Tls::from_conf(conf, true)? })
    }

    pub fn is_tls(&self) -> bool {
        self.tls.is_some()
    }

    /// `https` or `http`, for URLs this process prints.
    pub fn scheme(&self) -> &'static str {
        if self.is_tls() {
            "https"
        } else {
            "http"
        }
    }

    /// The rustls server configuration, for servers that are not async (the block data port).
    pub fn server_config(&self) -> Option<Arc<rustls::ServerConfig>> {
        self.tls.as_ref().and_then(|t| t.server().cloned())
    }

    /// An endpoint for gRPC to `addr` (`host:port`), to be configured and then opened with
    /// [`Transport::channel`].
    pub fn endpoint(addr: &str) -> Result<Endpoint, tonic::transport::Error> {
        Endpoint::from_shared(format!("http://{addr}"))
    }

    /// A lazily connected gRPC channel over this transport.
    pub fn channel(&self, endpoint: &Endpoint) -> Channel {
        match &self.tls {
            None => endpoint.connect_lazy(),
            Some(_) => endpoint.connect_with_connector_lazy(Connector { transport: self.clone() }),
        }
    }

    /// Dials `addr` (`host:port`) for `protocol`; over TLS the server's certificate must chain to
    /// the CA and name `host`.
    pub async fn connect(&self, addr: &str, protocol: Protocol) -> io::Result<Stream> {
        let tcp = TcpStream::connect(addr).await?;
        tcp.set_nodelay(true)?;
        let Some(tls) = &self.tls else { return Ok(Stream::Plain(tcp)) };
        let host = addr.rsplit_once(':').map_or(addr, |(h, _)| h).trim_start_matches('[').trim_end_matches(']');
        let name = rustls_pki_types::ServerName::try_from(host.to_owned()).map_err(|e| {
            io::Error::new(io::ErrorKind::InvalidInput, format!("{host} is not a host name TLS can check: {e}"))
        })?;
        let connector = tokio_rustls::TlsConnector::from(tls.client(protocol).clone());
        let tcp = BufReader::with_capacity(TLS_READ_BUFFER, tcp);
        match tokio::time::timeout(HANDSHAKE_TIMEOUT, connector.connect(name, tcp)).await {
            Ok(Ok(s)) => Ok(Stream::Tls(Box::new(s.into()))),
            Ok(Err(e)) => Err(handshake_failed(addr, host, e)),
            Err(_) => Err(io::Error::new(io::ErrorKind::TimedOut, format!("TLS handshake with {addr} timed out"))),
        }
    }

    /// Finishes accepting `tcp`: over TLS, the handshake; a plaintext caller of a TLS port is
    /// answered with what it must change and `None` is returned.
    pub async fn accept(&self, tcp: TcpStream) -> Option<Stream> {
        let _ = tcp.set_nodelay(true);
        let Some(server) = self.tls.as_ref().and_then(|t| t.server()) else { return Some(Stream::Plain(tcp)) };
        let mut first = [0u8; 3];
        match tokio::time::timeout(HANDSHAKE_TIMEOUT, tcp.peek(&mut first)).await {
            Ok(Ok(n)) if n > 0 => {}
            _ => return None,
        }
        if first[0] != TLS_HANDSHAKE {
            refuse_plaintext(tcp, &first).await;
            return None;
        }
        let peer = tcp.peer_addr().map(|a| a.to_string()).unwrap_or_default();
        let tcp = BufReader::with_capacity(TLS_READ_BUFFER, tcp);
        match tokio::time::timeout(HANDSHAKE_TIMEOUT, tokio_rustls::TlsAcceptor::from(server.clone()).accept(tcp)).await
        {
            Ok(Ok(s)) => Some(Stream::Tls(Box::new(s.into()))),
            Ok(Err(e)) => {
                tracing::warn!("TLS handshake from {peer} failed: {e}");
                None
            }
            Err(_) => None,
        }
    }

    /// Accepts connections on `listener` (handshakes run concurrently) for a gRPC server
    /// (`serve_with_incoming`) or an axum one (`axum::serve`).
    pub fn incoming(&self, listener: TcpListener) -> Incoming {
        let local = listener.local_addr().ok();
        let (tx, rx) = mpsc::channel(64);
        let (transport, gone) = (self.clone(), tx.clone());
        // The server is gone (its receiver dropped): free the port.
        let stop = async move { gone.closed().await };
        spawn_accept_loop(listener, stop, move |tcp| {
            let (tx, transport) = (tx.clone(), transport.clone());
            async move {
                if let Some(s) = transport.accept(tcp).await {
                    let _ = tx.send(s).await;
                }
            }
        });
        Incoming { rx, local }
    }
}

/// Accepts connections on `listener` until `stop` completes, each handed to `serve` in a task
/// of its own (so a slow handshake holds up no one). A failed accept (out of descriptors and
/// the like) backs off instead of spinning.
pub fn spawn_accept_loop<S, F>(
    listener: TcpListener,
    stop: impl std::future::Future<Output = ()> + Send + 'static,
    serve: S,
) where
    S: Fn(TcpStream) -> F + Send + 'static,
    F: std::future::Future<Output = ()> + Send + 'static,
{
    tokio::spawn(async move {
        tokio::pin!(stop);
        loop {
            let tcp = tokio::select! {
                r = listener.accept() => r,
                _ = &mut stop => return,
            };
            match tcp {
                Ok((s, _)) => {
                    tokio::spawn(serve(s));
                }
                Err(e) => {
                    let at = listener.local_addr().map(|a| a.to_string()).unwrap_or_default();
                    tracing::warn!("{at}: cannot accept a connection: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        }
    });
}

/// A client's TLS handshake failed: a matter of settings (CA, certificates, TLS on one side
/// only), not of a moment's network trouble, so callers do not retry it.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct HandshakeFailed(pub String);

/// What went wrong with TLS somewhere in `e`'s sources (as tonic wraps a connector's error),
/// explained. (A refusal after the handshake, as a server that wants a client certificate
/// sends it with TLS 1.3, reaches callers through HTTP/2 as text only: see [`root_cause`].)
pub fn tls_failure(e: &(dyn std::error::Error + 'static)) -> Option<String> {
    let mut at = Some(e);
    while let Some(e) = at {
        if let Some(h) = e.downcast_ref::<HandshakeFailed>() {
            return Some(h.0.clone());
        }
        let inner = e.downcast_ref::<io::Error>().and_then(|io| io.get_ref());
        if let Some(h) = inner.and_then(|i| i.downcast_ref::<HandshakeFailed>()) {
            return Some(h.0.clone());
        }
        if let Some(r) = inner.and_then(|i| i.downcast_ref::<rustls::Error>()).or_else(|| e.downcast_ref()) {
            return Some(format!("TLS: {r} ({})", hint(Some(r), "the server")));
        }
        at = e.source();
    }
    None
}

/// The innermost message of `e`'s sources: what actually failed under "transport error".
pub fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut last = e;
    while let Some(s) = last.source() {
        last = s;
    }
    last.to_string()
}

/// What to check after a TLS error.
fn hint(e: Option<&rustls::Error>, host: &str) -> String {
    match e {
        Some(rustls::Error::InvalidCertificate(_)) => {
            format!("the server's certificate must chain to alluxio.network.tls.ca.file and name {host}")
        }
        Some(rustls::Error::AlertReceived(rustls::AlertDescription::CertificateRequired)) => {
            "the server requires a client certificate: set alluxio.network.tls.cert.file and .key.file".to_owned()
        }
        Some(rustls::Error::AlertReceived(a)) => format!("the server refused the handshake ({a:?})"),
        _ => format!("the server does not seem to speak TLS; {ENABLED} must be the same on every process"),
    }
}

/// Explains a failed client handshake: the usual causes are the CA, a missing client
/// certificate, or a server without TLS.
fn handshake_failed(addr: &str, host: &str, e: io::Error) -> io::Error {
    let hint = hint(e.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>()), host);
    io::Error::new(
        io::ErrorKind::InvalidData,
        HandshakeFailed(format!("TLS handshake with {addr} failed: {e} ({hint})")),
    )
}

/// The message a plaintext caller of a TLS port gets.
fn plaintext_refusal(local: &str) -> String {
    format!(
        "{local} accepts TLS only and this client connected in plaintext: set {ENABLED}=true and \
         alluxio.network.tls.ca.file on the client"
    )
}

/// Answers a plaintext caller of a TLS port: HTTP and gRPC callers get an error response;
/// another master's Raft frames (`ALX…`) are dropped with a warning here.
async fn refuse_plaintext(tcp: TcpStream, first: &[u8]) {
    let local = tcp.local_addr().map(|a| a.to_string()).unwrap_or_default();
    let peer = tcp.peer_addr().map(|a| a.to_string()).unwrap_or_default();
    tracing::warn!("{peer} connected in plaintext to {local}, which accepts TLS only ({ENABLED} differs)");
    if first.starts_with(b"ALX") {
        return;
    }
    let msg = plaintext_refusal(&local);
    let svc = hyper::service::service_fn(move |req: http::Request<hyper::body::Incoming>| {
        let msg = msg.clone();
        async move {
            let grpc = req
                .headers()
                .get(http::header::CONTENT_TYPE)
                .is_some_and(|v| v.as_bytes().starts_with(b"application/grpc"));
            let b = http::Response::builder();
            let r = if grpc {
                // Trailers-only gRPC response: FAILED_PRECONDITION (9) and the message.
                b.header("content-type", "application/grpc")
                    .header("grpc-status", "9")
                    .header("grpc-message", grpc_message(&msg))
                    .body(String::new())
            } else {
                b.status(http::StatusCode::BAD_REQUEST)
                    .header("content-type", "text/plain; charset=utf-8")
                    .header("connection", "close")
                    .body(format!("{msg}; use https://\n"))
            };
            Ok::<_, std::convert::Infallible>(r.unwrap_or_default())
        }
    });
    let conn = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
    let _ = tokio::time::timeout(Duration::from_secs(30), conn.serve_connection(TokioIo::new(tcp), svc)).await;
}

/// Percent-encodes a `grpc-message` as gRPC asks (bytes outside printable ASCII, and `%`).
fn grpc_message(msg: &str) -> String {
    let mut out = String::with_capacity(msg.len());
    for b in msg.bytes() {
        if (0x20..0x7f).contains(&b) && b != b'%' {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A connection, plaintext or TLS.
pub enum Stream {
    Plain(TcpStream),
    Tls(Box<tokio_rustls::TlsStream<BufReader<TcpStream>>>),
}

impl Stream {
    /// The TCP connection underneath, for socket options and addresses.
    pub fn tcp(&self) -> &TcpStream {
        match self {
            Stream::Plain(s) => s,
            Stream::Tls(s) => s.get_ref().0.get_ref(),
        }
    }

    /// Wakes readers only once about `bytes` more of the payload have arrived (fewer wake-ups
    /// for large transfers): the socket's SO_RCVLOWAT. Over TLS, less by what the buffers above
    /// the socket may already hold, so the threshold is always reached.
    pub fn wake_after(&self, bytes: usize) {
        let bytes = match self {
            Stream::Plain(_) => bytes,
            // The read buffer, a partial record in rustls and a record of plaintext.
            Stream::Tls(_) => bytes.saturating_sub(TLS_READ_BUFFER + 2 * MAX_TLS_RECORD),
        };
        self.set_socket_option(libc::SO_RCVLOWAT, bytes.clamp(1, i32::MAX as usize) as i32);
    }

    /// Sets an integer `SOL_SOCKET` option of the TCP connection (best effort).
    pub fn set_socket_option(&self, option: libc::c_int, value: i32) {
        // SAFETY: setting an integer socket option on a valid descriptor.
        unsafe {
            libc::setsockopt(
                std::os::fd::AsRawFd::as_raw_fd(self.tcp()),
                libc::SOL_SOCKET,
                option,
                &value as *const i32 as *const libc::c_void,
                std::mem::size_of::<i32>() as libc::socklen_t,
            );
        }
    }

    /// The application protocol the TLS handshake agreed on, if any.
    pub fn alpn(&self) -> Option<&[u8]> {
        match self {
            Stream::Plain(_) => None,
            Stream::Tls(s) => s.get_ref().1.alpn_protocol(),
        }
    }
}

macro_rules! delegate {
    ($self:ident, $s:ident => $e:expr) => {
        match $self.get_mut() {
            Stream::Plain($s) => {
                let $s = Pin::new($s);
                $e
            }
            Stream::Tls($s) => {
                let $s = Pin::new($s.as_mut());
                $e
            }
        }
    };
}

impl AsyncRead for Stream {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Stream {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        delegate!(self, s => s.poll_write(cx, buf))
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        delegate!(self, s => s.poll_write_vectored(cx, bufs))
    }

    fn is_write_vectored(&self) -> bool {
        match self {
            Stream::Plain(s) => s.is_write_vectored(),
            Stream::Tls(s) => s.is_write_vectored(),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        delegate!(self, s => s.poll_flush(cx))
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        delegate!(self, s => s.poll_shutdown(cx))
    }
}

impl Connected for Stream {
    type ConnectInfo = TcpConnectInfo;

    /// The TCP addresses, so a server sees its caller's address over TLS too (audit log).
    fn connect_info(&self) -> TcpConnectInfo {
        self.tcp().connect_info()
    }
}

/// Dials for tonic's channels over TLS.
#[derive(Clone)]
struct Connector {
    transport: Transport,
}

impl tower::Service<http::Uri> for Connector {
    type Response = TokioIo<Stream>;
    type Error = io::Error;
    type Future = Pin<Box<dyn std::future::Future<Output = io::Result<TokioIo<Stream>>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, uri: http::Uri) -> Self::Future {
        let transport = self.transport.clone();
        Box::pin(async move {
            let addr = uri.authority().map(|a| a.as_str().to_owned()).unwrap_or_default();
            transport.connect(&addr, Protocol::Grpc).await.map(TokioIo::new)
        })
    }
}

/// Accepted connections, handshakes done.
pub struct Incoming {
    rx: mpsc::Receiver<Stream>,
    local: Option<SocketAddr>,
}

impl tokio_stream::Stream for Incoming {
    type Item = io::Result<Stream>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.rx.poll_recv(cx).map(|s| s.map(Ok))
    }
}

impl axum::serve::Listener for Incoming {
    type Io = Stream;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Stream, SocketAddr) {
        loop {
            match self.rx.recv().await {
                Some(s) => match s.tcp().peer_addr() {
                    Ok(a) => return (s, a),
                    Err(_) => continue,
                },
                // The accept loop ended (it never does while this receiver lives).
                None => std::future::pending::<()>().await,
            }
        }
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        self.local.ok_or_else(|| io::Error::other("no local address"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grpc_messages_are_percent_encoded_only_where_grpc_asks() {
        assert_eq!(grpc_message("a b=c, 100%"), "a b=c, 100%25");
        assert_eq!(grpc_message("é\n"), "%C3%A9%0A");
    }
}
