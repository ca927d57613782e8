//! The single mapping between Alluxio's status names ([`Code`]) and gRPC status codes.
//!
//! Servers turn their crate errors into a [`tonic::Status`] with [`to_status`]; clients
//! rebuild the code with [`code_of`] and never parse messages.

use alluxio_common::status::{Code, HasCode};

/// Converts an Alluxio status code to the gRPC code that carries it on the wire.
pub fn to_grpc(code: Code) -> tonic::Code {
    match code {
        Code::Cancelled => tonic::Code::Cancelled,
        Code::Unknown => tonic::Code::Unknown,
        Code::InvalidArgument => tonic::Code::InvalidArgument,
        Code::DeadlineExceeded => tonic::Code::DeadlineExceeded,
        Code::NotFound => tonic::Code::NotFound,
        Code::AlreadyExists => tonic::Code::AlreadyExists,
        Code::PermissionDenied => tonic::Code::PermissionDenied,
        Code::ResourceExhausted => tonic::Code::ResourceExhausted,
        Code::FailedPrecondition => tonic::Code::FailedPrecondition,
        Code::Aborted => tonic::Code::Aborted,
        Code::OutOfRange => tonic::Code::OutOfRange,
        Code::Unimplemented => tonic::Code::Unimplemented,
        Code::Internal => tonic::Code::Internal,
        Code::Unavailable => tonic::Code::Unavailable,
        Code::DataLoss => tonic::Code::DataLoss,
        Code::Unauthenticated => tonic::Code::Unauthenticated,
    }
}

/// Converts a gRPC code back to Alluxio's status code.
pub fn code_of(code: tonic::Code) -> Code {
    match code {
        tonic::Code::Ok | tonic::Code::Unknown => Code::Unknown,
        tonic::Code::Cancelled => Code::Cancelled,
        tonic::Code::InvalidArgument => Code::InvalidArgument,
        tonic::Code::DeadlineExceeded => Code::DeadlineExceeded,
        tonic::Code::NotFound => Code::NotFound,
        tonic::Code::AlreadyExists => Code::AlreadyExists,
        tonic::Code::PermissionDenied => Code::PermissionDenied,
        tonic::Code::ResourceExhausted => Code::ResourceExhausted,
        tonic::Code::FailedPrecondition => Code::FailedPrecondition,
        tonic::Code::Aborted => Code::Aborted,
        tonic::Code::OutOfRange => Code::OutOfRange,
        tonic::Code::Unimplemented => Code::Unimplemented,
        tonic::Code::Internal => Code::Internal,
        tonic::Code::Unavailable => Code::Unavailable,
        tonic::Code::DataLoss => Code::DataLoss,
        tonic::Code::Unauthenticated => Code::Unauthenticated,
    }
}

/// Turns any crate error that knows its Alluxio code into a gRPC status.
pub fn to_status<E: HasCode + std::fmt::Display>(err: E) -> tonic::Status {
    tonic::Status::new(to_grpc(err.code()), err.to_string())
}

/// Metadata key of a standby's refusal that carries the leading master's RPC address.
pub const LEADER_HINT: &str = "x-alluxio-leader";
/// Metadata on a master's refusal of a registering worker whose blocks it cannot vouch for
/// (another cluster, or newer than its journal): the worker stops instead of retrying.
pub const WORKER_REFUSED: &str = "x-alluxio-worker-refused";

/// Metadata on a refusal that another master may answer: a standby's, or a leader's that lost
/// leadership before acknowledging (the change may or may not have committed). Callers decide
/// on this key and the code, never on the message.
pub const FAILOVER: &str = "x-alluxio-failover";

/// The refusal a standby master gives to client and worker RPCs: UNAVAILABLE, naming the
/// leader when known (also as [`LEADER_HINT`] metadata, so callers can go straight there).
pub fn standby_status(me: &str, leader: Option<&str>) -> tonic::Status {
    let msg = match leader {
        Some(l) => format!("{me} is a standby master; the leading master is {l}"),
        None => format!("{me} is a standby master and no leader is elected yet; retry shortly"),
    };
    failover_status(msg, leader)
}

/// An UNAVAILABLE status marked [`FAILOVER`]: another master may answer; `leader` (an RPC
/// address) goes in [`LEADER_HINT`] when known.
pub fn failover_status(message: String, leader: Option<&str>) -> tonic::Status {
    let mut s = tonic::Status::unavailable(message);
    s.metadata_mut().insert(FAILOVER, tonic::metadata::MetadataValue::from_static("1"));
    if let Some(v) = leader.and_then(|l| l.parse().ok()) {
        s.metadata_mut().insert(LEADER_HINT, v);
    }
    s
}

/// Whether `s` is a refusal another master may answer (see [`FAILOVER`]); with the leader's
/// RPC address when it named one.
pub fn standby_refusal(s: &tonic::Status) -> Option<Option<String>> {
    if s.code() != tonic::Code::Unavailable || !s.metadata().contains_key(FAILOVER) {
        return None;
    }
    Some(s.metadata().get(LEADER_HINT).and_then(|v| v.to_str().ok()).map(str::to_owned))
}
