//! The block data port: a minimal framed protocol for remote block reads, so bytes go from the
//! block's memory mapping to the socket in large writes instead of through gRPC's buffers.
//! The wire format is in `alluxio_proto::data_port`. A connection serves requests one after
//! another until the client closes it. The block stays read-locked while it is sent.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::sync::Arc;

pub use alluxio_proto::data_port::{parse_request, request, MAGIC, REQUEST_LEN};

use alluxio_common::{Code, HasCode};

use alluxio_common::checksum;

use crate::block_check::{self, VerifyMode};
use crate::worker::Worker;

fn refuse(s: &mut impl Write, code: Code, msg: &str) -> std::io::Result<()> {
    let mut out = vec![alluxio_proto::data_port::refusal_status(code)];
    out.extend_from_slice(&(msg.len() as u32).to_le_bytes());
    out.extend_from_slice(msg.as_bytes());
    s.write_all(&out)?;
    s.flush()
}

/// Larger socket buffers: blocks are megabytes, not messages.
pub fn set_buffers(fd: std::os::fd::RawFd, bytes: i32) {
    for opt in [libc::SO_SNDBUF, libc::SO_RCVBUF] {
        // SAFETY: setting an integer socket option on a valid descriptor.
        unsafe {
            libc::setsockopt(
                fd,
                libc::SOL_SOCKET,
                opt,
                &bytes as *const i32 as *const libc::c_void,
                std::mem::size_of::<i32>() as libc::socklen_t,
            );
        }
    }
}

/// Serves one connection, over TLS when the worker has it on; a plaintext client of a TLS
/// worker is told what to change.
fn serve_conn(worker: &Arc<Worker>, mut s: TcpStream, tls: Option<Arc<rustls::ServerConfig>>) -> std::io::Result<()> {
    s.set_nodelay(true)?;
    set_buffers(s.as_raw_fd(), 4 << 20);
    let Some(tls) = tls else { return serve(worker, &mut s) };
    let mut first = [0u8; 1];
    s.set_read_timeout(Some(std::time::Duration::from_secs(10)))?;
    if s.peek(&mut first)? == 0 {
        return Ok(());
    }
    s.set_read_timeout(None)?;
    if first[0] != 0x16 {
        let local = s.local_addr().map(|a| a.to_string()).unwrap_or_default();
        let msg = format!(
            "{local} accepts TLS only and this client connected in plaintext: set alluxio.network.tls.enabled=true \
             and alluxio.network.tls.ca.file on the client"
        );
        tracing::warn!(
            "{} connected in plaintext to the TLS block data port",
            s.peer_addr().map(|a| a.to_string()).unwrap_or_default()
        );
        // Take the request first: closing with unread bytes would reset the connection and
        // could discard the refusal before the client reads it.
        let mut req = [0u8; REQUEST_LEN];
        s.set_read_timeout(Some(std::time::Duration::from_secs(10)))?;
        let _ = s.read_exact(&mut req);
        refuse(&mut s, Code::FailedPrecondition, &msg)?;
        return s.shutdown(std::net::Shutdown::Write);
    }
    let conn = rustls::ServerConnection::new(tls).map_err(std::io::Error::other)?;
    serve(worker, &mut rustls::StreamOwned::new(conn, s))
}

fn serve<S: Read + Write>(worker: &Arc<Worker>, s: &mut S) -> std::io::Result<()> {
    let mut req = [0u8; REQUEST_LEN];
    loop {
        match s.read_exact(&mut req) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(()),
            Err(e) => return Err(e),
        }
        let (id, offset, length) = match parse_request(&req) {
            Ok(r) => r,
            Err(e) => return refuse(s, Code::InvalidArgument, &e.to_string()),
        };
        let Some(lock) = worker.store.lock(id) else {
            let e = block_check::missing(&worker.store, id);
            refuse(s, e.code(), &e.to_string())?;
            continue;
        };
        if offset > lock.length {
            let msg = format!("offset {offset} is past the end of block {id} ({} bytes)", lock.length);
            refuse(s, Code::InvalidArgument, &msg)?;
            continue;
        }
        let n = length.min(lock.length - offset);
        let f = std::fs::File::open(&lock.path)?;
        let mut head = [0u8; 9];
        head[1..9].copy_from_slice(&n.to_le_bytes());
        // Writing from a mapping of the block: one copy, into the socket (on loopback this beats
        // sendfile, whose spliced pages cost more to hand over than copying them).
        // SAFETY: committed block files are never modified or truncated, only unlinked, and the
        // read lock keeps this one in place while it is mapped.
        let map = unsafe { memmap2::MmapOptions::new().offset(0).map(&f)? };
        let start = offset as usize;
        let end = (offset + n).min(map.len() as u64) as usize;
        if end - start != n as usize {
            // Truncated on disk: as damaged as a bad checksum.
            let msg = format!(
                "Block {id} is shorter on disk ({}) than its {} bytes: the worker dropped it",
                lock.path.display(),
                lock.length
            );
            tracing::error!("{msg}");
            worker.store.drop_corrupt(id, msg.clone());
            refuse(s, Code::DataLoss, &msg)?;
            continue;
        }
        let block = &map[..(lock.length as usize).min(map.len())];
        let crcs = match worker.verify {
            VerifyMode::Never => None,
            _ => match block_check::checksums_for(&worker.store, &lock, block) {
                Ok(c) => c,
                Err(e) => {
                    refuse(s, e.code(), &e.to_string())?;
                    continue;
                }
            },
        };
        s.write_all(&head)?;
        // Every remote read checks each chunk just before sending it (it is then still in the
        // CPU's cache for the copy into the socket). A bad chunk drops the block and ends the
        // connection: the client never got a wrong byte, and its retry hears DATA_LOSS.
        let mut at = start;
        while at < end {
            let next = ((at / checksum::CHUNK + 1) * checksum::CHUNK).min(end);
            if let Some(crcs) = &crcs {
                if let Err(e) = block_check::check(&worker.store, &lock, block, crcs, at..next) {
                    return Err(std::io::Error::other(e.to_string()));
                }
            }
            s.write_all(&map[at..next])?;
            at = next;
        }
        s.flush()?;
        drop(lock);
    }
}

/// Accepts data connections forever, one blocking thread per connection.
pub fn run(worker: Arc<Worker>, listener: TcpListener, tls: Option<Arc<rustls::ServerConfig>>) {
    for conn in listener.incoming() {
        match conn {
            Ok(s) => {
                let (w, tls) = (worker.clone(), tls.clone());
                let _ = std::thread::Builder::new().name("block-data".into()).spawn(move || {
                    if let Err(e) = serve_conn(&w, s, tls) {
                        tracing::debug!("block data connection ended: {e}");
                    }
                });
            }
            Err(e) => tracing::warn!("cannot accept a block data connection: {e}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn requests_round_trip_and_garbage_is_refused(id in any::<i64>(), off in any::<u64>(), len in any::<u64>(), junk in proptest::collection::vec(any::<u8>(), REQUEST_LEN)) {
            prop_assert_eq!(parse_request(&request(id, off, len)), Ok((id, off, len)));
            let mut j = [0u8; REQUEST_LEN];
            j.copy_from_slice(&junk);
            if &j[..4] != MAGIC {
                prop_assert!(parse_request(&j).is_err());
            }
        }
    }
}
