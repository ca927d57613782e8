//! The record framing of every journal file (UFS journal segments and checkpoints, Raft log
//! segments): `payload length u32 | CRC32C of payload u32 | payload`, little-endian, and the
//! one rule that tells a torn append from damage.
//!
//! **The rule.** A crash in the middle of an append leaves the end of the file as a *prefix* of
//! what was being written (the file is short) or with whole sectors that never reached the disk,
//! which read as zeros: the assumption etcd's WAL repair makes. So the bytes from a bad record to
//! the end of the file are a torn append, safe to cut, only when they are all zeros, shorter than
//! the record's header, a record that runs past the end of the file (and is not a whole record
//! with a damaged length), or a whole-length record whose end is zero-filled from a sector
//! boundary. Anything else (a record whose whole length is there, not zero-filled, with a bad
//! checksum; a record that passes its checksum but does not decode; an implausible length; whole
//! records of the following entry after the bad one) is damage of data that was already
//! acknowledged: the caller refuses to start and names the file and offset.

/// Bytes of a record's header (length and checksum).
pub const HEADER: usize = 8;
/// The unit a disk writes atomically: a torn append leaves whole sectors unwritten.
pub const SECTOR: usize = 512;
/// How far past damage to look for a whole record of the next entry.
const SEARCH_LIMIT: usize = 16 << 20;
/// How many bytes that search may checksum (candidate records of any length start everywhere).
const SEARCH_BUDGET: usize = 256 << 20;

/// Appends one record holding `payload` to `out`.
pub fn encode(payload: &[u8], out: &mut Vec<u8>) {
    let _ = encode_with(out, |o| {
        o.extend_from_slice(payload);
        Ok::<(), std::convert::Infallible>(())
    });
}

/// Appends one record whose payload `write` appends to `out` (no intermediate buffer).
pub fn encode_with<E>(out: &mut Vec<u8>, write: impl FnOnce(&mut Vec<u8>) -> Result<(), E>) -> Result<(), E> {
    let start = out.len();
    out.extend_from_slice(&[0u8; HEADER]);
    if let Err(e) = write(out) {
        out.truncate(start);
        return Err(e);
    }
    let len = (out.len() - start - HEADER) as u32;
    let crc = crc32c::crc32c(&out[start + HEADER..]);
    out[start..start + 4].copy_from_slice(&len.to_le_bytes());
    out[start + 4..start + HEADER].copy_from_slice(&crc.to_le_bytes());
    Ok(())
}

/// The record at `at` of `data`: its payload and its end offset, if it is whole, plausible
/// (1 to `max_len` bytes: no entry encodes to nothing, and zeros are no record) and passes its
/// checksum.
pub fn record(data: &[u8], at: usize, max_len: usize) -> Option<(&[u8], usize)> {
    let head = data.get(at..at.checked_add(HEADER)?)?;
    let len = u32::from_le_bytes([head[0], head[1], head[2], head[3]]) as usize;
    let crc = u32::from_le_bytes([head[4], head[5], head[6], head[7]]);
    if len == 0 || len > max_len {
        return None;
    }
    let end = at + HEADER + len;
    let payload = data.get(at + HEADER..end)?;
    (crc32c::crc32c(payload) == crc).then_some((payload, end))
}

/// Whether a whole record of the next entry starts within [`SEARCH_LIMIT`] bytes after `at`;
/// `None` when checking would hash more than [`SEARCH_BUDGET`] bytes (then the caller cannot
/// rule it out, and must treat the tail as damage).
fn whole_record_after(data: &[u8], at: usize, max_len: usize, is_next: &impl Fn(&[u8]) -> bool) -> Option<bool> {
    let search_end = data.len().min(at.saturating_add(1 + SEARCH_LIMIT));
    let mut budget = SEARCH_BUDGET;
    for p in at + 1..search_end {
        let Some(head) = data.get(p..p + HEADER) else { break };
        let len = u32::from_le_bytes([head[0], head[1], head[2], head[3]]) as usize;
        if len == 0 || len > max_len || p + HEADER + len > data.len() {
            continue;
        }
        budget = budget.checked_sub(len)?;
        if record(data, p, max_len).is_some_and(|(payload, _)| is_next(payload)) {
            return Some(true);
        }
    }
    Some(false)
}

/// What the bytes from a bad record to the end of a file are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tail {
    /// What a crash during an append leaves: safe to cut (in the file being appended to).
    Torn(String),
    /// Damage to acknowledged data: never cut without the operator's say.
    Damaged(String),
}

impl Tail {
    pub fn reason(&self) -> &str {
        match self {
            Tail::Torn(r) | Tail::Damaged(r) => r,
        }
    }
}

/// Classifies the bytes of `data` from `at` (the first record that is not whole and valid, or
/// that does not decode) to the end. `is_next` says whether a valid payload is the entry that
/// follows the one expected at `at` (a whole record of it after the damage proves the damage
/// is not at the end of what was written).
pub fn classify(data: &[u8], at: usize, max_len: usize, is_next: impl Fn(&[u8]) -> bool) -> Tail {
    let eof = data.len();
    let zeros_from = eof - data[at..].iter().rev().take_while(|b| **b == 0).count();
    if zeros_from <= at {
        return Tail::Torn("zero-filled tail".into());
    }
    match whole_record_after(data, at, max_len, &is_next) {
        Some(true) => return Tail::Damaged("a bad record followed by whole records of later entries".into()),
        Some(false) => {}
        None => {
            return Tail::Damaged("too much data follows the bad record to rule out whole records in it".into());
        }
    }
    let Some(head) = data.get(at..at + HEADER) else {
        return Tail::Torn("incomplete record header".into());
    };
    let len = u32::from_le_bytes([head[0], head[1], head[2], head[3]]) as usize;
    let crc = u32::from_le_bytes([head[4], head[5], head[6], head[7]]);
    if len > max_len {
        return Tail::Damaged(format!("record length {len} is implausible"));
    }
    let end = at + HEADER + len;
    if end > eof {
        if crc32c::crc32c(&data[at + HEADER..]) == crc {
            return Tail::Damaged("a whole record whose length field is damaged".into());
        }
        return Tail::Torn(format!("record of {len} bytes runs past the end of the file"));
    }
    if crc32c::crc32c(&data[at + HEADER..end]) == crc {
        return Tail::Damaged("record passes its checksum but does not decode".into());
    }
    if zeros_from <= end && zeros_from.next_multiple_of(SECTOR) < eof {
        return Tail::Torn("the end of the record is zero-filled sectors that were never written".into());
    }
    Tail::Damaged("record checksum mismatch (the whole record is there, so this is not a torn write)".into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A file of records whose payloads are `[index; n]`, after a `lead`-byte header.
    fn file(lead: usize, sizes: &[usize]) -> (Vec<u8>, Vec<usize>) {
        let mut out = vec![0xAB; lead];
        let mut starts = Vec::new();
        for (i, n) in sizes.iter().enumerate() {
            starts.push(out.len());
            encode(&vec![i as u8 + 1; *n], &mut out);
        }
        (out, starts)
    }

    /// Index of the first bad record (None when all are whole).
    fn first_bad(data: &[u8], starts_from: usize) -> Option<usize> {
        let mut at = starts_from;
        while at < data.len() {
            match record(data, at, 1 << 20) {
                Some((_, end)) => at = end,
                None => return Some(at),
            }
        }
        None
    }

    fn is_next_after(k: usize) -> impl Fn(&[u8]) -> bool {
        move |p: &[u8]| p.first() == Some(&(k as u8 + 2))
    }

    fn index_at(starts: &[usize], at: usize) -> usize {
        starts.iter().position(|s| *s == at).unwrap()
    }

    proptest! {
        /// A crash mid-append (the file cut anywhere, or its last sectors zeroed) is always torn.
        #[test]
        fn a_tear_is_never_damage(
            sizes in proptest::collection::vec(1usize..1500, 1..6),
            cut in any::<prop::sample::Index>(),
            zero_sectors in 0usize..4,
        ) {
            let (full, starts) = file(12, &sizes);
            let last = *starts.last().unwrap();
            // The last append (its record) was torn: cut inside it, then zero whole sectors.
            let cut_at = last + cut.index(full.len() - last);
            let mut torn = full[..cut_at].to_vec();
            let zero_from = (torn.len().saturating_sub(zero_sectors * SECTOR)).next_multiple_of(SECTOR).max(last);
            for b in torn.iter_mut().skip(zero_from) { *b = 0; }
            if let Some(at) = first_bad(&torn, 12) {
                let k = index_at(&starts, at);
                prop_assert!(matches!(classify(&torn, at, 1 << 20, is_next_after(k)), Tail::Torn(_)));
            }
        }

        /// A flipped bit in any record, the last one included, is damage.
        #[test]
        fn a_flipped_bit_is_always_damage(
            sizes in proptest::collection::vec(1usize..1500, 1..6),
            pos in any::<prop::sample::Index>(),
            bit in 0u8..8,
        ) {
            let (mut data, starts) = file(12, &sizes);
            let at = 12 + pos.index(data.len() - 12);
            data[at] ^= 1 << bit;
            let bad = first_bad(&data, 12).expect("a flip is caught");
            prop_assert!(bad <= at);
            let k = index_at(&starts, bad);
            let t = classify(&data, bad, 1 << 20, is_next_after(k));
            prop_assert!(matches!(t, Tail::Damaged(_)), "{t:?} at {at}");
        }
    }

    #[test]
    fn zero_filled_and_short_tails_are_torn_whole_bad_records_are_not() {
        let (data, starts) = file(12, &[100, 2000]);
        let last = starts[1];
        // Whole length, bad checksum, no zeros: damage.
        let mut flipped = data.clone();
        flipped[last + 20] ^= 1;
        assert!(matches!(classify(&flipped, last, 1 << 20, |_| false), Tail::Damaged(_)));
        // The same record with its last sectors never written: torn.
        let mut zeroed = data.clone();
        let from = (last + 600).next_multiple_of(SECTOR);
        zeroed[from..].iter_mut().for_each(|b| *b = 0);
        assert!(matches!(classify(&zeroed, last, 1 << 20, |_| false), Tail::Torn(_)));
        // Truncated inside the record: torn. All zeros: torn.
        assert!(matches!(classify(&data[..last + 50], last, 1 << 20, |_| false), Tail::Torn(_)));
        let mut z = data[..last].to_vec();
        z.extend_from_slice(&[0; 40]);
        assert!(matches!(classify(&z, last, 1 << 20, |_| false), Tail::Torn(_)));
        // A length that lies, with the whole record there: damage.
        let mut long = data.clone();
        long[last..last + 4].copy_from_slice(&5000u32.to_le_bytes());
        assert_eq!(classify(&long, last, 1 << 20, |_| false).reason(), "a whole record whose length field is damaged");
        // Damage to the first record with the second whole after it: damage.
        let mut early = data.clone();
        early[starts[0] + 3] ^= 0x10;
        assert!(matches!(classify(&early, starts[0], 1 << 20, is_next_after(0)), Tail::Damaged(_)));
    }
}
