//! `alluxio fs`: the file-system shell.

use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use alluxio_client::{ClientError, CreateFileOptions, FileInfo, FileSystem};
use alluxio_common::status::Code;
use alluxio_common::{AlluxioPath, Conf};
use alluxio_proto::grpc::file::{MountPOptions, SetAttributePOptions};
use bytes::{Bytes, BytesMut};
use clap::{Parser, Subcommand};

use crate::exit;
use crate::output::{self, Timestamp};

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
    Ls {
        #[arg(short = 'd')]
        dir_itself: bool,
        #[arg(short = 'f')]
        force: bool,
        #[arg(short = 'h')]
        human: bool,
        #[arg(short = 'p')]
        pinned: bool,
        #[arg(short = 'R', long = "recursive")]
        recursive: bool,
        #[arg(long)]
        sort: Option<String>,
        #[arg(short = 'r')]
        reverse: bool,
        #[arg(long)]
        timestamp: Option<String>,
        #[arg(required = true)]
        paths: Vec<String>,
    },
    /// Create directories, including missing parents.
    Mkdir {
        #[arg(required = true)]
        paths: Vec<String>,
    },
    /// Create a 0-byte file.
    Touch { path: String },
    /// Print a file's content.
    Cat {
        #[arg(required = true)]
        paths: Vec<String>,
    },
    /// Print the first bytes of a file (1KB by default).
    Head {
        #[arg(short = 'c', default_value = "1024")]
        bytes: String,
        path: String,
    },
    /// Print the last bytes of a file (1KB by default).
    Tail {
        #[arg(short = 'c', default_value = "1024")]
        bytes: String,
        path: String,
    },
    /// Show a path's status.
    Stat {
        #[arg(short = 'f')]
        format: Option<String>,
        path: String,
    },
    /// Test a property of a path; the exit code is the answer.
    Test {
        #[arg(short = 'd')]
        d: bool,
        #[arg(short = 'e')]
        e: bool,
        #[arg(short = 'f')]
        f: bool,
        #[arg(short = 's')]
        s: bool,
        #[arg(short = 'z')]
        z: bool,
        path: String,
    },
    /// Copy a local file or directory into Alluxio.
    #[command(name = "copyFromLocal")]
    CopyFromLocal {
        #[arg(long)]
        thread: Option<usize>,
        #[arg(long)]
        buffersize: Option<String>,
        src: String,
        dst: String,
    },
    /// Copy a file or directory from Alluxio to the local file system.
    #[command(name = "copyToLocal")]
    CopyToLocal {
        #[arg(long)]
        buffersize: Option<String>,
        src: String,
        dst: String,
    },
    /// Copy within Alluxio (or from/to the local file system with file://).
    Cp {
        #[arg(short = 'R', short_alias = 'r', long = "recursive")]
        recursive: bool,
        #[arg(long)]
        thread: Option<usize>,
        #[arg(long)]
        buffersize: Option<String>,
        #[arg(long)]
        preserve: bool,
        src: String,
        dst: String,
    },
    /// Rename a file or directory.
    Mv { src: String, dst: String },
    /// Remove files and directories.
    Rm {
        #[arg(short = 'R', short_alias = 'r', long = "recursive")]
        recursive: bool,
        #[arg(short = 'U')]
        unchecked: bool,
        #[arg(long = "alluxioOnly")]
        alluxio_only: bool,
        #[arg(required = true)]
        paths: Vec<String>,
    },
    /// Show the size of files.
    #[command(disable_help_flag = true)]
    Du {
        #[arg(short = 'h')]
        human: bool,
        #[arg(short = 's')]
        summary: bool,
        #[arg(short = 'm', long = "memory")]
        memory: bool,
        #[arg(short = 'g')]
        group_by_worker: bool,
        path: String,
    },
    /// Count files, folders and bytes under a path.
    #[command(disable_help_flag = true)]
    Count {
        #[arg(short = 'h')]
        human: bool,
        path: String,
    },
    /// MD5 of a file's content.
    Checksum { path: String },
    /// Change the mode of a path.
    Chmod {
        #[arg(short = 'R', short_alias = 'r', long = "recursive")]
        recursive: bool,
        mode: String,
        path: String,
    },
    /// Change the owner (and group) of a path.
    Chown {
        #[arg(short = 'R', short_alias = 'r', long = "recursive")]
        recursive: bool,
        owner: String,
        path: String,
    },
    /// Change the group of a path.
    Chgrp {
        #[arg(short = 'R', short_alias = 'r', long = "recursive")]
        recursive: bool,
        group: String,
        path: String,
    },
    /// Mount a UFS at an Alluxio path; without arguments, list mounts.
    Mount {
        #[arg(long)]
        readonly: bool,
        #[arg(long)]
        shared: bool,
        #[arg(long = "option")]
        option: Vec<String>,
        args: Vec<String>,
    },
    /// Unmount an Alluxio path.
    #[command(alias = "umount")]
    Unmount { path: String },
    /// Replace a mount's options.
    #[command(name = "updateMount")]
    UpdateMount {
        #[arg(long)]
        readonly: bool,
        #[arg(long)]
        shared: bool,
        #[arg(long = "option")]
        option: Vec<String>,
        path: String,
    },
    /// Drop cached copies of persisted files.
    Free {
        #[arg(short = 'f')]
        force: bool,
        path: String,
    },
    /// Persist files to the UFS.
    Persist {
        #[arg(required = true)]
        paths: Vec<String>,
    },
    /// Pin a file (optionally to media) so it is never evicted.
    Pin { path: String, media: Vec<String> },
    /// Unpin a file.
    Unpin { path: String },
    /// Set a time to live (ms).
    #[command(name = "setTtl")]
    SetTtl {
        #[arg(long, default_value = "delete")]
        action: String,
        path: String,
        #[arg(allow_hyphen_values = true)]
        ttl: String,
    },
    /// Set the minimum and maximum number of cached copies.
    #[command(name = "setReplication")]
    SetReplication {
        #[arg(long)]
        min: Option<i32>,
        #[arg(long, allow_hyphen_values = true)]
        max: Option<i32>,
        #[arg(short = 'R')]
        recursive: bool,
        path: String,
    },
    /// Remove the time to live.
    #[command(name = "unsetTtl")]
    UnsetTtl { path: String },
    /// Show which workers hold a file's blocks.
    Location { path: String },
    /// Load a file or directory into Alluxio storage.
    Load {
        #[arg(long)]
        local: bool,
        path: String,
    },
    /// Load metadata from the UFS.
    #[command(name = "loadMetadata")]
    LoadMetadata {
        #[arg(short = 'R')]
        recursive: bool,
        #[arg(short = 'F')]
        force: bool,
        path: String,
    },
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
    match execute(&fs, &conf, parsed.cmd).await {
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

async fn execute(fs: &FileSystem, conf: &Conf, cmd: Cmd) -> R<u8> {
    match cmd {
        Cmd::Ls { dir_itself, force: _, human, pinned, recursive, sort, reverse, timestamp, paths } => {
            let ts = match timestamp.as_deref() {
                None | Some("lastModificationTime") => Timestamp::Modification,
                Some("creationTime") => Timestamp::Creation,
                Some("lastAccessTime") => Timestamp::Access,
                Some(o) => return Err(fail(format!("Unrecognized timestamp option {o}"))),
            };
            for p in paths {
                for p in expand(fs, &p).await? {
                    let mut infos =
                        if dir_itself { vec![fs.get_status(&p).await?] } else { fs.list_status(&p, recursive).await? };
                    if let Some(field) = &sort {
                        sort_infos(&mut infos, field)?;
                    }
                    if reverse && sort.is_some() {
                        infos.reverse();
                    }
                    let mut out = std::io::stdout().lock();
                    for f in infos.iter().filter(|f| !pinned || f.pinned) {
                        let _ = writeln!(out, "{}", output::ls_line(f, human, ts));
                    }
                }
            }
            Ok(0)
        }
        Cmd::Mkdir { paths } => {
            let mut errors = Vec::new();
            for p in paths {
                let ap = path(&p)?;
                match fs.create_directory(&ap, true, false, None).await {
                    Ok(()) => println!("Successfully created directory {ap}"),
                    Err(e) => errors.push(e.message),
                }
            }
            if errors.is_empty() {
                Ok(0)
            } else {
                Err(fail(errors.join("\n")))
            }
        }
        Cmd::Touch { path: p } => {
            let ap = path(&p)?;
            let out = fs.create_file(&ap, CreateFileOptions { recursive: true, ..Default::default() }).await?;
            out.close().await?;
            println!("{ap} has been created");
            Ok(0)
        }
        Cmd::Cat { paths } => {
            for p in paths {
                for ap in expand(fs, &p).await? {
                    let info = fs.get_status(&ap).await?;
                    if info.folder {
                        return Err(fail(format!("Path \"{ap}\" must be a file.")));
                    }
                    let mut input = fs.open_file(&ap, None).await?;
                    while let Some(chunk) = input.read_chunk().await? {
                        write_stdout(&chunk)?;
                    }
                }
            }
            Ok(0)
        }
        Cmd::Head { bytes, path: p } => {
            print_part(fs, &p, &bytes, false).await?;
            Ok(0)
        }
        Cmd::Tail { bytes, path: p } => {
            print_part(fs, &p, &bytes, true).await?;
            Ok(0)
        }
        Cmd::Stat { format, path: p } => {
            for ap in expand(fs, &p).await? {
                let info = fs.get_status(&ap).await?;
                match &format {
                    Some(fmt) => println!("{}", stat_format(fmt, &info)),
                    None => {
                        if info.folder {
                            println!("{ap} is a directory path.");
                            println!("{}", output::file_info_string(&info));
                        } else {
                            println!("{ap} is a file path.");
                            let full = fs.open_file(&ap, None).await.map(|s| s.info().clone()).unwrap_or(info);
                            println!("{}", output::file_info_string(&full));
                            if full.file_block_infos.is_empty() {
                                println!("This file does not contain any blocks.");
                            } else {
                                println!("Containing the following blocks: ");
                                for b in &full.file_block_infos {
                                    println!(
                                        "{}",
                                        output::block_info_string(&b.block_info.clone().unwrap_or_default())
                                    );
                                }
                            }
                        }
                    }
                }
            }
            Ok(0)
        }
        Cmd::Test { d, e, f, s, z, path: p } => {
            let flags = [d, e, f, s, z].iter().filter(|x| **x).count();
            if flags != 1 {
                return Err(fail("test takes exactly one of -d, -e, -f, -s, -z"));
            }
            let ap = path(&p)?;
            let info = match fs.get_status(&ap).await {
                Ok(i) => i,
                Err(err) if err.code == Code::NotFound => return Ok(1),
                Err(err) => return Err(err.into()),
            };
            let yes = (d && info.folder)
                || e
                || (f && !info.folder)
                || (s && info.folder && info.length > 0)
                || (z && !info.folder && info.length == 0);
            Ok(if yes { 0 } else { 1 })
        }
        Cmd::CopyFromLocal { src, dst, .. } => {
            copy_from_local(fs, &src, &dst).await?;
            Ok(0)
        }
        Cmd::CopyToLocal { src, dst, .. } => {
            copy_to_local(fs, &src, &dst).await?;
            Ok(0)
        }
        Cmd::Cp { recursive, src, dst, .. } => {
            let local_src = src.strip_prefix("file://");
            let local_dst = dst.strip_prefix("file://");
            match (local_src, local_dst) {
                (Some(s), None) => copy_from_local(fs, s, &dst).await?,
                (None, Some(d)) => copy_to_local(fs, &src, d).await?,
                (Some(_), Some(_)) => return Err(fail("cp between two local paths: use the system's cp")),
                (None, None) => {
                    let s = path(&src)?;
                    let mut d = path(&dst)?;
                    let info = fs.get_status(&s).await?;
                    if info.folder && !recursive {
                        return Err(fail(format!(
                            "{s} is a directory, to copy it please use \"cp -R/-r/--recursive {s} {d}\""
                        )));
                    }
                    if let Ok(di) = fs.get_status(&d).await {
                        if di.folder {
                            d = d.join(s.name());
                        } else if info.folder {
                            return Err(fail("The destination cannot be an existing file when the source is a directory or a list of files."));
                        }
                    }
                    copy_within(fs, &s, &d, &info).await?;
                }
            }
            Ok(0)
        }
        Cmd::Mv { src, dst } => {
            let s = path(&src)?;
            let mut d = path(&dst)?;
            if let Ok(di) = fs.get_status(&d).await {
                if di.folder {
                    d = d.join(s.name());
                }
            }
            fs.rename(&s, &d).await?;
            println!("Renamed {src} to {dst}");
            Ok(0)
        }
        Cmd::Rm { recursive, unchecked: _, alluxio_only, paths } => {
            let mut errors = Vec::new();
            for p in paths {
                for ap in expand(fs, &p).await? {
                    let r: R = async {
                        let info = fs.get_status(&ap).await?;
                        if info.folder && !recursive {
                            return Err(fail(format!(
                                "{ap} is a directory, to remove it, please use \"rm -R/-r/--recursive {ap}\""
                            )));
                        }
                        fs.delete(&ap, recursive, alluxio_only).await?;
                        if alluxio_only {
                            println!("{ap} has been removed only from Alluxio space");
                        } else {
                            println!("{ap} has been removed");
                        }
                        Ok(())
                    }
                    .await;
                    if let Err(f) = r {
                        errors.push(f.message);
                    }
                }
            }
            if errors.is_empty() {
                Ok(0)
            } else {
                Err(fail(errors.join("\n")))
            }
        }
        Cmd::Du { human, summary, memory, group_by_worker: _, path: p } => {
            let ap = path(&p)?;
            let info = fs.get_status(&ap).await?;
            let files: Vec<FileInfo> = if info.folder {
                fs.list_status(&ap, true).await?.into_iter().filter(|f| !f.folder).collect()
            } else {
                vec![info]
            };
            let cell = |part: i64, total: i64| {
                let pct = if total > 0 { part * 100 / total } else { 0 };
                format!("{} ({pct}%)", output::size(part, human))
            };
            let row = |size: String, ina: String, inm: String, path: String| {
                if memory {
                    format!("{size:<13} {ina:<16} {inm:<16} {path}")
                } else {
                    format!("{size:<13} {ina:<16} {path}")
                }
            };
            println!("{}", row("File Size".into(), "In Alluxio".into(), "In Memory".into(), "Path".into()));
            let in_alluxio = |f: &FileInfo| f.length * f.in_alluxio_percentage as i64 / 100;
            let in_mem = |f: &FileInfo| f.length * f.in_memory_percentage as i64 / 100;
            if summary {
                let total: i64 = files.iter().map(|f| f.length).sum();
                let a: i64 = files.iter().map(in_alluxio).sum();
                let m: i64 = files.iter().map(in_mem).sum();
                println!("{}", row(output::size(total, human), cell(a, total), cell(m, total), ap.to_string()));
            } else {
                let mut files = files;
                files.sort_by(|a, b| a.path.cmp(&b.path));
                for f in &files {
                    println!(
                        "{}",
                        row(
                            output::size(f.length, human),
                            cell(in_alluxio(f), f.length),
                            cell(in_mem(f), f.length),
                            f.path.clone()
                        )
                    );
                }
            }
            Ok(0)
        }
        Cmd::Count { human, path: p } => {
            let ap = path(&p)?;
            let info = fs.get_status(&ap).await?;
            let (files, folders, bytes) = if info.folder {
                let all = fs.list_status(&ap, true).await?;
                let files = all.iter().filter(|f| !f.folder).count();
                let bytes: i64 = all.iter().filter(|f| !f.folder).map(|f| f.length).sum();
                (files, all.len() - files + 1, bytes)
            } else {
                (1, 0, info.length)
            };
            println!("{:<25}{:<25}{:<15}", "File Count", "Folder Count", "Folder Size");
            println!("{:<25}{:<25}{:<15}", files, folders, output::size(bytes, human));
            Ok(0)
        }
        Cmd::Checksum { path: p } => {
            use md5::{Digest, Md5};
            let ap = path(&p)?;
            let info = fs.get_status(&ap).await?;
            if info.folder {
                return Err(fail(format!("Path \"{ap}\" must be a file.")));
            }
            let mut input = fs.open_file(&ap, Some(alluxio_client::ReadPType::NoCache)).await?;
            let mut h = Md5::new();
            while let Some(c) = input.read_chunk().await? {
                h.update(&c);
            }
            let hex: String = h.finalize().iter().map(|b| format!("{b:02x}")).collect();
            println!("md5sum: {hex}\n");
            Ok(0)
        }
        Cmd::Chmod { recursive, mode, path: p } => {
            let m = alluxio_common::mode::parse_octal(&mode)
                .ok_or_else(|| fail(format!("Invalid mode {mode}: expected an octal mode such as 755")))?;
            for ap in expand(fs, &p).await? {
                fs.set_attribute(&ap, SetAttributePOptions { mode: Some(m), recursive, ..Default::default() }).await?;
                println!("Changed permission of {ap} to {m:o}");
            }
            Ok(0)
        }
        Cmd::Chown { recursive, owner, path: p } => {
            let (user, group) = match owner.split_once(':') {
                Some((u, g)) if !u.is_empty() && !g.is_empty() => (u.to_owned(), Some(g.to_owned())),
                None if !owner.is_empty() => (owner.clone(), None),
                _ => return Err(fail(format!("Failed to parse {owner} as user or user:group"))),
            };
            for ap in expand(fs, &p).await? {
                fs.set_attribute(
                    &ap,
                    SetAttributePOptions {
                        owner: Some(user.clone()),
                        group: group.clone(),
                        recursive,
                        ..Default::default()
                    },
                )
                .await?;
                match &group {
                    Some(g) => println!("Changed owner:group of {ap} to {user}:{g}."),
                    None => println!("Changed owner of {ap} to {user}"),
                }
            }
            Ok(0)
        }
        Cmd::Chgrp { recursive, group, path: p } => {
            for ap in expand(fs, &p).await? {
                fs.set_attribute(
                    &ap,
                    SetAttributePOptions { group: Some(group.clone()), recursive, ..Default::default() },
                )
                .await?;
                println!("Changed group of {ap} to {group}");
            }
            Ok(0)
        }
        Cmd::Mount { readonly, shared, option, args } => match args.as_slice() {
            [] => {
                print_mounts(fs).await?;
                Ok(0)
            }
            [p, ufs] => {
                let ap = path(p)?;
                let properties = parse_options(&option)?;
                fs.mount(&ap, ufs, MountPOptions { read_only: readonly, properties, shared }).await?;
                println!("Mounted {ufs} at {ap}");
                Ok(0)
            }
            other => Err(fail(format!("Command mount takes 0 or 2 arguments, not {}", other.len()))),
        },
        Cmd::Unmount { path: p } => {
            let ap = path(&p)?;
            fs.unmount(&ap).await?;
            println!("Unmounted {ap}");
            Ok(0)
        }
        Cmd::UpdateMount { readonly, shared, option, path: p } => {
            let ap = path(&p)?;
            let properties = parse_options(&option)?;
            fs.update_mount(&ap, MountPOptions { read_only: readonly, properties, shared }).await?;
            println!("Updated mount point options at {ap}");
            Ok(0)
        }
        Cmd::Free { force, path: p } => {
            for ap in expand(fs, &p).await? {
                fs.free(&ap, true, force).await?;
                println!("{ap} was successfully freed from Alluxio space.");
            }
            Ok(0)
        }
        Cmd::Persist { paths } => {
            let mut files = Vec::new();
            for p in paths {
                for ap in expand(fs, &p).await? {
                    let info = fs.get_status(&ap).await?;
                    if info.folder {
                        files
                            .extend(fs.list_status(&ap, true).await?.into_iter().filter(|f| !f.folder && !f.persisted));
                    } else if !info.persisted {
                        files.push(info);
                    }
                }
            }
            println!("Found {} files to persist.", files.len());
            let n = files.len();
            for (i, f) in files.iter().enumerate() {
                let ap = path(&f.path)?;
                fs.persist(&ap).await?;
                let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20 * 60);
                loop {
                    if fs.get_status(&ap).await?.persisted {
                        break;
                    }
                    if std::time::Instant::now() > deadline {
                        return Err(fail(format!("Timed out waiting for file to be persisted: {ap}")));
                    }
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                }
                println!("({}/{n}) Successfully persisted file: {ap}", i + 1);
            }
            Ok(0)
        }
        Cmd::Pin { path: p, media } => {
            for m in &media {
                if !["MEM", "SSD", "HDD"].contains(&m.to_ascii_uppercase().as_str()) {
                    return Err(fail(format!(
                        "Invalid medium to pin the file. {m} are invalid. MEM,SSD,HDD are valid medium types"
                    )));
                }
            }
            let ap = path(&p)?;
            fs.set_attribute(
                &ap,
                SetAttributePOptions {
                    pinned: Some(true),
                    pinned_media: media.iter().map(|m| m.to_ascii_uppercase()).collect(),
                    recursive: true,
                    ..Default::default()
                },
            )
            .await?;
            println!("File '{ap}' was successfully pinned.");
            Ok(0)
        }
        Cmd::Unpin { path: p } => {
            let ap = path(&p)?;
            fs.set_attribute(&ap, SetAttributePOptions { pinned: Some(false), recursive: true, ..Default::default() })
                .await?;
            println!("File '{ap}' was successfully unpinned.");
            Ok(0)
        }
        Cmd::SetTtl { action, path: p, ttl } => {
            let action_up = action.to_ascii_uppercase();
            let a = match action_up.as_str() {
                "DELETE" => alluxio_proto::grpc::TtlAction::Delete,
                "FREE" => alluxio_proto::grpc::TtlAction::Free,
                _ => return Err(fail(format!("TTL action should be DELETE OR FREE, not {action}"))),
            };
            let ms = alluxio_common::conf::values::parse_duration_ms(&ttl).filter(|v| *v >= 0).ok_or_else(|| {
                fail(format!(
                    "Invalid TTL {ttl}: expected a non-negative number of milliseconds (or a duration such as 1h)"
                ))
            })?;
            let ap = path(&p)?;
            fs.set_attribute(
                &ap,
                SetAttributePOptions { ttl: Some(ms), ttl_action: Some(a as i32), ..Default::default() },
            )
            .await?;
            println!(
                "TTL of path '{ap}' was successfully set to {ms} milliseconds, with expiry action set to {action_up}"
            );
            Ok(0)
        }
        Cmd::SetReplication { min, max, recursive, path: p } => {
            if min.is_none() && max.is_none() {
                return Err(fail("setReplication needs --min, --max or both"));
            }
            if let (Some(a), Some(b)) = (min, max) {
                if b >= 0 && a > b {
                    return Err(fail(format!("Invalid replication: --min {a} is larger than --max {b}")));
                }
            }
            if min.is_some_and(|m| m < 0) {
                return Err(fail("Invalid replication: --min must be 0 or more"));
            }
            let ap = path(&p)?;
            let o =
                SetAttributePOptions { replication_min: min, replication_max: max, recursive, ..Default::default() };
            fs.set_attribute(&ap, o).await?;
            println!("Changed the replication level of {ap}");
            println!(
                "replicationMin={}, replicationMax={}",
                min.map(|v| v.to_string()).unwrap_or_else(|| "unchanged".into()),
                max.map(|v| v.to_string()).unwrap_or_else(|| "unchanged".into())
            );
            Ok(0)
        }
        Cmd::UnsetTtl { path: p } => {
            let ap = path(&p)?;
            fs.set_attribute(&ap, SetAttributePOptions { ttl: Some(-1), ..Default::default() }).await?;
            println!("TTL of file '{ap}' was successfully removed.");
            Ok(0)
        }
        Cmd::Location { path: p } => {
            let ap = path(&p)?;
            let input = fs.open_file(&ap, None).await?;
            let info = input.info();
            println!("{ap} with file id {} is on nodes: ", info.file_id);
            for b in &info.file_block_infos {
                for l in b.block_info.as_ref().map(|b| b.locations.clone()).unwrap_or_default() {
                    println!("{}", l.worker_address.map(|a| a.host).unwrap_or_default());
                }
            }
            Ok(0)
        }
        Cmd::Load { local, path: p } => {
            if local {
                let workers = fs.workers().await?;
                let hosts = ["localhost", "127.0.0.1"];
                if !workers.iter().any(|w| {
                    w.address.as_ref().is_some_and(|a| {
                        hosts.contains(&a.host.as_str()) || a.host == alluxio_common::user::local_hostname()
                    })
                }) {
                    return Err(fail("When local option is specified, there must be a local worker available"));
                }
            }
            let ap = path(&p)?;
            load(fs, &ap).await?;
            Ok(0)
        }
        Cmd::LoadMetadata { recursive, force: _, path: p } => {
            let ap = path(&p)?;
            fs.list_status(&ap, recursive).await?;
            Ok(0)
        }
        Cmd::Leader => {
            let m = fs.master_info().await?;
            println!("{}", m.leader_master_address.split(':').next().unwrap_or_default());
            Ok(0)
        }
        Cmd::MasterInfo => {
            let m = fs.master_info().await?;
            println!("Current leader master: {}", m.leader_master_address);
            println!("All masters: {:?}", m.master_addresses);
            Ok(0)
        }
        Cmd::GetCapacityBytes => {
            println!("Alluxio cluster's capacity is {} Bytes", fs.block_master_info().await?.capacity_bytes);
            Ok(0)
        }
        Cmd::GetUsedBytes => {
            println!("Alluxio cluster's used bytes is {} Bytes", fs.block_master_info().await?.used_bytes);
            let _ = conf;
            Ok(0)
        }
    }
}

fn write_stdout(b: &[u8]) -> R {
    tokio::task::block_in_place(|| {
        let mut out = std::io::stdout().lock();
        out.write_all(b).and_then(|_| out.flush())
    })
    .map_err(|e| fail(format!("cannot write to standard output: {e}")))
}

/// `head`/`tail`: the first or last `bytes` of a file.
async fn print_part(fs: &FileSystem, p: &str, bytes: &str, from_end: bool) -> R {
    let n = parse_size(bytes)?;
    let ap = path(p)?;
    if fs.get_status(&ap).await?.folder {
        return Err(fail(format!("Path \"{ap}\" must be a file.")));
    }
    let mut input = fs.open_file(&ap, None).await?;
    let start = if from_end { input.length().saturating_sub(n) } else { 0 };
    let data = input.read_range(start, n).await?;
    write_stdout(&data)
}

fn sort_infos(infos: &mut [FileInfo], field: &str) -> R {
    match field {
        "creationTime" => infos.sort_by_key(|f| f.creation_time_ms),
        "inMemoryPercentage" => infos.sort_by_key(|f| f.in_memory_percentage),
        "lastAccessTime" => infos.sort_by_key(|f| f.last_access_time_ms),
        "lastModificationTime" => infos.sort_by_key(|f| f.last_modification_time_ms),
        "name" => infos.sort_by_key(|f| f.name.to_lowercase()),
        "path" => infos.sort_by(|a, b| a.path.cmp(&b.path)),
        "size" => infos.sort_by_key(|f| f.length),
        o => return Err(fail(format!("Invalid sort option `{o}` for --sort"))),
    }
    Ok(())
}

fn stat_format(fmt: &str, f: &FileInfo) -> String {
    let mut out = String::new();
    let mut chars = fmt.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        match chars.peek().copied() {
            Some('N') => out.push_str(&f.name),
            Some('z') => out.push_str(&if f.folder { "NA".into() } else { f.length.to_string() }),
            Some('u') => out.push_str(&f.owner),
            Some('g') => out.push_str(&f.group),
            Some('i') => out.push_str(&f.file_id.to_string()),
            Some('y') => {
                use chrono::TimeZone;
                if let chrono::LocalResult::Single(t) = chrono::Local.timestamp_millis_opt(f.last_modification_time_ms)
                {
                    out.push_str(&t.format("%Y-%m-%d %H:%M:%S").to_string());
                }
            }
            Some('Y') => out.push_str(&f.last_modification_time_ms.to_string()),
            Some('b') => out.push_str(&if f.folder { "NA".into() } else { f.block_ids.len().to_string() }),
            _ => {
                out.push('%');
                continue;
            }
        }
        chars.next();
    }
    out
}

fn parse_options(opts: &[String]) -> R<std::collections::HashMap<String, String>> {
    let mut m = std::collections::HashMap::new();
    for o in opts {
        let (k, v) = o.split_once('=').ok_or_else(|| fail(format!("Invalid mount option {o}: expected key=value")))?;
        m.insert(k.to_owned(), v.to_owned());
    }
    Ok(m)
}

async fn print_mounts(fs: &FileSystem) -> R {
    let table = fs.mount_table().await?;
    let mut rows: Vec<_> = table.into_iter().collect();
    rows.sort_by(|a, b| a.0.cmp(&b.0));
    let uri_w = rows.iter().map(|(_, m)| m.ufs_uri.len()).max().unwrap_or(0);
    let path_w = rows.iter().map(|(p, _)| p.len()).max().unwrap_or(0);
    for (p, m) in rows {
        let mut props: Vec<String> = m.properties.iter().map(|(k, v)| format!("{k}={v}")).collect();
        props.sort();
        let cap = if m.ufs_capacity_bytes > 0 { output::size(m.ufs_capacity_bytes, true) } else { "-1B".into() };
        let used = if m.ufs_capacity_bytes > 0 {
            format!("{}({}%)", output::size(m.ufs_used_bytes, true), m.ufs_used_bytes * 100 / m.ufs_capacity_bytes)
        } else {
            "-1B".into()
        };
        println!(
            "{:<uri_w$}  on  {:<path_w$}  ({}, capacity={}, used={}, {}read-only, {}shared, properties={{{}}})",
            m.ufs_uri,
            p,
            m.ufs_type,
            cap,
            used,
            if m.read_only { "" } else { "not " },
            if m.shared { "" } else { "not " },
            props.join(", ")
        );
    }
    Ok(())
}

/// Copies one local file into Alluxio, reading ahead on a blocking thread.
async fn upload_file(fs: &FileSystem, src: &Path, dst: &AlluxioPath, pb: Option<&indicatif::ProgressBar>) -> R {
    let file = std::fs::File::open(src).map_err(|e| fail(format!("cannot read {}: {e}", src.display())))?;
    let (tx, mut rx) = tokio::sync::mpsc::channel::<std::io::Result<Bytes>>(2);
    let reader = tokio::task::spawn_blocking(move || {
        let mut file = file;
        loop {
            let mut buf = BytesMut::zeroed(IO_CHUNK);
            let mut filled = 0;
            while filled < IO_CHUNK {
                match file.read(&mut buf[filled..]) {
                    Ok(0) => break,
                    Ok(n) => filled += n,
                    Err(e) => {
                        let _ = tx.blocking_send(Err(e));
                        return;
                    }
                }
            }
            if filled == 0 {
                return;
            }
            buf.truncate(filled);
            if tx.blocking_send(Ok(buf.freeze())).is_err() {
                return;
            }
        }
    });
    let mut out = fs.create_file(dst, CreateFileOptions { recursive: true, ..Default::default() }).await?;
    while let Some(chunk) = rx.recv().await {
        let chunk = match chunk {
            Ok(c) => c,
            Err(e) => {
                out.abort().await;
                return Err(fail(format!("cannot read {}: {e}", src.display())));
            }
        };
        let n = chunk.len() as u64;
        out.write(chunk).await?;
        if let Some(pb) = pb {
            pb.inc(n);
        }
    }
    let _ = reader.await;
    out.close().await?;
    Ok(())
}

fn local_size(p: &Path) -> u64 {
    if p.is_dir() {
        std::fs::read_dir(p).map(|rd| rd.flatten().map(|e| local_size(&e.path())).sum()).unwrap_or(0)
    } else {
        std::fs::metadata(p).map(|m| m.len()).unwrap_or(0)
    }
}

async fn copy_from_local(fs: &FileSystem, src: &str, dst: &str) -> R {
    let src_path =
        std::path::absolute(src.strip_prefix("file://").unwrap_or(src)).map_err(|e| fail(format!("{src}: {e}")))?;
    if !src_path.exists() {
        return Err(fail(format!("Local path {} does not exist.", src_path.display())));
    }
    let mut d = path(dst)?;
    if let Ok(di) = fs.get_status(&d).await {
        if di.folder {
            d = d.join(&src_path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default());
        } else {
            return Err(fail(format!("Not allowed to create file because path already exists: {d}")));
        }
    }
    let pb = progress(local_size(&src_path), "copyFromLocal");
    if src_path.is_dir() {
        let mut stack: Vec<(PathBuf, AlluxioPath)> = vec![(src_path.clone(), d.clone())];
        while let Some((dir, target)) = stack.pop() {
            fs.create_directory(&target, true, true, None).await?;
            let mut entries: Vec<_> = std::fs::read_dir(&dir)
                .map_err(|e| fail(format!("cannot list {}: {e}", dir.display())))?
                .flatten()
                .collect();
            entries.sort_by_key(|e| e.file_name());
            for e in entries {
                let name = e.file_name().to_string_lossy().into_owned();
                let p = e.path();
                if p.is_dir() {
                    stack.push((p, target.join(&name)));
                } else {
                    upload_file(fs, &p, &target.join(&name), pb.as_ref()).await?;
                    println!("Copied file://{} to {}", p.display(), target.join(&name));
                }
            }
        }
    } else {
        upload_file(fs, &src_path, &d, pb.as_ref()).await?;
    }
    if let Some(pb) = pb {
        pb.finish_and_clear();
    }
    println!("Copied file://{} to {}", src_path.display(), d);
    Ok(())
}

/// Copies one Alluxio file to a local path through a temporary name.
async fn download_file(fs: &FileSystem, src: &AlluxioPath, dst: &Path, pb: Option<&indicatif::ProgressBar>) -> R {
    let mut input = fs.open_file(src, None).await?;
    let tmp = dst.with_file_name(format!(
        ".{}.alluxio-copy",
        dst.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
    ));
    let file = std::fs::File::create(&tmp).map_err(|e| fail(format!("cannot create {}: {e}", tmp.display())))?;
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Bytes>(4);
    let tmp2 = tmp.clone();
    let writer = tokio::task::spawn_blocking(move || -> std::io::Result<()> {
        let mut file = std::io::BufWriter::with_capacity(IO_CHUNK, file);
        while let Some(b) = rx.blocking_recv() {
            file.write_all(&b)?;
        }
        file.flush()?;
        Ok(())
    });
    let mut read_err = None;
    loop {
        match input.read_chunk().await {
            Ok(Some(c)) => {
                if let Some(pb) = pb {
                    pb.inc(c.len() as u64);
                }
                if tx.send(c).await.is_err() {
                    break;
                }
            }
            Ok(None) => break,
            Err(e) => {
                read_err = Some(e);
                break;
            }
        }
    }
    drop(tx);
    let w = writer.await.map_err(|e| fail(e.to_string()))?;
    if let Some(e) = read_err {
        let _ = std::fs::remove_file(&tmp2);
        return Err(e.into());
    }
    if let Err(e) = w {
        let _ = std::fs::remove_file(&tmp2);
        return Err(fail(format!("cannot write {}: {e}", dst.display())));
    }
    std::fs::rename(&tmp2, dst).map_err(|e| fail(format!("cannot write {}: {e}", dst.display())))?;
    Ok(())
}

async fn copy_to_local(fs: &FileSystem, src: &str, dst: &str) -> R {
    let s = path(src)?;
    let info = fs.get_status(&s).await?;
    let mut d = std::path::absolute(dst).map_err(|e| fail(format!("{dst}: {e}")))?;
    if d.is_dir() {
        d = d.join(s.name());
    }
    let total = if info.folder {
        fs.list_status(&s, true).await?.iter().filter(|f| !f.folder).map(|f| f.length).sum()
    } else {
        info.length
    };
    let pb = progress(total.max(0) as u64, "copyToLocal");
    if info.folder {
        let all = fs.list_status(&s, true).await?;
        std::fs::create_dir_all(&d).map_err(|e| fail(format!("cannot create {}: {e}", d.display())))?;
        println!("Create directory: {}", d.display());
        for f in all {
            let fp = path(&f.path)?;
            let rel = fp.strip_ancestor(&s).unwrap_or("").to_owned();
            let target = d.join(&rel);
            if f.folder {
                std::fs::create_dir_all(&target)
                    .map_err(|e| fail(format!("cannot create {}: {e}", target.display())))?;
                println!("Create directory: {}", target.display());
            } else {
                download_file(fs, &fp, &target, pb.as_ref()).await?;
                println!("Copied {fp} to file://{}", target.display());
            }
        }
    } else {
        download_file(fs, &s, &d, pb.as_ref()).await?;
        if let Some(pb) = &pb {
            pb.finish_and_clear();
        }
        println!("Copied {s} to file://{}", d.display());
    }
    Ok(())
}

async fn copy_file(fs: &FileSystem, src: &AlluxioPath, dst: &AlluxioPath) -> R {
    let mut input = fs.open_file(src, None).await?;
    let mut out = fs.create_file(dst, CreateFileOptions { recursive: true, ..Default::default() }).await?;
    while let Some(c) = input.read_chunk().await? {
        out.write(c).await?;
    }
    out.close().await?;
    Ok(())
}

async fn copy_within(fs: &FileSystem, src: &AlluxioPath, dst: &AlluxioPath, info: &FileInfo) -> R {
    if !info.folder {
        copy_file(fs, src, dst).await?;
        println!("Copied {src} to {dst}");
        return Ok(());
    }
    fs.create_directory(dst, true, false, None).await?;
    println!("Created directory: {dst}");
    for f in fs.list_status(src, true).await? {
        let fp = path(&f.path)?;
        let target = AlluxioPath::parse(&format!("{}/{}", dst, fp.strip_ancestor(src).unwrap_or("")))?;
        if f.folder {
            fs.create_directory(&target, true, true, None).await?;
            println!("Created directory: {target}");
        } else {
            copy_file(fs, &fp, &target).await?;
            println!("Copied {fp} to {target}");
        }
    }
    Ok(())
}

async fn load(fs: &FileSystem, p: &AlluxioPath) -> R {
    let info = fs.get_status(p).await?;
    if info.folder {
        for f in fs.list_status(p, true).await? {
            if !f.folder {
                Box::pin(load(fs, &path(&f.path)?)).await?;
            }
        }
        println!("{p} loaded");
        return Ok(());
    }
    if info.in_alluxio_percentage == 100 {
        println!("{p} already in Alluxio fully");
        return Ok(());
    }
    let mut input = fs.open_file(p, Some(alluxio_client::ReadPType::Cache)).await?;
    while input.read_chunk().await?.is_some() {}
    println!("{p} loaded");
    Ok(())
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
