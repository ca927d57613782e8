//! Errors of the wire helpers in this crate (the generated services use `tonic::Status`).

/// Bytes or settings the wire helpers cannot use.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProtoError {
    #[error("not an alluxio-rs block data request")]
    NotADataRequest,
    #[error("block data protocol version {found} is not supported (this worker speaks {supported})")]
    DataPortVersion { found: u32, supported: u32 },
    #[error("no master address (alluxio.master.rpc.addresses)")]
    NoMasterAddress,
    #[error("bad master address {address}: {reason}")]
    MasterAddress { address: String, reason: String },
    #[error("{property}{}: {reason}", if path.is_empty() { String::new() } else { format!(" ({path})") })]
    Tls { property: &'static str, path: String, reason: String },
    #[error("TLS settings: {reason}")]
    TlsSetting { reason: String },
}
