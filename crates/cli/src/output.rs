//! Output formats that follow Alluxio's shell.

use alluxio_client::FileInfo;
use alluxio_common::conf::values::format_bytes;
use alluxio_common::mode::format_mode;

/// Writes to standard output; a reader that went away ends the process ([`stdout_gone`]).
pub fn print_out(args: std::fmt::Arguments) {
    use std::io::Write;
    if let Err(e) = std::io::stdout().lock().write_fmt(args) {
        stdout_gone(&e);
    }
}

/// After a failed write to standard output: if its reader went away (`| head`), ends the
/// process as SIGPIPE ends other Unix tools (quietly, status 128+13). SIGPIPE itself is
/// ignored so that a peer closing a socket never kills a command.
pub fn stdout_gone(e: &std::io::Error) {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        // SAFETY: restoring the default disposition and raising the signal on ourselves.
        unsafe {
            libc::signal(libc::SIGPIPE, libc::SIG_DFL);
            libc::raise(libc::SIGPIPE);
        }
        std::process::exit(141);
    }
}

/// Alluxio's date pattern `MM-dd-yyyy HH:mm:ss:SSS`, local time.
pub fn date(ms: i64) -> String {
    use chrono::TimeZone;
    match chrono::Local.timestamp_millis_opt(ms) {
        chrono::LocalResult::Single(t) => t.format("%m-%d-%Y %H:%M:%S:%3f").to_string(),
        _ => ms.to_string(),
    }
}

/// A size, raw or human-readable.
pub fn size(n: i64, human: bool) -> String {
    if human {
        format_bytes(n.max(0) as u64)
    } else {
        n.to_string()
    }
}

/// Which timestamp `ls` shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Timestamp {
    Creation,
    Modification,
    Access,
}

/// One `ls` line: `%-12s%-15s%-15s%15s%16s%24s%5s %-5s`.
pub fn ls_line(f: &FileInfo, human: bool, ts: Timestamp) -> String {
    // As Alluxio marks them: `+` after the mode of an inode with an ACL.
    let mut perm = format_mode(f.mode, f.folder);
    if !f.acl.is_empty() {
        perm.push('+');
    }
    let sz = if f.folder { f.length.to_string() } else { size(f.length, human) };
    let t = match ts {
        Timestamp::Creation => f.creation_time_ms,
        Timestamp::Modification => f.last_modification_time_ms,
        Timestamp::Access => f.last_access_time_ms,
    };
    let in_alluxio = if f.folder { "DIR".to_string() } else { format!("{}%", f.in_alluxio_percentage) };
    format!(
        "{:<12}{:<15}{:<15}{:>15}{:>16}{:>24}{:>5} {:<5}",
        perm,
        f.owner,
        f.group,
        sz,
        f.persistence_state,
        date(t),
        in_alluxio,
        f.path
    )
}

/// `FileInfo{...}` as Alluxio's `stat` prints it.
pub fn file_info_string(f: &FileInfo) -> String {
    let blocks: Vec<String> = f.block_ids.iter().map(|b| b.to_string()).collect();
    // The access ACL (the mode's three entries, or all of them) and the default ACL apart.
    let (default, access): (Vec<String>, Vec<String>) =
        alluxio_client::acl_entries(f).into_iter().partition(|e| e.starts_with("default:"));
    format!(
        "URIStatus{{info=FileInfo{{fileId={}, name={}, path={}, ufsPath={}, length={}, blockSizeBytes={}, \
         creationTimeMs={}, completed={}, folder={}, pinned={}, pinnedlocation=[{}], cacheable={}, persisted={}, \
         blockIds=[{}], inMemoryPercentage={}, lastModificationTimesMs={}, ttl={}, lastAccessTimesMs={}, \
         ttlAction={}, owner={}, group={}, mode={}, persistenceState={}, mountPoint={}, replicationMax={}, \
         replicationMin={}, fileBlockInfos=[{}], mountId={}, inAlluxioPercentage={}, ufsFingerprint={}, \
         acl={}, defaultAcl={}}}, cacheContext=null}}",
        f.file_id,
        f.name,
        f.path,
        f.ufs_path,
        f.length,
        f.block_size_bytes,
        f.creation_time_ms,
        f.completed,
        f.folder,
        f.pinned,
        f.medium_types.join(", "),
        f.cacheable,
        f.persisted,
        blocks.join(", "),
        f.in_memory_percentage,
        f.last_modification_time_ms,
        f.ttl,
        f.last_access_time_ms,
        if f.ttl_action == 1 { "FREE" } else { "DELETE" },
        f.owner,
        f.group,
        f.mode,
        f.persistence_state,
        f.mount_point,
        f.replication_max,
        f.replication_min,
        f.file_block_infos
            .iter()
            .map(|b| {
                let bi = b.block_info.clone().unwrap_or_default();
                format!("FileBlockInfo{{blockInfo={}, offset={}, ufsLocations=[]}}", block_info_string(&bi), b.offset)
            })
            .collect::<Vec<_>>()
            .join(", "),
        f.mount_id,
        f.in_alluxio_percentage,
        f.ufs_fingerprint,
        access.join(","),
        default.join(","),
    )
}

/// `BlockInfo{...}` as Alluxio prints it.
pub fn block_info_string(b: &alluxio_proto::grpc::BlockInfo) -> String {
    let locs: Vec<String> = b
        .locations
        .iter()
        .map(|l| {
            let a = l.worker_address.clone().unwrap_or_default();
            format!(
                "BlockLocation{{workerId={}, address=WorkerNetAddress{{host={}, containerHost=, rpcPort={}, dataPort={}, webPort={}, domainSocketPath=, tieredIdentity=TieredIdentity(node={}, rack=null)}}, tierAlias={}, mediumType={}}}",
                l.worker_id, a.host, a.rpc_port, a.data_port, a.web_port, a.host, l.tier_alias, l.medium_type
            )
        })
        .collect();
    format!("BlockInfo{{id={}, length={}, locations=[{}]}}", b.block_id, b.length, locs.join(", "))
}

/// Alluxio's uptime format.
pub fn duration(ms: i64) -> String {
    let s = ms / 1000;
    format!(
        "{} day(s), {} hour(s), {} minute(s), and {} second(s)",
        s / 86400,
        (s % 86400) / 3600,
        (s % 3600) / 60,
        s % 60
    )
}

/// Tier aliases in Alluxio's report order: MEM, SSD, HDD, then the rest by name.
pub fn sort_tiers<V>(m: impl IntoIterator<Item = (String, V)>) -> Vec<(String, V)> {
    let mut v: Vec<(String, V)> = m.into_iter().collect();
    v.sort_by(|a, b| {
        let rank = |t: &str| match t {
            "MEM" => 0,
            "SSD" => 1,
            "HDD" => 2,
            _ => 3,
        };
        (rank(&a.0), a.0.clone()).cmp(&(rank(&b.0), b.0.clone()))
    });
    v
}
