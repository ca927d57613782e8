//! Changing attributes: mode, owner, group, pinning, TTL, replication; freeing and persisting.

use super::*;

/// Change the mode of a path.
#[derive(clap::Args, Debug)]
pub(super) struct ChmodArgs {
    #[arg(short = 'R', short_alias = 'r', long = "recursive")]
    pub recursive: bool,
    pub mode: String,
    pub path: String,
}

pub(super) async fn chmod(fs: &FileSystem, a: ChmodArgs) -> R<u8> {
    let ChmodArgs { recursive, mode, path: p } = a;
    let m = alluxio_common::mode::parse_octal(&mode)
        .ok_or_else(|| fail(format!("Invalid mode {mode}: expected an octal mode such as 755")))?;
    for ap in expand(fs, &p).await? {
        fs.set_attribute(&ap, SetAttributeOptions { mode: Some(m), recursive, ..Default::default() }).await?;
        println!("Changed permission of {ap} to {m:o}");
    }
    Ok(0)
}

/// Change the owner (and group) of a path.
#[derive(clap::Args, Debug)]
pub(super) struct ChownArgs {
    #[arg(short = 'R', short_alias = 'r', long = "recursive")]
    pub recursive: bool,
    pub owner: String,
    pub path: String,
}

pub(super) async fn chown(fs: &FileSystem, a: ChownArgs) -> R<u8> {
    let ChownArgs { recursive, owner, path: p } = a;
    let (user, group) = match owner.split_once(':') {
        Some((u, g)) if !u.is_empty() && !g.is_empty() => (u.to_owned(), Some(g.to_owned())),
        None if !owner.is_empty() => (owner.clone(), None),
        _ => return Err(fail(format!("Failed to parse {owner} as user or user:group"))),
    };
    for ap in expand(fs, &p).await? {
        fs.set_attribute(
            &ap,
            SetAttributeOptions { owner: Some(user.clone()), group: group.clone(), recursive, ..Default::default() },
        )
        .await?;
        match &group {
            Some(g) => println!("Changed owner:group of {ap} to {user}:{g}."),
            None => println!("Changed owner of {ap} to {user}"),
        }
    }
    Ok(0)
}

/// Change the group of a path.
#[derive(clap::Args, Debug)]
pub(super) struct ChgrpArgs {
    #[arg(short = 'R', short_alias = 'r', long = "recursive")]
    pub recursive: bool,
    pub group: String,
    pub path: String,
}

pub(super) async fn chgrp(fs: &FileSystem, a: ChgrpArgs) -> R<u8> {
    let ChgrpArgs { recursive, group, path: p } = a;
    for ap in expand(fs, &p).await? {
        fs.set_attribute(&ap, SetAttributeOptions { group: Some(group.clone()), recursive, ..Default::default() })
            .await?;
        println!("Changed group of {ap} to {group}");
    }
    Ok(0)
}

/// Drop cached copies of persisted files.
#[derive(clap::Args, Debug)]
pub(super) struct FreeArgs {
    #[arg(short = 'f')]
    pub force: bool,
    pub path: String,
}

pub(super) async fn free(fs: &FileSystem, a: FreeArgs) -> R<u8> {
    let FreeArgs { force, path: p } = a;
    for ap in expand(fs, &p).await? {
        fs.free(&ap, true, force).await?;
        println!("{ap} was successfully freed from Alluxio space.");
    }
    Ok(0)
}

/// Persist files to the UFS.
#[derive(clap::Args, Debug)]
pub(super) struct PersistArgs {
    #[arg(required = true)]
    pub paths: Vec<String>,
}

pub(super) async fn persist(fs: &FileSystem, a: PersistArgs) -> R<u8> {
    let PersistArgs { paths } = a;
    let mut files = Vec::new();
    for p in paths {
        for ap in expand(fs, &p).await? {
            let info = fs.get_status(&ap).await?;
            if info.folder {
                files.extend(fs.list_status(&ap, true).await?.into_iter().filter(|f| !f.folder && !f.persisted));
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

/// Pin a file (optionally to media) so it is never evicted.
#[derive(clap::Args, Debug)]
pub(super) struct PinArgs {
    pub path: String,
    pub media: Vec<String>,
}

pub(super) async fn pin(fs: &FileSystem, a: PinArgs) -> R<u8> {
    let PinArgs { path: p, media } = a;
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
        SetAttributeOptions {
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

/// Unpin a file.
#[derive(clap::Args, Debug)]
pub(super) struct UnpinArgs {
    pub path: String,
}

pub(super) async fn unpin(fs: &FileSystem, a: UnpinArgs) -> R<u8> {
    let UnpinArgs { path: p } = a;
    let ap = path(&p)?;
    fs.set_attribute(&ap, SetAttributeOptions { pinned: Some(false), recursive: true, ..Default::default() }).await?;
    println!("File '{ap}' was successfully unpinned.");
    Ok(0)
}

/// Set a time to live (ms).
#[derive(clap::Args, Debug)]
pub(super) struct SetTtlArgs {
    #[arg(long, default_value = "delete")]
    pub action: String,
    pub path: String,
    #[arg(allow_hyphen_values = true)]
    pub ttl: String,
}

pub(super) async fn set_ttl(fs: &FileSystem, a: SetTtlArgs) -> R<u8> {
    let SetTtlArgs { action, path: p, ttl } = a;
    let action_up = action.to_ascii_uppercase();
    let a = match action_up.as_str() {
        "DELETE" => alluxio_proto::grpc::TtlAction::Delete,
        "FREE" => alluxio_proto::grpc::TtlAction::Free,
        _ => return Err(fail(format!("TTL action should be DELETE OR FREE, not {action}"))),
    };
    let ms = alluxio_common::conf::values::parse_duration_ms(&ttl).filter(|v| *v >= 0).ok_or_else(|| {
        fail(format!("Invalid TTL {ttl}: expected a non-negative number of milliseconds (or a duration such as 1h)"))
    })?;
    let ap = path(&p)?;
    fs.set_attribute(&ap, SetAttributeOptions { ttl: Some(ms), ttl_action: Some(a), ..Default::default() }).await?;
    println!("TTL of path '{ap}' was successfully set to {ms} milliseconds, with expiry action set to {action_up}");
    Ok(0)
}

/// Set the minimum and maximum number of cached copies.
#[derive(clap::Args, Debug)]
pub(super) struct SetReplicationArgs {
    #[arg(long)]
    pub min: Option<i32>,
    #[arg(long, allow_hyphen_values = true)]
    pub max: Option<i32>,
    #[arg(short = 'R')]
    pub recursive: bool,
    pub path: String,
}

pub(super) async fn set_replication(fs: &FileSystem, a: SetReplicationArgs) -> R<u8> {
    let SetReplicationArgs { min, max, recursive, path: p } = a;
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
    let o = SetAttributeOptions { replication_min: min, replication_max: max, recursive, ..Default::default() };
    fs.set_attribute(&ap, o).await?;
    println!("Changed the replication level of {ap}");
    println!(
        "replicationMin={}, replicationMax={}",
        min.map(|v| v.to_string()).unwrap_or_else(|| "unchanged".into()),
        max.map(|v| v.to_string()).unwrap_or_else(|| "unchanged".into())
    );
    Ok(0)
}

/// Remove the time to live.
#[derive(clap::Args, Debug)]
pub(super) struct UnsetTtlArgs {
    pub path: String,
}

pub(super) async fn unset_ttl(fs: &FileSystem, a: UnsetTtlArgs) -> R<u8> {
    let UnsetTtlArgs { path: p } = a;
    let ap = path(&p)?;
    fs.set_attribute(&ap, SetAttributeOptions { ttl: Some(-1), ..Default::default() }).await?;
    println!("TTL of file '{ap}' was successfully removed.");
    Ok(0)
}
