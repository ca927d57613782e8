//! `alluxio fsadmin`: cluster administration.

use std::process::ExitCode;
use std::sync::Arc;

use alluxio_client::{FileSystem, UfsMode};
use alluxio_common::Conf;
use alluxio_proto::grpc::block::WorkerInfo;

use crate::exit;
use crate::output;

const USAGE: &str = "Usage: alluxio fsadmin [generic options]
\t [backup [directory] [--local] [--allow-leader]]
\t [getBlockInfo <blockId>]
\t [journal [checkpoint] [quorum info|remove|elect -domain MASTER [-address <host:port>]]]
\t [report [category] [category args]]
\t [ufs --mode <noAccess|readOnly|readWrite> <ufsPath>]
\t [updateConf [--option] <key=value> ...]";

pub async fn run(conf: Arc<Conf>, args: Vec<String>) -> ExitCode {
    if args.is_empty() {
        println!("{USAGE}");
        return ExitCode::from(exit::FAILURE);
    }
    let fs = match FileSystem::connect(&conf).await {
        Ok(f) => f,
        Err(e) => {
            eprintln!("{}", e.message);
            return ExitCode::from(exit::for_code(e.code));
        }
    };
    if args[0] == "updateConf" {
        return update_conf(&fs, &args[1..]).await;
    }
    let r = match args[0].as_str() {
        "report" => report(&fs, &args[1..]).await,
        "journal" => match args.get(1).map(String::as_str) {
            Some("checkpoint") => match fs.checkpoint().await {
                Ok((host, _)) => {
                    println!("Successfully took a checkpoint on master {host}");
                    Ok(())
                }
                Err(e) => Err(e.message),
            },
            Some("quorum") => quorum(&fs, &args[2..]).await,
            _ => Err(JOURNAL_USAGE.to_owned()),
        },
        "backup" => backup(&fs, &args[1..]).await,
        "decommissionWorker" => decommission(&fs, &args[1..]).await,
        "ufs" => ufs_mode(&fs, &args[1..]).await,
        "getBlockInfo" => Err("getBlockInfo: use `alluxio fs stat <path>` to see a file's blocks".to_owned()),
        other => Err(format!("{other} is an unknown command.\n{USAGE}")),
    };
    match r {
        Ok(()) => ExitCode::SUCCESS,
        Err(m) => {
            eprintln!("{m}");
            ExitCode::from(exit::FAILURE)
        }
    }
}

/// `updateConf key=value ...` (or `--option key=value`), with Alluxio's output and exit codes:
/// -1 when nothing is given, -2 when a key could not change.
async fn update_conf(fs: &FileSystem, args: &[String]) -> ExitCode {
    let properties: std::collections::HashMap<String, String> = args
        .iter()
        .filter(|a| *a != "--option")
        .filter_map(|a| a.split_once('=').map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned())))
        .collect();
    if properties.is_empty() {
        println!("No config to update");
        return ExitCode::from(-1i8 as u8);
    }
    let r = match fs.update_configuration(properties).await {
        Ok(r) => r,
        Err(e) => {
            eprintln!("{}", e.message);
            return ExitCode::from(exit::for_code(e.code));
        }
    };
    println!("Updated {} configs", r.status.len());
    let mut failed: Vec<&String> = r.status.iter().filter(|(_, ok)| !**ok).map(|(k, _)| k).collect();
    failed.sort();
    for k in &failed {
        println!("Failed to Update {k}");
        if let Some(why) = r.reasons.get(*k) {
            eprintln!("{why}");
        }
    }
    ExitCode::from(if failed.is_empty() { 0 } else { -2i8 as u8 })
}

const JOURNAL_USAGE: &str = "Usage: alluxio fsadmin journal checkpoint
       alluxio fsadmin journal quorum info -domain MASTER
       alluxio fsadmin journal quorum remove -domain MASTER -address <host:port>
       alluxio fsadmin journal quorum elect -address <host:port>";

/// `journal quorum info|remove|elect`, with Alluxio's `-domain` and `-address` options.
async fn quorum(fs: &FileSystem, args: &[String]) -> Result<(), String> {
    let mut domain = None;
    let mut address = None;
    let mut i = 1;
    while i < args.len() {
        match args[i].as_str() {
            "-domain" => domain = args.get(i + 1).cloned(),
            "-address" => address = args.get(i + 1).cloned(),
            o => return Err(format!("Unknown option {o}.\n{JOURNAL_USAGE}")),
        }
        i += 2;
    }
    let sub = args.first().map(String::as_str).unwrap_or_default();
    match domain.as_deref() {
        Some("MASTER") => {}
        None if sub == "elect" => {}
        Some("JOB_MASTER") => return Err("-domain JOB_MASTER: this cluster runs no job master".to_owned()),
        Some(d) => return Err(format!("Invalid -domain {d}: expected MASTER or JOB_MASTER")),
        None => return Err(format!("Option -domain is required.\n{JOURNAL_USAGE}")),
    }
    let need_address =
        || address.clone().ok_or_else(|| format!("Option -address <host:port> is required.\n{JOURNAL_USAGE}"));
    match sub {
        "info" => {
            let servers = fs.quorum_info().await.map_err(|e| e.message)?;
            let leader = servers.iter().find(|s| s.is_leader).map(|s| s.server_address.as_str()).unwrap_or("");
            println!("Journal domain\t: MASTER");
            println!("Quorum size\t: {}", servers.len());
            println!("Quorum leader\t: {leader}");
            println!();
            println!("{:<11} | {:<8} | SERVER ADDRESS", "STATE", "PRIORITY");
            let mut rows: Vec<_> = servers.iter().collect();
            rows.sort_by(|a, b| a.server_address.cmp(&b.server_address));
            for s in rows {
                let state = if s.server_state == alluxio_proto::grpc::journal::QuorumServerState::Available as i32 {
                    "AVAILABLE"
                } else {
                    "UNAVAILABLE"
                };
                println!("{state:<11} | {:<8} | {}", s.priority, s.server_address);
            }
            Ok(())
        }
        "remove" => {
            let a = need_address()?;
            fs.remove_quorum_server(&a).await.map_err(|e| e.message)?;
            println!("Removed server at: {a} from quorum: MASTER");
            Ok(())
        }
        "elect" => {
            let a = need_address()?;
            fs.transfer_leadership(&a).await.map_err(|e| e.message)?;
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
            loop {
                if let Ok(servers) = fs.quorum_info().await {
                    if servers.iter().any(|s| s.is_leader && s.server_address.eq_ignore_ascii_case(&a)) {
                        println!("Successfully elected {a} as the new leader");
                        return Ok(());
                    }
                }
                if std::time::Instant::now() > deadline {
                    return Err(format!("{a} did not become the leader within 30 s (is its journal up to date?)"));
                }
                tokio::time::sleep(std::time::Duration::from_millis(200)).await;
            }
        }
        _ => Err(JOURNAL_USAGE.to_owned()),
    }
}

async fn report(fs: &FileSystem, args: &[String]) -> Result<(), String> {
    match args.first().map(String::as_str) {
        None | Some("summary") => summary(fs).await,
        Some("capacity") => capacity(fs, &args[1..]).await,
        Some("ufs") => {
            println!("Alluxio under storage system information:");
            let table = fs.mount_table().await.map_err(|e| e.message)?;
            let mut rows: Vec<_> = table.into_iter().collect();
            rows.sort_by(|a, b| a.0.cmp(&b.0));
            for (p, m) in rows {
                println!(
                    "{}  on  {}  ({}, capacity=-1B, used=-1B, {}read-only, {}shared, properties={{{}}})",
                    m.ufs_uri,
                    p,
                    m.ufs_type,
                    if m.read_only { "" } else { "not " },
                    if m.shared { "" } else { "not " },
                    m.properties.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(", ")
                );
            }
            Ok(())
        }
        Some(_) => Err("report category is invalid.".to_owned()),
    }
}

async fn summary(fs: &FileSystem) -> Result<(), String> {
    let m = fs.master_info().await.map_err(|e| e.message)?;
    let b = fs.block_master_info().await.map_err(|e| e.message)?;
    println!("Alluxio cluster summary: ");
    println!("    Master Address: {}", m.leader_master_address);
    let standbys: Vec<&str> =
        m.master_addresses.iter().map(String::as_str).filter(|a| *a != m.leader_master_address).collect();
    if !standbys.is_empty() {
        println!("    Standby Masters: {}", standbys.join(", "));
    }
    println!("    Web Port: {}", m.web_port);
    println!("    Rpc Port: {}", m.rpc_port);
    println!("    Started: {}", output::date(m.start_time_ms));
    println!("    Uptime: {}", output::duration(m.up_time_ms));
    println!("    Version: {}", m.version);
    println!("    Safe Mode: {}", m.safe_mode);
    println!("    Zookeeper Enabled: false");
    println!("    Raft-based Journal: {}", m.journal_type == "EMBEDDED");
    println!("    Journal Type: {}", m.journal_type);
    println!("    Journal Format Version: {}", m.journal_format_version);
    println!("    Live Workers: {}", b.live_worker_num);
    println!("    Lost Workers: {}", b.lost_worker_num);
    println!("    Total Capacity: {}", output::size(b.capacity_bytes, true));
    for (t, v) in output::sort_tiers(b.capacity_bytes_on_tiers.clone()) {
        println!("        Tier: {t}  Size: {}", output::size(v, true));
    }
    println!("    Used Capacity: {}", output::size(b.used_bytes, true));
    for (t, v) in output::sort_tiers(b.used_bytes_on_tiers.clone()) {
        println!("        Tier: {t}  Size: {}", output::size(v, true));
    }
    println!("    Free Capacity: {}", output::size(b.capacity_bytes - b.used_bytes, true));
    Ok(())
}

async fn capacity(fs: &FileSystem, args: &[String]) -> Result<(), String> {
    let (which, include_lost) = match args.first().map(String::as_str) {
        None => ("all", true),
        Some("-live") => ("live", false),
        Some("-lost") => ("lost", true),
        Some("-workers") => ("specified", true),
        Some(o) => return Err(format!("Invalid filter {o}: expected -live, -lost or -workers <names>")),
    };
    let hosts: Vec<String> = args.get(1).map(|s| s.split(',').map(str::to_owned).collect()).unwrap_or_default();
    let mut workers = fs.worker_infos(include_lost).await.map_err(|e| e.message)?;
    workers.retain(|w| match which {
        "lost" => w.state == "Lost",
        "specified" => w.address.as_ref().is_some_and(|a| hosts.contains(&a.host)),
        _ => true,
    });
    if workers.is_empty() {
        println!("No workers found.");
        return Ok(());
    }
    workers.sort_by_key(|w| w.last_contact_sec);
    let tiers = print_capacity_summary(which, &workers);
    let max_host = workers.iter().map(|w| w.address.as_ref().map(|a| a.host.len()).unwrap_or(0)).max().unwrap_or(0);
    let width = if max_host >= 16 { max_host + 5 } else { 16 };
    if tiers.len() <= 1 {
        print_one_tier(&workers, tiers.first().map_or("MEM", String::as_str), width);
    } else {
        print_tiers(&workers, &tiers, width);
    }
    Ok(())
}

/// The totals over `workers`, per tier; returns the tiers, top first.
fn print_capacity_summary(which: &str, workers: &[WorkerInfo]) -> Vec<String> {
    let mut cap = std::collections::BTreeMap::<String, i64>::new();
    let mut used = std::collections::BTreeMap::<String, i64>::new();
    for w in workers {
        for (t, v) in &w.capacity_bytes_on_tiers {
            *cap.entry(t.clone()).or_default() += v;
        }
        for (t, v) in &w.used_bytes_on_tiers {
            *used.entry(t.clone()).or_default() += v;
        }
    }
    let total: i64 = cap.values().sum();
    let total_used: i64 = used.values().sum();
    println!("Capacity information for {which} workers: ");
    println!("    Total Capacity: {}", output::size(total, true));
    for (t, v) in output::sort_tiers(cap.clone()) {
        println!("        Tier: {t}  Size: {}", output::size(v, true));
    }
    println!("    Used Capacity: {}", output::size(total_used, true));
    for (t, v) in output::sort_tiers(used) {
        println!("        Tier: {t}  Size: {}", output::size(v, true));
    }
    if total > 0 {
        println!("    Used Percentage: {}%", total_used * 100 / total);
        println!("    Free Percentage: {}%", (total - total_used) * 100 / total);
    }
    println!();
    output::sort_tiers(cap).into_iter().map(|(t, _)| t).collect()
}

/// The per-worker table of a single-tier cluster: capacity and used of that tier.
fn print_one_tier(workers: &[WorkerInfo], tier: &str, fi: usize) {
    println!("{:<fi$} {:<16} {:<13} {}", "Worker Name", "Last Heartbeat", "Storage", tier);
    for w in workers {
        let host = w.address.as_ref().map(|a| a.host.clone()).unwrap_or_default();
        let c = w.capacity_bytes_on_tiers.get(tier).copied().unwrap_or(0);
        let u = w.used_bytes_on_tiers.get(tier).copied().unwrap_or(0);
        println!("{:<fi$} {:<16} {:<13} {}", host, w.last_contact_sec, "capacity", output::size(c, true));
        let pct = if c > 0 { format!(" ({}%)", u * 100 / c) } else { String::new() };
        println!("{:<fi$} {:<16} {:<13} {}{}", "", "", "used", output::size(u, true), pct);
    }
}

/// The per-worker table of a tiered cluster: totals, then one column per tier.
fn print_tiers(workers: &[WorkerInfo], tiers: &[String], fi: usize) {
    let header: String = tiers.iter().map(|t| format!("{t:<14}")).collect();
    println!("{:<fi$} {:<16} {:<13} {:<16} {}", "Worker Name", "Last Heartbeat", "Storage", "Total", header);
    let columns = |m: &std::collections::HashMap<String, i64>| -> String {
        tiers
            .iter()
            .map(|t| format!("{:<14}", m.get(t).map(|v| output::size(*v, true)).unwrap_or_else(|| "-".into())))
            .collect()
    };
    for w in workers {
        let host = w.address.as_ref().map(|a| a.host.clone()).unwrap_or_default();
        let total = output::size(w.capacity_bytes, true);
        let caps = columns(&w.capacity_bytes_on_tiers);
        println!("{:<fi$} {:<16} {:<13} {:<16} {}", host, w.last_contact_sec, "capacity", total, caps);
        let pct =
            if w.capacity_bytes > 0 { format!(" ({}%)", w.used_bytes * 100 / w.capacity_bytes) } else { String::new() };
        let used = format!("{}{pct}", output::size(w.used_bytes, true));
        println!("{:<fi$} {:<16} {:<13} {:<16} {}", "", "", "used", used, columns(&w.used_bytes_on_tiers));
    }
}

async fn backup(fs: &FileSystem, args: &[String]) -> Result<(), String> {
    use alluxio_proto::grpc::meta::BackupState;
    use std::io::IsTerminal;
    let mut dir = String::new();
    let (mut local, mut allow_leader) = (false, false);
    for a in args {
        match a.as_str() {
            "--local" => local = true,
            "--allow-leader" => allow_leader = true,
            d if !d.starts_with('-') && dir.is_empty() => dir = d.to_owned(),
            other => {
                return Err(format!(
                    "Invalid argument {other}\nUsage: alluxio fsadmin backup [directory] [--local] [--allow-leader]"
                ))
            }
        }
    }
    let started = fs.backup(&dir, local, allow_leader).await.map_err(|e| e.message)?;
    let pb = std::io::stderr().is_terminal().then(|| {
        let pb = indicatif::ProgressBar::new_spinner();
        pb.enable_steady_tick(std::time::Duration::from_millis(120));
        pb
    });
    let status = loop {
        let s = fs.backup_status(&started.backup_id).await.map_err(|e| e.message)?;
        if s.backup_state == BackupState::Completed as i32 || s.backup_state == BackupState::Failed as i32 {
            break s;
        }
        if let Some(pb) = &pb {
            pb.set_message(format!("Backup state: Running | Entries processed: {}", s.entry_count));
        }
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    };
    if let Some(pb) = pb {
        pb.finish_and_clear();
    }
    if status.backup_state == BackupState::Failed as i32 {
        return Err(format!("Backup failed: {}", status.error));
    }
    println!("Successfully backed up journal to {} with {} entries", status.backup_uri, status.entry_count);
    println!("Backup Host        : {}", status.backup_host);
    println!("Backup URI         : {}", status.backup_uri);
    println!("Backup Entry Count : {}", status.entry_count);
    Ok(())
}

/// `fsadmin decommissionWorker -a host:port[,host:port...] [-w wait]`.
async fn decommission(fs: &FileSystem, args: &[String]) -> Result<(), String> {
    const USAGE: &str =
        "Usage: alluxio fsadmin decommissionWorker -a <host:port>[,<host:port>...] [-w <wait, e.g. 5m>]";
    let mut addresses = Vec::new();
    let mut wait_ms = 5 * 60_000;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "-a" | "--addresses" => {
                let v = it.next().ok_or(USAGE)?;
                addresses.extend(v.split(',').map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()));
            }
            "-w" | "--wait" => {
                let v = it.next().ok_or(USAGE)?;
                wait_ms = alluxio_common::conf::values::parse_duration_ms(v)
                    .filter(|v| *v >= 0)
                    .ok_or_else(|| format!("Invalid wait time {v}: expected a duration such as 30s or 5m"))?;
            }
            other => return Err(format!("Invalid argument {other}\n{USAGE}")),
        }
    }
    if addresses.is_empty() {
        return Err(USAGE.into());
    }
    let deadline = std::time::Instant::now() + std::time::Duration::from_millis(wait_ms as u64);
    loop {
        let (left, unknown) = fs.decommission_workers(addresses.clone()).await.map_err(|e| e.message)?;
        if !unknown.is_empty() {
            return Err(format!(
                "Unknown workers: {} (use the host:port that fsadmin report capacity shows)",
                unknown.join(", ")
            ));
        }
        if left == 0 {
            println!(
                "Decommissioned worker(s) {}: no new data goes to them and no data is left only on them; they can be stopped",
                addresses.join(", ")
            );
            return Ok(());
        }
        if std::time::Instant::now() > deadline {
            return Err(format!(
                "{left} blocks of unpersisted data are still only on {} after the wait; try again or raise -w",
                addresses.join(", ")
            ));
        }
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
}

/// `fsadmin ufs --mode noAccess|readOnly|readWrite <ufsPath>`.
async fn ufs_mode(fs: &FileSystem, args: &[String]) -> Result<(), String> {
    const USE: &str = "Usage: alluxio fsadmin ufs --mode <noAccess|readOnly|readWrite> <ufsPath>";
    let (mode, path) = match args {
        [flag, mode, path] if flag == "--mode" => (mode, path),
        _ => return Err(USE.to_owned()),
    };
    let wire = match mode.as_str() {
        "noAccess" => UfsMode::NoAccess,
        "readOnly" => UfsMode::ReadOnly,
        "readWrite" => UfsMode::ReadWrite,
        other => {
            return Err(format!("Invalid mode {other} for --mode: expected noAccess, readOnly or readWrite\n{USE}"))
        }
    };
    fs.update_ufs_mode(path, wire).await.map_err(|e| e.message)?;
    println!("Ufs mode updated");
    Ok(())
}
