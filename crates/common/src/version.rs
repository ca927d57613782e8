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

/// The protocol version this process announces: [`PROTOCOL_VERSION`], unless the
/// `ALLUXIO_RS_PROTOCOL_VERSION` environment variable overrides it to test how servers treat
/// older or newer peers.
pub fn announced_protocol_version() -> u32 {
    std::env::var("ALLUXIO_RS_PROTOCOL_VERSION").ok().and_then(|v| v.parse().ok()).unwrap_or(PROTOCOL_VERSION)
}
