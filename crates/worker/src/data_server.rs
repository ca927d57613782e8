//! The block data port: a minimal framed protocol for remote block reads, so bytes go from the
//! block's memory mapping to the socket in large writes instead of through gRPC's buffers.
//! The wire format is in `alluxio_proto::data_port`. A connection serves requests one after
//! another until the client closes it. The block stays read-locked while it is sent.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::sync::Arc;

pub use alluxio_proto::data_port::{parse_request, request, MAGIC, REQUEST_LEN};

use crate::worker::Worker;

fn refuse(s: &mut TcpStream, msg: &str) -> std::io::Result<()> {
    let mut out = vec![1u8];
    out.extend_from_slice(&(msg.len() as u32).to_le_bytes());
    out.extend_from_slice(msg.as_bytes());
    s.write_all(&out)
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

fn serve(worker: &Arc<Worker>, mut s: TcpStream) -> std::io::Result<()> {
    s.set_nodelay(true)?;
    set_buffers(s.as_raw_fd(), 4 << 20);
    let mut req = [0u8; REQUEST_LEN];
    loop {
        match s.read_exact(&mut req) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(()),
            Err(e) => return Err(e),
        }
        let (id, offset, length) = match parse_request(&req) {
            Ok(r) => r,
            Err(msg) => return refuse(&mut s, &msg),
        };
        let Some(lock) = worker.store.lock(id) else {
            refuse(&mut s, &format!("Block {id} not found on this worker"))?;
            continue;
        };
        if offset > lock.length {
            refuse(&mut s, &format!("offset {offset} is past the end of block {id} ({} bytes)", lock.length))?;
            continue;
        }
        let n = length.min(lock.length - offset);
        let f = std::fs::File::open(&lock.path)?;
        let mut head = [0u8; 9];
        head[1..9].copy_from_slice(&n.to_le_bytes());
        s.write_all(&head)?;
        // Writing from a mapping of the block: one copy, into the socket (on loopback this beats
        // sendfile, whose spliced pages cost more to hand over than copying them).
        // SAFETY: committed block files are never modified or truncated, only unlinked, and the
        // read lock keeps this one in place while it is mapped.
        let map = unsafe { memmap2::MmapOptions::new().offset(0).map(&f)? };
        let start = offset as usize;
        let end = (offset + n).min(map.len() as u64) as usize;
        if end - start != n as usize {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                format!("block {id} is shorter than expected"),
            ));
        }
        s.write_all(&map[start..end])?;
        drop(lock);
    }
}

/// Accepts data connections forever, one blocking thread per connection.
pub fn run(worker: Arc<Worker>, listener: TcpListener) {
    for conn in listener.incoming() {
        match conn {
            Ok(s) => {
                let w = worker.clone();
                let _ = std::thread::Builder::new().name("block-data".into()).spawn(move || {
                    if let Err(e) = serve(&w, s) {
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
