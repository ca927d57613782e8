//! Binding server ports with errors that name the port and the property that sets it.

use std::net::TcpListener;

/// Why a server port could not be bound.
#[derive(Debug, thiserror::Error)]
#[error("cannot listen on {host}:{port} ({key}): {reason}")]
pub struct BindError {
    pub host: String,
    pub port: u16,
    pub key: &'static str,
    pub reason: String,
}

/// Binds `host:port` for a server; `key` is the property that chose the port.
pub fn bind(host: &str, port: i64, key: &'static str) -> Result<TcpListener, BindError> {
    let err = |reason: String| BindError { host: host.to_owned(), port: port.clamp(0, 65535) as u16, key, reason };
    let p: u16 = u16::try_from(port).map_err(|_| err(format!("{port} is not a valid port number")))?;
    let l = TcpListener::bind((host, p)).map_err(|e| {
        if e.kind() == std::io::ErrorKind::AddrInUse {
            err("the port is already in use (is another Alluxio process running? stop it or choose another port)"
                .into())
        } else {
            err(e.to_string())
        }
    })?;
    l.set_nonblocking(true).map_err(|e| err(e.to_string()))?;
    Ok(l)
}
