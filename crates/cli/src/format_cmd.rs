//! `format [-s]`, `formatJournal`, `formatMasters`, `formatWorker`: wipe metadata and cached
//! data. Never the UFS.

use std::process::ExitCode;

use alluxio_common::conf::Conf;
use alluxio_journal::Layout;

fn host() -> String {
    alluxio_common::user::local_hostname()
}

fn format_journal(conf: &Conf) -> Result<(), String> {
    println!("Formatting Alluxio Master @ {}", host());
    let folder = conf.get_str("alluxio.master.journal.folder").map_err(|e| e.to_string())?;
    let kind = conf.get_enum("alluxio.master.journal.type").map_err(|e| e.to_string())?;
    if kind == "NOOP" {
        println!("alluxio.master.journal.type=NOOP: there is no journal to format");
        return Ok(());
    }
    let path = std::path::Path::new(&folder);
    if path.is_file() {
        return Err(format!(
            "Journal location {folder} is a file not a directory. Please remove the file before retrying."
        ));
    }
    println!("Formatting master journal: {folder}");
    Layout::new(&folder).format().map_err(|e| e.to_string())?;
    let metastore = conf.get_str("alluxio.master.metastore.dir").map_err(|e| e.to_string())?;
    if std::path::Path::new(&metastore).exists() {
        std::fs::remove_dir_all(&metastore).map_err(|e| format!("cannot delete metastore {metastore}: {e}"))?;
    }
    println!("Formatting complete");
    Ok(())
}

fn format_worker(conf: &Conf) -> Result<(), String> {
    use std::os::unix::fs::PermissionsExt;
    println!("Formatting Alluxio Worker @ {}", host());
    let dirs = alluxio_worker::server::storage_dirs(conf).map_err(|e| e.to_string())?;
    let folder = conf.get_str("alluxio.worker.data.folder").map_err(|e| e.to_string())?;
    println!("Formatting worker data folder: {folder}");
    for d in &dirs {
        println!("Formatting Data path for tier {}:{}", d.tier_level, d.path.display());
        if d.path.is_dir() {
            // Refused while a worker runs on it; held until the directory is gone.
            let _lock = alluxio_common::lock::DirLock::acquire(&d.path, "formatWorker").map_err(|e| e.to_string())?;
            std::fs::remove_dir_all(&d.path).map_err(|e| format!("cannot delete {}: {e}", d.path.display()))?;
        } else if d.path.exists() {
            std::fs::remove_file(&d.path).map_err(|e| format!("cannot delete {}: {e}", d.path.display()))?;
        }
        std::fs::create_dir_all(&d.path).map_err(|e| format!("cannot create {}: {e}", d.path.display()))?;
        // rwxrwxrwx plus the sticky bit, as alluxio.worker.data.folder.permissions asks.
        std::fs::set_permissions(&d.path, std::fs::Permissions::from_mode(0o1777))
            .map_err(|e| format!("cannot set permissions of {}: {e}", d.path.display()))?;
    }
    println!("Formatting complete");
    Ok(())
}

pub fn run(conf: &Conf, cmd: &str, args: &[String]) -> ExitCode {
    let r = match cmd {
        "format" => {
            let soft = match args {
                [] => false,
                [s] if s == "-s" => true,
                _ => {
                    eprintln!("Usage: alluxio format [-s]");
                    return ExitCode::from(2);
                }
            };
            if soft {
                let root = conf.get_str("alluxio.master.mount.table.root.ufs").unwrap_or_default();
                let local = !root.contains("://") || root.starts_with("file://");
                if !local || std::path::Path::new(root.trim_start_matches("file://")).exists() {
                    println!("Skipping format: the root UFS {root} is not a new local directory (-s)");
                    return ExitCode::SUCCESS;
                }
            }
            println!(
                "WARNING: This will re-format the ramdisks on the Alluxio workers (i.e: wipe their contents). \
                 To keep them, stop the workers with `alluxio-stop.sh workers -c <dir>` first."
            );
            format_worker(conf).and_then(|_| format_journal(conf))
        }
        "formatMaster" => {
            println!("formatMaster is deprecated - use formatJournal or formatMasters instead");
            format_journal(conf)
        }
        "formatJournal" | "formatMasters" => format_journal(conf),
        "formatWorker" => format_worker(conf),
        _ => unreachable!("dispatched by main"),
    };
    match r {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{e}");
            ExitCode::from(1)
        }
    }
}
