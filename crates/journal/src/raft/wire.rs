//! Raft messages between masters on a plain TCP connection, beside gRPC on the same
//! embedded journal port.
//!
//! Replication is the hot path of every journaled change: each batch costs an AppendEntries
//! to every follower, and another one to tell them the new commit index. Over gRPC each of
//! those crossed HTTP/2 framing and several task hand-offs on both sides; here the calling
//! task writes one frame and reads one frame, and the serving task answers in order.
//!
//! A Raft connection opens with [`MAGIC`]; gRPC connections open with the HTTP/2 preface
//! (`PRI * HTTP/2.0`), so [`split_incoming`] can tell them apart by their first bytes. Over
//! TLS the handshake names the protocol (ALPN `alluxio-raft` or `h2`) instead.
//!
//! Frames: `u32` little-endian length, then that many bytes. A request's bytes are one kind
//! byte ([`Kind`]) and the bincode-encoded openraft request; a response's bytes are the
//! bincode-encoded `Result` from openraft. All masters of a quorum run the same build, so the
//! openraft types need no schema of their own.

use std::sync::Arc;
use std::time::Duration;

use alluxio_proto::transport::{Protocol, Stream, Transport};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch};

use openraft::raft::{AppendEntriesRequest, InstallSnapshotRequest, VoteRequest};

use super::{RaftJournal, TypeConfig};
use crate::JournalError;

/// The first bytes of every Raft connection.
pub const MAGIC: &[u8; 8] = b"ALXRAFT1";
/// The largest frame accepted: snapshot chunks are 4 MiB; this bounds what a bad peer can
/// make us allocate.
pub const MAX_FRAME: usize = 256 << 20;

/// What a request frame asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    AppendEntries = 0,
    Vote = 1,
    InstallSnapshot = 2,
}

/// Why bytes from a peer are not a frame.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum FrameError {
    #[error("frame of {0} bytes is larger than the limit of {MAX_FRAME}")]
    TooLarge(usize),
    #[error("empty request frame")]
    Empty,
    #[error("unknown request kind {0}")]
    UnknownKind(u8),
}

/// The body length announced by a frame header.
pub fn frame_len(header: [u8; 4]) -> Result<usize, FrameError> {
    let n = u32::from_le_bytes(header) as usize;
    if n > MAX_FRAME {
        return Err(FrameError::TooLarge(n));
    }
    Ok(n)
}

/// A request frame (header included) for `payload`.
pub fn encode_request(kind: Kind, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(5 + payload.len());
    out.extend_from_slice(&((payload.len() + 1) as u32).to_le_bytes());
    out.push(kind as u8);
    out.extend_from_slice(payload);
    out
}

/// A response frame (header included) for `payload`.
pub fn encode_response(payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(4 + payload.len());
    out.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    out.extend_from_slice(payload);
    out
}

/// Splits a request body into its kind and payload.
pub fn decode_request(body: &[u8]) -> Result<(Kind, &[u8]), FrameError> {
    let (&k, payload) = body.split_first().ok_or(FrameError::Empty)?;
    let kind = match k {
        0 => Kind::AppendEntries,
        1 => Kind::Vote,
        2 => Kind::InstallSnapshot,
        other => return Err(FrameError::UnknownKind(other)),
    };
    Ok((kind, payload))
}

/// A decoded request from a peer.
#[derive(Debug)]
pub enum Request {
    AppendEntries(AppendEntriesRequest<TypeConfig>),
    Vote(VoteRequest<u64>),
    InstallSnapshot(InstallSnapshotRequest<TypeConfig>),
}

/// Decodes a request frame's body (what [`decode_request`] split off). Bytes from the network:
/// any input gives a request or an error, never a panic or an allocation larger than the frame
/// allows.
pub fn decode_payload(kind: Kind, payload: &[u8]) -> Result<Request, JournalError> {
    let bad = |e: bincode::Error| JournalError::Undecodable {
        what: format!("a Raft {kind:?} request"),
        reason: e.to_string(),
    };
    Ok(match kind {
        Kind::AppendEntries => Request::AppendEntries(bincode::deserialize(payload).map_err(bad)?),
        Kind::Vote => Request::Vote(bincode::deserialize(payload).map_err(bad)?),
        Kind::InstallSnapshot => Request::InstallSnapshot(bincode::deserialize(payload).map_err(bad)?),
    })
}

/// Reads one frame's body into `buf`. `Ok(false)` on a clean end of stream before a header.
async fn read_frame<R: AsyncRead + Unpin>(r: &mut R, buf: &mut Vec<u8>) -> std::io::Result<bool> {
    let mut header = [0u8; 4];
    match r.read_exact(&mut header).await {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(false),
        Err(e) => return Err(e),
    }
    let n = frame_len(header).map_err(std::io::Error::other)?;
    buf.clear();
    buf.resize(n, 0);
    r.read_exact(buf).await?;
    Ok(true)
}

/// One connection to a peer's journal port, used by one caller at a time.
pub struct Connection {
    stream: BufReader<Stream>,
    buf: Vec<u8>,
}

impl Connection {
    /// Connects to `addr` (host:port) and announces a Raft connection.
    pub async fn open(transport: &Transport, addr: &str) -> std::io::Result<Connection> {
        let stream = transport.connect(addr, Protocol::Raft).await?;
        let mut stream = BufReader::new(stream);
        stream.write_all(MAGIC).await?;
        Ok(Connection { stream, buf: Vec::new() })
    }

    /// Sends one request and returns the response body. After an error the connection is
    /// in an unknown state and must be dropped.
    pub async fn call(&mut self, kind: Kind, payload: &[u8]) -> std::io::Result<&[u8]> {
        self.stream.write_all(&encode_request(kind, payload)).await?;
        if !read_frame(&mut self.stream, &mut self.buf).await? {
            return Err(std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "the peer closed the connection"));
        }
        Ok(&self.buf)
    }
}

/// Accepts connections on the embedded journal port until `stop` changes: Raft connections
/// are served here, the rest are passed on through the returned receiver (to the gRPC server).
pub fn split_incoming(
    listener: TcpListener,
    transport: Transport,
    journal: Arc<RaftJournal>,
    stop: watch::Receiver<bool>,
) -> mpsc::Receiver<std::io::Result<Stream>> {
    let (tx, rx) = mpsc::channel(64);
    let mut accept_stop = stop.clone();
    let until = async move {
        let _ = accept_stop.changed().await;
    };
    alluxio_proto::transport::spawn_accept_loop(listener, until, move |tcp| {
        let (tx, journal, mut stop, transport) = (tx.clone(), journal.clone(), stop.clone(), transport.clone());
        async move {
            let Some((stream, raft)) = classify(&transport, tcp).await else { return };
            if raft {
                tokio::select! {
                    r = serve(journal, stream) => if let Err(e) = r {
                        tracing::debug!("Raft connection closed: {e}");
                    },
                    _ = stop.changed() => {}
                }
            } else {
                let _ = tx.send(Ok(stream)).await;
            }
        }
    });
    rx
}

/// Accepts a connection and tells whether it carries Raft frames: in plaintext by its first
/// bytes, over TLS by the protocol its handshake agreed on. `None` for a connection that
/// sends nothing, fails, or was refused (plaintext to a TLS port).
async fn classify(transport: &Transport, tcp: TcpStream) -> Option<(Stream, bool)> {
    if transport.is_tls() {
        let s = transport.accept(tcp).await?;
        let raft = s.alpn() == Some(alluxio_proto::tls::ALPN_RAFT);
        return Some((s, raft));
    }
    let raft = tokio::time::timeout(Duration::from_secs(10), opens_with_magic(&tcp)).await.ok()?.ok()?;
    Some((transport.accept(tcp).await?, raft))
}

/// Whether the connection's first bytes are [`MAGIC`]; decided on the first byte that differs.
async fn opens_with_magic(stream: &TcpStream) -> std::io::Result<bool> {
    let mut buf = [0u8; MAGIC.len()];
    loop {
        let n = stream.peek(&mut buf).await?;
        if n == 0 {
            return Err(std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "closed before its first bytes"));
        }
        if buf[..n] != MAGIC[..n] {
            return Ok(false);
        }
        if n == MAGIC.len() {
            return Ok(true);
        }
        // A prefix of the magic so far: wait for the rest.
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

/// Answers one Raft connection's requests in order until it closes.
async fn serve(journal: Arc<RaftJournal>, stream: Stream) -> std::io::Result<()> {
    // One request at a time, answered before the next is read: no need to split the stream.
    let mut rd = BufReader::new(stream);
    let mut magic = [0u8; MAGIC.len()];
    rd.read_exact(&mut magic).await?;
    let mut buf = Vec::new();
    while read_frame(&mut rd, &mut buf).await? {
        let (kind, payload) = decode_request(&buf).map_err(std::io::Error::other)?;
        let raft = &journal.raft;
        let resp = match decode_payload(kind, payload).map_err(std::io::Error::other)? {
            Request::AppendEntries(r) => bincode::serialize(&raft.append_entries(r).await),
            Request::Vote(r) => bincode::serialize(&raft.vote(r).await),
            Request::InstallSnapshot(r) => bincode::serialize(&raft.install_snapshot(r).await),
        }
        .map_err(std::io::Error::other)?;
        rd.write_all(&encode_response(&resp)).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Any bytes as a header or a body give a frame or an error, never a panic; requests
        /// round-trip.
        #[test]
        fn frames_decode_or_fail_cleanly(header in any::<[u8; 4]>(), body in proptest::collection::vec(any::<u8>(), 0..64)) {
            match frame_len(header) {
                Ok(n) => prop_assert!(n <= MAX_FRAME),
                Err(FrameError::TooLarge(n)) => prop_assert!(n > MAX_FRAME),
                Err(e) => prop_assert!(false, "unexpected {e}"),
            }
            if let Ok((kind, payload)) = decode_request(&body) {
                let framed = encode_request(kind, payload);
                prop_assert_eq!(frame_len(framed[..4].try_into().unwrap()), Ok(body.len()));
                prop_assert_eq!(&framed[4..], &body[..]);
            } else {
                prop_assert!(body.is_empty() || body[0] > 2);
            }
        }
    }

    #[tokio::test]
    async fn a_frame_over_the_limit_is_refused_before_allocating() {
        let mut bytes = ((MAX_FRAME + 1) as u32).to_le_bytes().to_vec();
        bytes.extend_from_slice(&[0; 16]);
        let mut buf = Vec::new();
        let err = read_frame(&mut &bytes[..], &mut buf).await.unwrap_err();
        assert!(err.to_string().contains("larger than the limit"), "{err}");
        assert!(buf.capacity() < 1024);
    }

    #[tokio::test]
    async fn grpc_connections_are_told_apart_by_their_first_byte() {
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap();
        for (opening, raft) in [(&b"PRI * HTTP/2.0\r\n"[..], false), (&MAGIC[..], true), (&b"ALX"[..], false)] {
            let mut c = TcpStream::connect(addr).await.unwrap();
            let (s, _) = l.accept().await.unwrap();
            c.write_all(opening).await.unwrap();
            if opening.len() < MAGIC.len() && MAGIC.starts_with(opening) {
                // A bare prefix of the magic, then something else.
                c.write_all(b"X").await.unwrap();
            }
            assert_eq!(opens_with_magic(&s).await.unwrap(), raft, "{opening:?}");
        }
    }
}
