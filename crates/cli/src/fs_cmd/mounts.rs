//! Mount points, and loading metadata from the UFS.

use super::*;

/// Mount a UFS at an Alluxio path; without arguments, list mounts.
#[derive(clap::Args, Debug)]
pub(super) struct MountArgs {
    #[arg(long)]
    pub readonly: bool,
    #[arg(long)]
    pub shared: bool,
    #[arg(long = "option")]
    pub option: Vec<String>,
    pub args: Vec<String>,
}

pub(super) async fn mount(fs: &FileSystem, a: MountArgs) -> R<u8> {
    let MountArgs { readonly, shared, option, args } = a;
    match args.as_slice() {
        [] => {
            print_mounts(fs).await?;
            Ok(0)
        }
        [p, ufs] => {
            let ap = path(p)?;
            let properties = parse_options(&option)?;
            fs.mount(&ap, ufs, MountOptions { read_only: readonly, properties, shared }).await?;
            println!("Mounted {ufs} at {ap}");
            Ok(0)
        }
        other => Err(fail(format!("Command mount takes 0 or 2 arguments, not {}", other.len()))),
    }
}

/// Unmount an Alluxio path.
#[derive(clap::Args, Debug)]
pub(super) struct UnmountArgs {
    pub path: String,
}

pub(super) async fn unmount(fs: &FileSystem, a: UnmountArgs) -> R<u8> {
    let UnmountArgs { path: p } = a;
    let ap = path(&p)?;
    fs.unmount(&ap).await?;
    println!("Unmounted {ap}");
    Ok(0)
}

/// Replace a mount's options.
#[derive(clap::Args, Debug)]
pub(super) struct UpdateMountArgs {
    #[arg(long)]
    pub readonly: bool,
    #[arg(long)]
    pub shared: bool,
    #[arg(long = "option")]
    pub option: Vec<String>,
    pub path: String,
}

pub(super) async fn update_mount(fs: &FileSystem, a: UpdateMountArgs) -> R<u8> {
    let UpdateMountArgs { readonly, shared, option, path: p } = a;
    let ap = path(&p)?;
    let properties = parse_options(&option)?;
    fs.update_mount(&ap, MountOptions { read_only: readonly, properties, shared }).await?;
    println!("Updated mount point options at {ap}");
    Ok(0)
}

/// Load metadata from the UFS.
#[derive(clap::Args, Debug)]
pub(super) struct LoadMetadataArgs {
    #[arg(short = 'R')]
    pub recursive: bool,
    #[arg(short = 'F')]
    pub force: bool,
    pub path: String,
}

pub(super) async fn load_metadata(fs: &FileSystem, a: LoadMetadataArgs) -> R<u8> {
    let LoadMetadataArgs { recursive, force: _, path: p } = a;
    let ap = path(&p)?;
    fs.list_status(&ap, recursive).await?;
    Ok(0)
}

fn parse_options(opts: &[String]) -> R<std::collections::BTreeMap<String, String>> {
    let mut m = std::collections::BTreeMap::new();
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
