//! Copying between Alluxio and the local file system, and loading into Alluxio storage.

use super::*;

/// Copy a local file or directory into Alluxio.
#[derive(clap::Args, Debug)]
pub(super) struct CopyFromLocalArgs {
    #[arg(long)]
    pub thread: Option<usize>,
    #[arg(long)]
    pub buffersize: Option<String>,
    pub src: String,
    pub dst: String,
}

pub(super) async fn copy_from_local(fs: &FileSystem, a: CopyFromLocalArgs) -> R<u8> {
    let CopyFromLocalArgs { src, dst, .. } = a;
    upload_tree(fs, &src, &dst).await?;
    Ok(0)
}

/// Copy a file or directory from Alluxio to the local file system.
#[derive(clap::Args, Debug)]
pub(super) struct CopyToLocalArgs {
    #[arg(long)]
    pub buffersize: Option<String>,
    pub src: String,
    pub dst: String,
}

pub(super) async fn copy_to_local(fs: &FileSystem, a: CopyToLocalArgs) -> R<u8> {
    let CopyToLocalArgs { src, dst, .. } = a;
    download_tree(fs, &src, &dst).await?;
    Ok(0)
}

/// Copy within Alluxio (or from/to the local file system with file://).
#[derive(clap::Args, Debug)]
pub(super) struct CpArgs {
    #[arg(short = 'R', short_alias = 'r', long = "recursive")]
    pub recursive: bool,
    #[arg(long)]
    pub thread: Option<usize>,
    #[arg(long)]
    pub buffersize: Option<String>,
    #[arg(long)]
    pub preserve: bool,
    pub src: String,
    pub dst: String,
}

pub(super) async fn cp(fs: &FileSystem, a: CpArgs) -> R<u8> {
    let CpArgs { recursive, src, dst, .. } = a;
    let local_src = src.strip_prefix("file://");
    let local_dst = dst.strip_prefix("file://");
    match (local_src, local_dst) {
        (Some(s), None) => upload_tree(fs, s, &dst).await?,
        (None, Some(d)) => download_tree(fs, &src, d).await?,
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
                    return Err(fail(
                        "The destination cannot be an existing file when the source is a directory or a list of files.",
                    ));
                }
            }
            copy_within(fs, &s, &d, &info).await?;
        }
    }
    Ok(0)
}

/// Load a file or directory into Alluxio storage.
#[derive(clap::Args, Debug)]
pub(super) struct LoadArgs {
    #[arg(long)]
    pub local: bool,
    pub path: String,
}

pub(super) async fn load(fs: &FileSystem, a: LoadArgs) -> R<u8> {
    let LoadArgs { local, path: p } = a;
    if local {
        let workers = fs.workers().await?;
        let hosts = ["localhost", "127.0.0.1"];
        if !workers.iter().any(|w| {
            w.address
                .as_ref()
                .is_some_and(|a| hosts.contains(&a.host.as_str()) || a.host == alluxio_common::user::local_hostname())
        }) {
            return Err(fail("When local option is specified, there must be a local worker available"));
        }
    }
    let ap = path(&p)?;
    load_path(fs, &ap).await?;
    Ok(0)
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

async fn upload_tree(fs: &FileSystem, src: &str, dst: &str) -> R {
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

async fn download_tree(fs: &FileSystem, src: &str, dst: &str) -> R {
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

async fn load_path(fs: &FileSystem, p: &AlluxioPath) -> R {
    let info = fs.get_status(p).await?;
    if info.folder {
        for f in fs.list_status(p, true).await? {
            if !f.folder {
                Box::pin(load_path(fs, &path(&f.path)?)).await?;
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
