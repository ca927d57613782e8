//! `alluxio fs`: the file-system shell.

use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use alluxio_client::{ClientError, CreateFileOptions, FileInfo, FileSystem, MountOptions, SetAttributeOptions};
use alluxio_common::status::Code;
use alluxio_common::{AlluxioPath, Conf};
use bytes::{Bytes, BytesMut};
use clap::{Parser, Subcommand};

use crate::exit;
use crate::output::{self, Timestamp};

mod acl;
mod attributes;
mod cluster;
mod copy;
mod mounts;
mod read;
mod tree;

/// Chunk size of local file reads and writes.
const IO_CHUNK: usize = 8 << 20;

#[derive(Parser, Debug)]
#[command(name = "alluxio fs", no_binary_name = true, disable_help_subcommand = true)]
struct FsArgs {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand, Debug)]
enum Cmd {
    /// List information about paths.
    #[command(disable_help_flag = true)]
    Ls(read::LsArgs),
    /// Create directories, including missing parents.
    Mkdir(tree::MkdirArgs),
    /// Create a 0-byte file.
    Touch(tree::TouchArgs),
    /// Print a file's content.
    Cat(read::CatArgs),
    /// Print the first bytes of a file (1KB by default).
    Head(read::HeadArgs),
    /// Print the last bytes of a file (1KB by default).
    Tail(read::TailArgs),
    /// Show a path's status.
    Stat(read::StatArgs),
    /// Test a property of a path; the exit code is the answer.
    Test(read::TestArgs),
    /// Copy a local file or directory into Alluxio.
    #[command(name = "copyFromLocal")]
    CopyFromLocal(copy::CopyFromLocalArgs),
    /// Copy a file or directory from Alluxio to the local file system.
    #[command(name = "copyToLocal")]
    CopyToLocal(copy::CopyToLocalArgs),
    /// Copy within Alluxio (or from/to the local file system with file://).
    Cp(copy::CpArgs),
    /// Rename a file or directory.
    Mv(tree::MvArgs),
    /// Remove files and directories.
    Rm(tree::RmArgs),
    /// Show the size of files.
    #[command(disable_help_flag = true)]
    Du(read::DuArgs),
    /// Count files, folders and bytes under a path.
    #[command(disable_help_flag = true)]
    Count(read::CountArgs),
    /// MD5 of a file's content.
    Checksum(read::ChecksumArgs),
    /// Change the mode of a path.
    Chmod(attributes::ChmodArgs),
    /// Change the owner (and group) of a path.
    Chown(attributes::ChownArgs),
    /// Change the group of a path.
    Chgrp(attributes::ChgrpArgs),
    /// Show the ACL of a path.
    Getfacl(acl::GetfaclArgs),
    /// Set the ACL of a path.
    Setfacl(acl::SetfaclArgs),
    /// Mount a UFS at an Alluxio path; without arguments, list mounts.
    Mount(mounts::MountArgs),
    /// Unmount an Alluxio path.
    #[command(alias = "umount")]
    Unmount(mounts::UnmountArgs),
    /// Replace a mount's options.
    #[command(name = "updateMount")]
    UpdateMount(mounts::UpdateMountArgs),
    /// Drop cached copies of persisted files.
    Free(attributes::FreeArgs),
    /// Persist files to the UFS.
    Persist(attributes::PersistArgs),
    /// Pin a file (optionally to media) so it is never evicted.
    Pin(attributes::PinArgs),
    /// Unpin a file.
    Unpin(attributes::UnpinArgs),
    /// Set a time to live (ms).
    #[command(name = "setTtl")]
    SetTtl(attributes::SetTtlArgs),
    /// Set the minimum and maximum number of cached copies.
    #[command(name = "setReplication")]
    SetReplication(attributes::SetReplicationArgs),
    /// Remove the time to live.
    #[command(name = "unsetTtl")]
    UnsetTtl(attributes::UnsetTtlArgs),
    /// Show which workers hold a file's blocks.
    Location(read::LocationArgs),
    /// Load a file or directory into Alluxio storage.
    Load(copy::LoadArgs),
    /// Load metadata from the UFS.
    #[command(name = "loadMetadata")]
    LoadMetadata(mounts::LoadMetadataArgs),
    /// Print the leading master.
    Leader,
    /// Print the masters.
    #[command(name = "masterInfo")]
    MasterInfo,
    /// Print the cluster's capacity in bytes.
    #[command(name = "getCapacityBytes")]
    GetCapacityBytes,
    /// Print the cluster's used bytes.
    #[command(name = "getUsedBytes")]
    GetUsedBytes,
}

/// A command's failure: message, and the exit code to return.
struct Failure {
    message: String,
    code: u8,
}

impl From<ClientError> for Failure {
    fn from(e: ClientError) -> Self {
        Failure { code: exit::for_code(e.code), message: e.message }
    }
}

impl From<alluxio_common::path::PathError> for Failure {
    fn from(e: alluxio_common::path::PathError) -> Self {
        Failure { code: exit::FAILURE, message: e.to_string() }
    }
}

fn fail(message: impl Into<String>) -> Failure {
    Failure { message: message.into(), code: exit::FAILURE }
}

type R<T = ()> = Result<T, Failure>;

fn usage() -> String {
    let mut s = String::from("Usage: alluxio fs [generic options]\n");
    let cmd = <FsArgs as clap::CommandFactory>::command();
    let mut names: Vec<String> = cmd.get_subcommands().map(|c| c.get_name().to_owned()).collect();
    names.sort();
    for n in names {
        s.push_str(&format!("\t [{n}]\n"));
    }
    s
}

/// Runs one `fs` command.
pub async fn run(conf: Arc<Conf>, args: Vec<String>) -> ExitCode {
    if args.is_empty() {
        print!("{}", usage());
        return ExitCode::from(exit::FAILURE);
    }
    if args[0] == "help" {
        print!("{}", usage());
        return ExitCode::SUCCESS;
    }
    let parsed = match FsArgs::try_parse_from(&args) {
        Ok(p) => p,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { exit::FAILURE } else { 0 });
        }
    };
    let fs = match FileSystem::connect(&conf).await {
        Ok(f) => f,
        Err(e) => {
            eprintln!("{}", e.message);
            return ExitCode::from(exit::for_code(e.code));
        }
    };
    match execute(&fs, parsed.cmd).await {
        Ok(code) => ExitCode::from(code),
        Err(f) => {
            eprintln!("{}", f.message);
            ExitCode::from(f.code)
        }
    }
}

fn path(p: &str) -> R<AlluxioPath> {
    Ok(AlluxioPath::parse(p)?)
}

/// Expands `*` and `?` wildcards component by component; a path without them is used as is.
async fn expand(fs: &FileSystem, pattern: &str) -> R<Vec<AlluxioPath>> {
    if !pattern.contains('*') && !pattern.contains('?') {
        return Ok(vec![path(pattern)?]);
    }
    let pat = path(pattern)?;
    let mut current = vec![AlluxioPath::root()];
    for comp in pat.components() {
        let mut next = Vec::new();
        for base in &current {
            if comp.contains('*') || comp.contains('?') {
                let Ok(children) = fs.list_status(base, false).await else {
                    continue;
                };
                for c in children {
                    if glob_match(comp, &c.name) {
                        next.push(base.join(&c.name));
                    }
                }
            } else {
                next.push(base.join(comp));
            }
        }
        current = next;
    }
    current.sort();
    if current.is_empty() {
        return Err(fail(format!("{pattern} does not exist.")));
    }
    Ok(current)
}

fn glob_match(p: &str, s: &str) -> bool {
    fn m(p: &[u8], s: &[u8]) -> bool {
        match (p.first(), s.first()) {
            (None, None) => true,
            (Some(b'*'), _) => m(&p[1..], s) || (!s.is_empty() && m(p, &s[1..])),
            (Some(b'?'), Some(_)) => m(&p[1..], &s[1..]),
            (Some(a), Some(b)) if a == b => m(&p[1..], &s[1..]),
            _ => false,
        }
    }
    m(p.as_bytes(), s.as_bytes())
}

fn parse_size(s: &str) -> R<u64> {
    match alluxio_common::conf::values::parse_bytes(s) {
        Some(0) | None => Err(fail("specified bytes must be > 0")),
        Some(n) => Ok(n),
    }
}

fn progress(total: u64, label: &str) -> Option<indicatif::ProgressBar> {
    if !std::io::stderr().is_terminal() {
        return None;
    }
    let pb = indicatif::ProgressBar::new(total);
    pb.set_style(
        indicatif::ProgressStyle::with_template("{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    pb.set_message(label.to_owned());
    Some(pb)
}

/// Runs one command: each command is one function of the module of its group.
async fn execute(fs: &FileSystem, cmd: Cmd) -> R<u8> {
    match cmd {
        Cmd::Ls(a) => read::ls(fs, a).await,
        Cmd::Mkdir(a) => tree::mkdir(fs, a).await,
        Cmd::Touch(a) => tree::touch(fs, a).await,
        Cmd::Cat(a) => read::cat(fs, a).await,
        Cmd::Head(a) => read::head(fs, a).await,
        Cmd::Tail(a) => read::tail(fs, a).await,
        Cmd::Stat(a) => read::stat(fs, a).await,
        Cmd::Test(a) => read::test(fs, a).await,
        Cmd::CopyFromLocal(a) => copy::copy_from_local(fs, a).await,
        Cmd::CopyToLocal(a) => copy::copy_to_local(fs, a).await,
        Cmd::Cp(a) => copy::cp(fs, a).await,
        Cmd::Mv(a) => tree::mv(fs, a).await,
        Cmd::Rm(a) => tree::rm(fs, a).await,
        Cmd::Du(a) => read::du(fs, a).await,
        Cmd::Count(a) => read::count(fs, a).await,
        Cmd::Checksum(a) => read::checksum(fs, a).await,
        Cmd::Chmod(a) => attributes::chmod(fs, a).await,
        Cmd::Chown(a) => attributes::chown(fs, a).await,
        Cmd::Chgrp(a) => attributes::chgrp(fs, a).await,
        Cmd::Getfacl(a) => acl::getfacl(fs, a).await,
        Cmd::Setfacl(a) => acl::setfacl(fs, a).await,
        Cmd::Mount(a) => mounts::mount(fs, a).await,
        Cmd::Unmount(a) => mounts::unmount(fs, a).await,
        Cmd::UpdateMount(a) => mounts::update_mount(fs, a).await,
        Cmd::Free(a) => attributes::free(fs, a).await,
        Cmd::Persist(a) => attributes::persist(fs, a).await,
        Cmd::Pin(a) => attributes::pin(fs, a).await,
        Cmd::Unpin(a) => attributes::unpin(fs, a).await,
        Cmd::SetTtl(a) => attributes::set_ttl(fs, a).await,
        Cmd::SetReplication(a) => attributes::set_replication(fs, a).await,
        Cmd::UnsetTtl(a) => attributes::unset_ttl(fs, a).await,
        Cmd::Location(a) => read::location(fs, a).await,
        Cmd::Load(a) => copy::load(fs, a).await,
        Cmd::LoadMetadata(a) => mounts::load_metadata(fs, a).await,
        Cmd::Leader => cluster::leader(fs).await,
        Cmd::MasterInfo => cluster::master_info(fs).await,
        Cmd::GetCapacityBytes => cluster::get_capacity_bytes(fs).await,
        Cmd::GetUsedBytes => cluster::get_used_bytes(fs).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_table_is_consistent() {
        <FsArgs as clap::CommandFactory>::command().debug_assert();
    }

    #[test]
    fn globs() {
        assert!(glob_match("*.txt", "a.txt"));
        assert!(glob_match("a?c", "abc"));
        assert!(!glob_match("*.txt", "a.txt.bak"));
    }
}
