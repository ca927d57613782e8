//! Alluxio's id scheme: a block id is a 40-bit container id and a 24-bit sequence number.
//!
//! A file owns one container: its id is the container with the maximum sequence number,
//! and its i-th block is the container with sequence i, so file ⇄ block ids derive from
//! each other without any lookup.

/// Bits of a block id that hold the sequence number.
pub const SEQUENCE_BITS: u32 = 24;
/// The largest sequence number; a file id carries it.
pub const MAX_SEQUENCE: i64 = (1 << SEQUENCE_BITS) - 1;

/// The container part of a block or file id.
pub fn container_id(id: i64) -> i64 {
    id >> SEQUENCE_BITS
}

/// The sequence part of a block id.
pub fn sequence_number(id: i64) -> i64 {
    id & MAX_SEQUENCE
}

/// A block or inode id from its two parts.
pub fn create_id(container: i64, sequence: i64) -> i64 {
    (container << SEQUENCE_BITS) | (sequence & MAX_SEQUENCE)
}

/// The id of the file that owns a container.
pub fn file_id_of_container(container: i64) -> i64 {
    create_id(container, MAX_SEQUENCE)
}

/// The id of the file a block belongs to.
pub fn file_id_of_block(block_id: i64) -> i64 {
    file_id_of_container(container_id(block_id))
}

/// The id of the `index`-th block of a file.
pub fn block_id(file_id: i64, index: i64) -> i64 {
    create_id(container_id(file_id), index)
}

/// Whether an inode id names a file (directories use other sequence numbers).
pub fn is_file_id(id: i64) -> bool {
    sequence_number(id) == MAX_SEQUENCE
}

/// Number of blocks of a file of `length` bytes in blocks of `block_size` bytes.
pub fn block_count(length: i64, block_size: i64) -> i64 {
    if length <= 0 || block_size <= 0 {
        0
    } else {
        (length + block_size - 1) / block_size
    }
}

/// Length of the `index`-th block of a file.
pub fn block_length(length: i64, block_size: i64, index: i64) -> i64 {
    (length - index * block_size).clamp(0, block_size)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_and_block_ids_derive_from_each_other() {
        let f = file_id_of_container(7);
        assert!(is_file_id(f));
        let b = block_id(f, 3);
        assert_eq!(container_id(b), 7);
        assert_eq!(sequence_number(b), 3);
        assert_eq!(file_id_of_block(b), f);
        assert!(!is_file_id(b));
    }

    #[test]
    fn block_lengths_cover_the_file() {
        assert_eq!(block_count(0, 10), 0);
        assert_eq!(block_count(25, 10), 3);
        assert_eq!(block_length(25, 10, 2), 5);
        assert_eq!(block_length(20, 10, 1), 10);
    }
}
