//! Verifying cached blocks against their chunk checksums before they are served or persisted.
//!
//! When (`alluxio.worker.block.checksum.verify`): `ONCE` (the default) checks the chunks every
//! remote read covers, every block before it is persisted, and a block's first short-circuit
//! open after the worker started; `EVERY_READ` also checks every short-circuit open; `NEVER`
//! checks nothing (checksums are still written). A block that fails is dropped from this
//! worker and logged; the reader gets DATA_LOSS naming the block and falls back to another copy
//! or the under storage, so corrupt bytes are never served.

use std::ops::Range;
use std::sync::Arc;

use alluxio_common::{checksum, id};

use crate::block_store::{BlockReadLock, BlockStore};
use crate::error::{io, Result, WorkerError};

/// `alluxio.worker.block.checksum.verify`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VerifyMode {
    Never,
    Once,
    EveryRead,
}

impl VerifyMode {
    pub fn parse(s: &str) -> Option<Self> {
        match s.to_ascii_uppercase().as_str() {
            "NEVER" => Some(VerifyMode::Never),
            "ONCE" => Some(VerifyMode::Once),
            "EVERY_READ" => Some(VerifyMode::EveryRead),
            _ => None,
        }
    }

    /// Whether a short-circuit open of a block must check it first.
    pub fn check_local_open(self, verified: bool) -> bool {
        match self {
            VerifyMode::Never => false,
            VerifyMode::Once => !verified,
            VerifyMode::EveryRead => true,
        }
    }
}

/// The checksums to check the locked block (mapped as `data`) against; `None` for a block
/// written before checksums, whose bytes are adopted as they are now (there is nothing older
/// to compare them with).
pub fn checksums_for(store: &BlockStore, lock: &BlockReadLock, data: &[u8]) -> Result<Option<Arc<[u32]>>> {
    match store.checksums(lock) {
        Ok(Some(crcs)) => return Ok(Some(crcs)),
        Ok(None) => {}
        Err(WorkerError::DataLoss(why)) => {
            // Checksums that cannot be read cannot vouch for the block: it goes like a bad one.
            let msg = format!("Block {} cannot be checked, its checksums are damaged: {why}", lock.block_id);
            tracing::error!("{msg}");
            store.drop_corrupt(lock.block_id, msg.clone());
            return Err(WorkerError::DataLoss(msg));
        }
        Err(e) => return Err(e),
    }
    store.adopt_checksums(lock, checksum::of(data))?;
    store.mark_verified(lock.block_id);
    Ok(None)
}

/// Checks the chunks of the locked block (mapped as `data`) that cover `range` against `crcs`.
/// On a mismatch the block is dropped (once its readers are done) and the error names it.
pub fn check(store: &BlockStore, lock: &BlockReadLock, data: &[u8], crcs: &[u32], range: Range<usize>) -> Result<()> {
    let id = lock.block_id;
    let whole = range.start == 0 && range.end >= data.len();
    match checksum::verify(data, crcs, range) {
        Ok(()) => {
            if whole {
                store.mark_verified(id);
            }
            Ok(())
        }
        Err(chunk) => {
            let from = chunk * checksum::CHUNK;
            let msg = format!(
                "Block {id} of file {} fails its checksum in bytes {from}..{} ({}): the worker dropped it; \
                 read it from another copy or the under storage",
                id::file_id_of_block(id),
                (from + checksum::CHUNK).min(data.len()),
                lock.path.display()
            );
            tracing::error!("{msg}");
            store.drop_corrupt(id, msg.clone());
            Err(WorkerError::DataLoss(msg))
        }
    }
}

/// [`checksums_for`] and [`check`].
pub fn verify(store: &BlockStore, lock: &BlockReadLock, data: &[u8], range: Range<usize>) -> Result<()> {
    match checksums_for(store, lock, data)? {
        Some(crcs) => check(store, lock, data, &crcs, range),
        None => Ok(()),
    }
}

/// Why a block this worker no longer has is gone, when it was dropped for failing its
/// checksum (so a reader hears DATA_LOSS, not "not found").
pub fn missing(store: &BlockStore, id: i64) -> WorkerError {
    match store.corrupt_reason(id) {
        Some(msg) => WorkerError::DataLoss(msg),
        None => WorkerError::BlockNotFound(id),
    }
}

/// Maps the locked block and checks the chunks covering `range` (blocking).
pub fn verify_file(store: &BlockStore, lock: &BlockReadLock, range: Range<usize>) -> Result<()> {
    if lock.length == 0 {
        return verify(store, lock, &[], 0..0);
    }
    let f = std::fs::File::open(&lock.path).map_err(io("open", &lock.path))?;
    // SAFETY: committed block files are never modified or truncated, only unlinked, and the
    // read lock keeps this one in place while it is mapped.
    let map = unsafe { memmap2::MmapOptions::new().map(&f) }.map_err(io("map", &lock.path))?;
    let n = (lock.length as usize).min(map.len());
    verify(store, lock, &map[..n], range)
}

/// [`verify_file`] of the whole block.
pub fn verify_whole(store: &BlockStore, lock: &BlockReadLock) -> Result<()> {
    verify_file(store, lock, 0..lock.length as usize)
}
