//! Block checksums in the store: the `<blockId>.crc` sidecars, the checksums kept in memory,
//! which blocks were verified since the worker started, and the blocks dropped as corrupt.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use alluxio_common::checksum;

use super::{BlockReadLock, BlockStore};
use crate::error::{io, Result, WorkerError};

/// The chunk checksums of the block file at `block`.
pub fn sidecar(block: &Path) -> PathBuf {
    block.with_extension("crc")
}

/// Writes a block's checksums beside it: under a temporary name, then renamed, so a crash never
/// leaves a half-written sidecar under its real name.
pub(super) fn write_sidecar(block: &Path, crcs: &[u32]) -> Result<()> {
    let path = sidecar(block);
    let tmp = path.with_extension("crc.tmp");
    std::fs::write(&tmp, checksum::encode(crcs))
        .and_then(|_| std::fs::rename(&tmp, &path))
        .map_err(io("write checksums", &path))
}

/// The chunk checksums of a file, read in chunk-sized pieces.
pub(super) fn checksums_of_file(path: &Path) -> std::io::Result<Vec<u32>> {
    use std::io::Read;
    let mut f = std::fs::File::open(path)?;
    let mut buf = vec![0u8; checksum::CHUNK];
    let mut crcs = checksum::Builder::default();
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            return Ok(crcs.finish());
        }
        crcs.update(&buf[..n]);
    }
}

impl BlockStore {
    /// Drops a block that failed its checksum, remembering why for readers who still ask for it.
    pub fn drop_corrupt(&self, id: i64, why: String) {
        {
            let mut c = self.corrupt.lock();
            if c.len() >= 1024 {
                c.pop_front();
            }
            c.push_back((id, why));
        }
        self.remove(id);
    }

    /// Why a block is gone, when it was dropped for failing its checksum.
    pub fn corrupt_reason(&self, id: i64) -> Option<String> {
        self.corrupt.lock().iter().rev().find(|(b, _)| *b == id).map(|(_, why)| why.clone())
    }

    /// Whether a block's bytes matched its checksums since this worker started.
    pub fn is_verified(&self, id: i64) -> bool {
        self.state.lock().blocks.get(&id).is_some_and(|b| b.verified)
    }

    pub fn mark_verified(&self, id: i64) {
        if let Some(b) = self.state.lock().blocks.get_mut(&id) {
            b.verified = true;
        }
    }

    /// The chunk checksums of a locked block: from memory, else from its sidecar (blocking), else
    /// (a block written before checksums) `None`.
    pub fn checksums(&self, lock: &BlockReadLock) -> Result<Option<Arc<[u32]>>> {
        if let Some(c) = self.state.lock().blocks.get(&lock.block_id).and_then(|b| b.crcs.clone()) {
            return Ok(Some(c));
        }
        let path = sidecar(&lock.path);
        let crcs: Arc<[u32]> = match std::fs::read(&path) {
            Ok(bytes) => checksum::decode(&bytes)
                .map_err(|why| WorkerError::DataLoss(format!("{}: {why}", path.display())))?
                .into(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io("read", &path)(e)),
        };
        self.remember_checksums(lock.block_id, crcs.clone());
        Ok(Some(crcs))
    }

    /// Records checksums computed for a block that had none (written before checksums).
    pub fn adopt_checksums(&self, lock: &BlockReadLock, crcs: Vec<u32>) -> Result<()> {
        write_sidecar(&lock.path, &crcs)?;
        self.remember_checksums(lock.block_id, crcs.into());
        Ok(())
    }

    fn remember_checksums(&self, id: i64, crcs: Arc<[u32]>) {
        if let Some(b) = self.state.lock().blocks.get_mut(&id) {
            b.crcs = Some(crcs);
        }
    }
}
