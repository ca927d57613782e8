//! Version numbers of the software, the wire protocol and the on-disk formats.
//!
//! Each format version is bumped when bytes written by this build could not be read by
//! the previous one. Readers accept every version from the `MIN_*` constant up.

/// The software version (Alluxio 2.x compatible surface).
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Version of the RPC protocol spoken between clients, masters and workers.
pub const PROTOCOL_VERSION: u32 = 1;
/// Oldest protocol version this build still serves.
pub const MIN_PROTOCOL_VERSION: u32 = 1;

/// Format version of journal segments, checkpoints and backups written by this build.
pub const JOURNAL_FORMAT_VERSION: u32 = 1;
/// Oldest journal format version this build can read.
pub const MIN_JOURNAL_FORMAT_VERSION: u32 = 1;
