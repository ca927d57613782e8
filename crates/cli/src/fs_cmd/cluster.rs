//! The cluster: masters and capacity.

use super::*;

/// Print the leading master.
pub(super) async fn leader(fs: &FileSystem) -> R<u8> {
    let m = fs.master_info().await?;
    println!("{}", m.leader_master_address.split(':').next().unwrap_or_default());
    Ok(0)
}

/// Print the masters.
pub(super) async fn master_info(fs: &FileSystem) -> R<u8> {
    let m = fs.master_info().await?;
    println!("Current leader master: {}", m.leader_master_address);
    println!("All masters: {:?}", m.master_addresses);
    Ok(0)
}

/// Print the cluster's capacity in bytes.
pub(super) async fn get_capacity_bytes(fs: &FileSystem) -> R<u8> {
    println!("Alluxio cluster's capacity is {} Bytes", fs.block_master_info().await?.capacity_bytes);
    Ok(0)
}

/// Print the cluster's used bytes.
pub(super) async fn get_used_bytes(fs: &FileSystem) -> R<u8> {
    println!("Alluxio cluster's used bytes is {} Bytes", fs.block_master_info().await?.used_bytes);
    Ok(0)
}
