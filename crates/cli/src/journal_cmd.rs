//! `alluxio readJournal`: a stopped master's journal, or a backup, as readable text.
//! `alluxio repairJournal`: the operator's explicit cut of a damaged journal.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use alluxio_common::Conf;
use alluxio_journal::{Layout, Origin};

const USAGE: &str = "Usage: alluxio readJournal [-start <n>] [-end <n>] [-inputDir <journal folder>] [-inputFile <backup.gz>] [-outputDir <dir>]
Writes the journal (UFS or EMBEDDED) of a stopped master (default: alluxio.master.journal.folder), or a backup, as text
into <outputDir> (default: journal_dump-<epochMs>). Entries with sequence numbers in [start, end) only.";

pub fn run(conf: &Conf, args: &[String]) -> ExitCode {
    let mut start = 0i64;
    let mut end = i64::MAX;
    let mut input_dir: Option<String> = None;
    let mut input_file: Option<String> = None;
    let mut output: Option<String> = None;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut value = || it.next().cloned();
        let ok = match a.as_str() {
            "-start" => value().and_then(|v| v.parse().ok()).map(|v| start = v).is_some(),
            "-end" => value().and_then(|v| v.parse().ok()).map(|v| end = v).is_some(),
            "-inputDir" => value().map(|v| input_dir = Some(v)).is_some(),
            "-inputFile" => value().map(|v| input_file = Some(v)).is_some(),
            "-outputDir" => value().map(|v| output = Some(v)).is_some(),
            "-master" => value().is_some(),
            "-h" | "--help" => {
                println!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            _ => false,
        };
        if !ok {
            eprintln!("Invalid argument {a}\n{USAGE}");
            return ExitCode::from(1);
        }
    }
    let out_dir = PathBuf::from(output.unwrap_or_else(|| format!("journal_dump-{}", alluxio_common::now_ms())));
    if let Err(e) = std::fs::create_dir_all(&out_dir) {
        eprintln!("cannot create {}: {e}", out_dir.display());
        return ExitCode::from(1);
    }
    let r = match input_file {
        Some(f) => dump_backup(&f, &out_dir),
        None => {
            let folder = input_dir.unwrap_or_else(|| conf.get_str("alluxio.master.journal.folder").unwrap_or_default());
            dump_journal(&folder, &out_dir, start, end)
        }
    };
    crate::exit::report(r, 1)
}

fn dump_journal(folder: &str, out: &std::path::Path, start: i64, end: i64) -> Result<String, String> {
    let layout = Layout::new(folder);
    let mut cp = std::io::BufWriter::new(std::fs::File::create(out.join("checkpoint.txt")).map_err(|e| e.to_string())?);
    let mut log = std::io::BufWriter::new(std::fs::File::create(out.join("log.txt")).map_err(|e| e.to_string())?);
    let (mut ncp, mut nlog) = (0u64, 0u64);
    let mut write_err = None;
    let folder_path = std::path::Path::new(folder);
    // Which journal type wrote the folder: an embedded journal keeps everything under v1/raft.
    let read_only = |visit: &mut dyn FnMut(Origin, &std::path::Path, alluxio_proto::journal::JournalEntry)| {
        let note = |n: String| eprintln!("note: {n}");
        if alluxio_journal::raft::raft_dir(folder_path).is_dir() {
            alluxio_journal::raft::dump::read_only(folder_path, visit, note)
        } else {
            alluxio_journal::recovery::read_only(&layout, visit, note)
        }
    };
    read_only(&mut |origin, _, e| {
        let r = match origin {
            Origin::Checkpoint => {
                ncp += 1;
                writeln!(cp, "{:?}", e.entry)
            }
            Origin::Log if e.sequence_number >= start && e.sequence_number < end => {
                nlog += 1;
                writeln!(log, "{} {:?}", e.sequence_number, e.entry)
            }
            Origin::Log => Ok(()),
        };
        if let Err(err) = r {
            write_err = Some(err.to_string());
        }
    })
    .map_err(|e| e.to_string())?;
    if let Some(e) = write_err {
        return Err(e);
    }
    cp.flush().map_err(|e| e.to_string())?;
    log.flush().map_err(|e| e.to_string())?;
    Ok(format!("Dumped {ncp} checkpoint entries and {nlog} log entries of {folder} to {}", out.display()))
}

fn dump_backup(file: &str, out: &std::path::Path) -> Result<String, String> {
    let f = std::fs::File::open(file).map_err(|e| format!("cannot read {file}: {e}"))?;
    let mut w = std::io::BufWriter::new(std::fs::File::create(out.join("backup.txt")).map_err(|e| e.to_string())?);
    let info = alluxio_journal::backup::read_backup(f, file, |_, e| Ok(writeln!(w, "{:?}", e.entry)?))
        .map_err(|e| e.to_string())?;
    w.flush().map_err(|e| e.to_string())?;
    Ok(format!(
        "Dumped {} entries of backup {file} (format version {}, alluxio-rs {}, cluster {}, host {}) to {}",
        info.entries,
        info.header.format_version,
        info.header.software_version,
        info.header.cluster_id,
        info.header.host,
        out.join("backup.txt").display()
    ))
}

const REPAIR_USAGE: &str =
    "Usage: alluxio repairJournal -file <log segment> -offset <byte offset> [-inputDir <journal folder>]
Cuts a damaged log segment of a stopped master's journal (UFS or EMBEDDED; default folder:
alluxio.master.journal.folder) at the byte offset the master named when it refused to start. The changes
recorded from there on are lost: the cut bytes and every later segment are moved to <journal>/v1/damaged-<epochMs>/.";

/// `alluxio repairJournal -file <f> -offset <n>`.
pub fn repair(conf: &Conf, args: &[String]) -> ExitCode {
    let (mut file, mut offset, mut input_dir) = (None, None, None);
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let ok = match a.as_str() {
            "-file" => it.next().map(|v| file = Some(PathBuf::from(v))).is_some(),
            "-offset" => it.next().and_then(|v| v.parse::<u64>().ok()).map(|v| offset = Some(v)).is_some(),
            "-inputDir" => it.next().map(|v| input_dir = Some(v.clone())).is_some(),
            "-h" | "--help" => {
                println!("{REPAIR_USAGE}");
                return ExitCode::SUCCESS;
            }
            _ => false,
        };
        if !ok {
            eprintln!("Invalid argument {a}\n{REPAIR_USAGE}");
            return ExitCode::from(1);
        }
    }
    let (Some(file), Some(offset)) = (file, offset) else {
        eprintln!("{REPAIR_USAGE}");
        return ExitCode::from(1);
    };
    let folder = input_dir.unwrap_or_else(|| conf.get_str("alluxio.master.journal.folder").unwrap_or_default());
    let r = alluxio_journal::repair::cut(&Layout::new(&folder), &file, offset)
        .map(|c| {
            format!(
                "Cut {} at byte {offset}: {} bytes{} moved to {}; the changes recorded there are lost.{}",
                file.display(),
                c.bytes,
                match c.later_segments {
                    0 => String::new(),
                    n => format!(" and {n} later segment(s)"),
                },
                c.aside.display(),
                match c.kept_as {
                    Some(k) if k != file => format!(" The segment is now {}.", k.display()),
                    Some(_) => String::new(),
                    None => " Nothing was left of the segment; it was moved there too.".into(),
                }
            )
        })
        .map_err(|e| e.to_string());
    crate::exit::report(r, crate::exit::FAILURE)
}
