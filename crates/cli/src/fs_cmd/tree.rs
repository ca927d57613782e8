//! Creating, renaming and removing paths.

use super::*;

/// Create directories, including missing parents.
#[derive(clap::Args, Debug)]
pub(super) struct MkdirArgs {
    #[arg(required = true)]
    pub paths: Vec<String>,
}

pub(super) async fn mkdir(fs: &FileSystem, a: MkdirArgs) -> R<u8> {
    let MkdirArgs { paths } = a;
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

/// Create a 0-byte file.
#[derive(clap::Args, Debug)]
pub(super) struct TouchArgs {
    pub path: String,
}

pub(super) async fn touch(fs: &FileSystem, a: TouchArgs) -> R<u8> {
    let TouchArgs { path: p } = a;
    let ap = path(&p)?;
    let out = fs.create_file(&ap, CreateFileOptions { recursive: true, ..Default::default() }).await?;
    out.close().await?;
    println!("{ap} has been created");
    Ok(0)
}

/// Rename a file or directory.
#[derive(clap::Args, Debug)]
pub(super) struct MvArgs {
    pub src: String,
    pub dst: String,
}

pub(super) async fn mv(fs: &FileSystem, a: MvArgs) -> R<u8> {
    let MvArgs { src, dst } = a;
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

/// Remove files and directories.
#[derive(clap::Args, Debug)]
pub(super) struct RmArgs {
    #[arg(short = 'R', short_alias = 'r', long = "recursive")]
    pub recursive: bool,
    #[arg(short = 'U')]
    pub unchecked: bool,
    #[arg(long = "alluxioOnly")]
    pub alluxio_only: bool,
    #[arg(required = true)]
    pub paths: Vec<String>,
}

pub(super) async fn rm(fs: &FileSystem, a: RmArgs) -> R<u8> {
    let RmArgs { recursive, unchecked: _, alluxio_only, paths } = a;
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
