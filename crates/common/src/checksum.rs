//! Block checksums: the CRC32C of every [`CHUNK`] of a cached block, computed while the block is
//! written (by the worker, or by a client writing a block file directly) and kept beside the
//! block in a small sidecar file, so a read verifies only the chunks it covers.
//!
//! Sidecar format (little-endian): `magic "ALXCRC01" | chunk size u32 | count u32 |
//! count × crc u32 | CRC32C of everything before u32`.

use std::ops::Range;

/// Bytes covered by one checksum.
pub const CHUNK: usize = 1 << 20;
const MAGIC: &[u8; 8] = b"ALXCRC01";
/// No block has more chunks than this (a 64 GB block at 1 MiB chunks).
const MAX_CHUNKS: usize = 1 << 16;

/// CRC32C (Castagnoli) of `data`, with the fastest instructions this CPU has.
pub fn crc32c(data: &[u8]) -> u32 {
    crc_fast::crc32_iscsi(data)
}

/// The chunk checksums of a whole block.
pub fn of(data: &[u8]) -> Vec<u32> {
    data.chunks(CHUNK).map(crc32c).collect()
}

/// Chunk checksums of bytes fed in pieces of any size.
#[derive(Clone)]
pub struct Builder {
    crcs: Vec<u32>,
    digest: crc_fast::Digest,
    in_chunk: usize,
}

impl Default for Builder {
    fn default() -> Self {
        Builder { crcs: Vec::new(), digest: crc_fast::Digest::new(crc_fast::CrcAlgorithm::Crc32Iscsi), in_chunk: 0 }
    }
}

impl Builder {
    pub fn update(&mut self, mut data: &[u8]) {
        while !data.is_empty() {
            let take = (CHUNK - self.in_chunk).min(data.len());
            self.digest.update(&data[..take]);
            self.in_chunk += take;
            data = &data[take..];
            if self.in_chunk == CHUNK {
                self.crcs.push(self.digest.finalize_reset() as u32);
                self.in_chunk = 0;
            }
        }
    }

    pub fn finish(mut self) -> Vec<u32> {
        if self.in_chunk > 0 {
            self.crcs.push(self.digest.finalize() as u32);
        }
        self.crcs
    }
}

/// How many chunks a block of `len` bytes has.
pub fn chunk_count(len: u64) -> usize {
    len.div_ceil(CHUNK as u64) as usize
}

/// Checks the chunks of `block` that overlap `range` against `crcs`; the index of the first
/// chunk that does not match (or of the first chunk with no checksum) is the error.
pub fn verify(block: &[u8], crcs: &[u32], range: Range<usize>) -> Result<(), usize> {
    if crcs.len() != chunk_count(block.len() as u64) {
        return Err(crcs.len().min(chunk_count(block.len() as u64)));
    }
    let first = range.start / CHUNK;
    let last = range.end.min(block.len()).div_ceil(CHUNK);
    for i in first..last.max(first) {
        let chunk = &block[i * CHUNK..((i + 1) * CHUNK).min(block.len())];
        if crc32c(chunk) != crcs[i] {
            return Err(i);
        }
    }
    Ok(())
}

/// The sidecar file's bytes.
pub fn encode(crcs: &[u32]) -> Vec<u8> {
    let mut out = Vec::with_capacity(20 + 4 * crcs.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&(CHUNK as u32).to_le_bytes());
    out.extend_from_slice(&(crcs.len() as u32).to_le_bytes());
    for c in crcs {
        out.extend_from_slice(&c.to_le_bytes());
    }
    let own = crc32c(&out);
    out.extend_from_slice(&own.to_le_bytes());
    out
}

/// Reads a sidecar file's bytes; never panics on any input.
pub fn decode(bytes: &[u8]) -> Result<Vec<u32>, String> {
    if bytes.len() < 20 || &bytes[..8] != MAGIC {
        return Err("not a block checksum file".into());
    }
    let word = |at: usize| u32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]]);
    let (chunk, count) = (word(8) as usize, word(12) as usize);
    if chunk != CHUNK {
        return Err(format!("checksum chunk size {chunk}, this build uses {CHUNK}"));
    }
    if count > MAX_CHUNKS || bytes.len() != 20 + 4 * count {
        return Err(format!("{} bytes for {count} checksums", bytes.len()));
    }
    let end = 16 + 4 * count;
    if crc32c(&bytes[..end]) != word(end) {
        return Err("the checksum file fails its own checksum".into());
    }
    Ok((0..count).map(|i| word(16 + 4 * i)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn matches_the_castagnoli_check_value() {
        assert_eq!(crc32c(b"123456789"), 0xe306_9283);
    }

    proptest! {
        /// Whatever the piece sizes, the builder agrees with the whole-block computation, and
        /// the sidecar round-trips.
        #[test]
        fn pieces_agree_with_the_whole(len in 0usize..3 * CHUNK + 7, cuts in proptest::collection::vec(1usize..CHUNK + 3, 0..8)) {
            let data: Vec<u8> = (0..len).map(|i| (i * 7 + i / 13) as u8).collect();
            let mut b = Builder::default();
            let mut rest = &data[..];
            for c in cuts {
                let (a, r) = rest.split_at(c.min(rest.len()));
                b.update(a);
                rest = r;
            }
            b.update(rest);
            let crcs = b.finish();
            prop_assert_eq!(&crcs, &of(&data));
            prop_assert_eq!(decode(&encode(&crcs)), Ok(crcs.clone()));
            prop_assert_eq!(verify(&data, &crcs, 0..len), Ok(()));
        }

        /// A flipped bit is found by any range that covers its chunk, and by no other.
        #[test]
        fn a_flip_is_caught_in_its_chunk(len in 1usize..3 * CHUNK, pos in any::<prop::sample::Index>(), bit in 0u8..8,
                                         a in any::<prop::sample::Index>(), b in any::<prop::sample::Index>()) {
            let mut data: Vec<u8> = (0..len).map(|i| (i * 31) as u8).collect();
            let crcs = of(&data);
            let at = pos.index(len);
            data[at] ^= 1 << bit;
            let (x, y) = (a.index(len), b.index(len));
            let range = x.min(y)..x.max(y) + 1;
            let covers = range.start / CHUNK <= at / CHUNK && at / CHUNK < range.end.div_ceil(CHUNK);
            prop_assert_eq!(verify(&data, &crcs, range).is_err(), covers);
        }

        /// Any bytes decode to checksums or an error, never a panic.
        #[test]
        fn any_sidecar_bytes_decode_without_panic(mut bytes in proptest::collection::vec(any::<u8>(), 0..64), magic in any::<bool>()) {
            if magic && bytes.len() >= 8 {
                bytes[..8].copy_from_slice(MAGIC);
            }
            let _ = decode(&bytes);
        }
    }
}
