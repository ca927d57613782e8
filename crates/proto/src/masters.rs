//! The masters a client or worker can talk to (`alluxio.master.rpc.addresses`) and the one
//! it uses now: one lazily connected channel per master, moved on after a failover error.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tonic::transport::Channel;

use crate::error::ProtoError;
use crate::transport::Transport;

/// One channel per master address; `current` is the master last found answering.
pub struct MasterChannels {
    masters: Vec<(String, Channel)>,
    current: AtomicUsize,
}

impl MasterChannels {
    /// Channels to each of the comma-separated `host:port` addresses. HTTP/2 keep-alive makes
    /// calls to a hung or partitioned master fail within seconds instead of waiting forever.
    pub fn new(addresses: &str, connect_timeout: Duration, transport: &Transport) -> Result<Self, ProtoError> {
        let mut masters = Vec::new();
        for a in addresses.split(',').map(str::trim).filter(|a| !a.is_empty()) {
            let ep = Transport::endpoint(a)
                .map_err(|e| ProtoError::MasterAddress { address: a.to_owned(), reason: e.to_string() })?
                .connect_timeout(connect_timeout)
                .http2_keep_alive_interval(Duration::from_secs(1))
                .keep_alive_timeout(Duration::from_secs(2))
                .keep_alive_while_idle(true)
                .tcp_nodelay(true);
            masters.push((a.to_owned(), transport.channel(&ep)));
        }
        if masters.is_empty() {
            return Err(ProtoError::NoMasterAddress);
        }
        Ok(MasterChannels { masters, current: AtomicUsize::new(0) })
    }

    /// The channel to the master in use.
    pub fn current(&self) -> Channel {
        self.masters[self.current.load(Ordering::Relaxed) % self.masters.len()].1.clone()
    }

    pub fn len(&self) -> usize {
        self.masters.len()
    }

    pub fn is_empty(&self) -> bool {
        self.masters.is_empty()
    }

    /// Moves on to the next master.
    pub fn next(&self) {
        self.current.fetch_add(1, Ordering::Relaxed);
    }

    /// After a failover error: goes to the leader a standby named if it is one of ours
    /// (returns true), else to the next master.
    pub fn follow(&self, s: &tonic::Status) -> bool {
        if let Some(Some(leader)) = crate::status::standby_refusal(s) {
            if let Some(i) = self.masters.iter().position(|(a, _)| a.eq_ignore_ascii_case(&leader)) {
                self.current.store(i, Ordering::Relaxed);
                return true;
            }
        }
        self.next();
        false
    }
}
