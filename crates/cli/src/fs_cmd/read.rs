//! Reading: listings, contents, status, sizes, checksums, block locations.

use super::*;

/// List information about paths.
#[derive(clap::Args, Debug)]
pub(super) struct LsArgs {
    #[arg(short = 'd')]
    pub dir_itself: bool,
    #[arg(short = 'f')]
    pub force: bool,
    #[arg(short = 'h')]
    pub human: bool,
    #[arg(short = 'p')]
    pub pinned: bool,
    #[arg(short = 'R', long = "recursive")]
    pub recursive: bool,
    #[arg(long)]
    pub sort: Option<String>,
    #[arg(short = 'r')]
    pub reverse: bool,
    #[arg(long)]
    pub timestamp: Option<String>,
    #[arg(required = true)]
    pub paths: Vec<String>,
}

pub(super) async fn ls(fs: &FileSystem, a: LsArgs) -> R<u8> {
    let LsArgs { dir_itself, force: _, human, pinned, recursive, sort, reverse, timestamp, paths } = a;
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
                if let Err(e) = writeln!(out, "{}", output::ls_line(f, human, ts)) {
                    output::stdout_gone(&e);
                }
            }
        }
    }
    Ok(0)
}

/// Print a file's content.
#[derive(clap::Args, Debug)]
pub(super) struct CatArgs {
    #[arg(required = true)]
    pub paths: Vec<String>,
}

pub(super) async fn cat(fs: &FileSystem, a: CatArgs) -> R<u8> {
    let CatArgs { paths } = a;
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

/// Print the first bytes of a file (1KB by default).
#[derive(clap::Args, Debug)]
pub(super) struct HeadArgs {
    #[arg(short = 'c', default_value = "1024")]
    pub bytes: String,
    pub path: String,
}

pub(super) async fn head(fs: &FileSystem, a: HeadArgs) -> R<u8> {
    let HeadArgs { bytes, path: p } = a;
    print_part(fs, &p, &bytes, false).await?;
    Ok(0)
}

/// Print the last bytes of a file (1KB by default).
#[derive(clap::Args, Debug)]
pub(super) struct TailArgs {
    #[arg(short = 'c', default_value = "1024")]
    pub bytes: String,
    pub path: String,
}

pub(super) async fn tail(fs: &FileSystem, a: TailArgs) -> R<u8> {
    let TailArgs { bytes, path: p } = a;
    print_part(fs, &p, &bytes, true).await?;
    Ok(0)
}

/// Show a path's status.
#[derive(clap::Args, Debug)]
pub(super) struct StatArgs {
    #[arg(short = 'f')]
    pub format: Option<String>,
    pub path: String,
}

pub(super) async fn stat(fs: &FileSystem, a: StatArgs) -> R<u8> {
    let StatArgs { format, path: p } = a;
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
                            println!("{}", output::block_info_string(&b.block_info.clone().unwrap_or_default()));
                        }
                    }
                }
            }
        }
    }
    Ok(0)
}

/// Test a property of a path; the exit code is the answer.
#[derive(clap::Args, Debug)]
pub(super) struct TestArgs {
    #[arg(short = 'd')]
    pub d: bool,
    #[arg(short = 'e')]
    pub e: bool,
    #[arg(short = 'f')]
    pub f: bool,
    #[arg(short = 's')]
    pub s: bool,
    #[arg(short = 'z')]
    pub z: bool,
    pub path: String,
}

pub(super) async fn test(fs: &FileSystem, a: TestArgs) -> R<u8> {
    let TestArgs { d, e, f, s, z, path: p } = a;
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

/// Show the size of files.
#[derive(clap::Args, Debug)]
pub(super) struct DuArgs {
    #[arg(short = 'h')]
    pub human: bool,
    #[arg(short = 's')]
    pub summary: bool,
    #[arg(short = 'm', long = "memory")]
    pub memory: bool,
    #[arg(short = 'g')]
    pub group_by_worker: bool,
    pub path: String,
}

pub(super) async fn du(fs: &FileSystem, a: DuArgs) -> R<u8> {
    let DuArgs { human, summary, memory, group_by_worker: _, path: p } = a;
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

/// Count files, folders and bytes under a path.
#[derive(clap::Args, Debug)]
pub(super) struct CountArgs {
    #[arg(short = 'h')]
    pub human: bool,
    pub path: String,
}

pub(super) async fn count(fs: &FileSystem, a: CountArgs) -> R<u8> {
    let CountArgs { human, path: p } = a;
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

/// MD5 of a file's content.
#[derive(clap::Args, Debug)]
pub(super) struct ChecksumArgs {
    pub path: String,
}

pub(super) async fn checksum(fs: &FileSystem, a: ChecksumArgs) -> R<u8> {
    let ChecksumArgs { path: p } = a;
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

/// Show which workers hold a file's blocks.
#[derive(clap::Args, Debug)]
pub(super) struct LocationArgs {
    pub path: String,
}

pub(super) async fn location(fs: &FileSystem, a: LocationArgs) -> R<u8> {
    let LocationArgs { path: p } = a;
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

fn write_stdout(b: &[u8]) -> R {
    tokio::task::block_in_place(|| {
        let mut out = std::io::stdout().lock();
        out.write_all(b).and_then(|_| out.flush())
    })
    .map_err(|e| {
        output::stdout_gone(&e);
        fail(format!("cannot write to standard output: {e}"))
    })
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
