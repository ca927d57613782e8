//! The worker's block data port protocol (`alluxio.worker.data.port`), shared by the worker
//! that serves it and the clients that read from it.
//!
//! Request (32 bytes, little-endian): `magic "ALXD" | version u32 | block id i64 | offset u64 |
//! length u64`. Response: `status u8` (0 = ok) then, if ok, `length u64` and that many bytes;
//! otherwise `message length u32` and a UTF-8 message, the status naming the error's code
//! ([`refusal_status`]; 1, from older workers, is UNAVAILABLE).

use alluxio_common::status::Code;

use crate::error::ProtoError;

/// The status byte of a refusal with `code`.
pub fn refusal_status(code: Code) -> u8 {
    match code {
        Code::NotFound => 5,
        Code::InvalidArgument => 3,
        Code::DataLoss => 15,
        Code::FailedPrecondition => 9,
        _ => 14,
    }
}

/// The code of a refusal's status byte.
pub fn refusal_code(status: u8) -> Code {
    match status {
        5 => Code::NotFound,
        3 => Code::InvalidArgument,
        15 => Code::DataLoss,
        9 => Code::FailedPrecondition,
        _ => Code::Unavailable,
    }
}

pub const MAGIC: &[u8; 4] = b"ALXD";
pub const VERSION: u32 = 1;
pub const REQUEST_LEN: usize = 32;

/// Encodes a request.
pub fn request(block_id: i64, offset: u64, length: u64) -> [u8; REQUEST_LEN] {
    let mut r = [0u8; REQUEST_LEN];
    r[..4].copy_from_slice(MAGIC);
    r[4..8].copy_from_slice(&VERSION.to_le_bytes());
    r[8..16].copy_from_slice(&block_id.to_le_bytes());
    r[16..24].copy_from_slice(&offset.to_le_bytes());
    r[24..32].copy_from_slice(&length.to_le_bytes());
    r
}

/// Decodes a request: (block id, offset, length), or why it is not one.
pub fn parse_request(r: &[u8; REQUEST_LEN]) -> Result<(i64, u64, u64), ProtoError> {
    if &r[..4] != MAGIC {
        return Err(ProtoError::NotADataRequest);
    }
    let v = u32::from_le_bytes(r[4..8].try_into().unwrap_or_default());
    if v != VERSION {
        return Err(ProtoError::DataPortVersion { found: v, supported: VERSION });
    }
    Ok((
        i64::from_le_bytes(r[8..16].try_into().unwrap_or_default()),
        u64::from_le_bytes(r[16..24].try_into().unwrap_or_default()),
        u64::from_le_bytes(r[24..32].try_into().unwrap_or_default()),
    ))
}
