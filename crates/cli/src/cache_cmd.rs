//! `alluxio cache save|restore <dir>`: the worker ramdisk cache persistence behind
//! `alluxio-stop.sh -c` and `alluxio-start.sh -c`.
//!
//! Layout (Alluxio's): `<dir>/<ramdisk path>/alluxioworker/<blockId>`, plus a manifest
//! `<dir>/<ramdisk path>/alluxioworker.manifest` of `<blockId> <length> <crc32c> <chunk crc32c,...>`
//! lines (the chunk checksums of `alluxio_common::checksum`; a block that fails the ones it was
//! written with is not saved, and a restored block gets them back) written
//! last, so a partial save is recognisable. Files are not fsynced one by one (that would make a
//! save several times slower than `cp -r`): a clean reboot writes them out, and after a crash the
//! restore's checksums catch whatever did not reach the disk. A restore checks each block against
//! the manifest; a corrupt or missing block is reported and not restored (the worker then reads
//! it again from the UFS), so wrong bytes are never served.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use alluxio_common::lock::{DirLock, LOCK_FILE};
use alluxio_common::{checksum, Conf};

const MANIFEST: &str = "alluxioworker.manifest";

/// The level-0 MEM directories (`<path>/alluxioworker`) of the worker configuration.
fn mem_dirs(conf: &Conf) -> Result<Vec<PathBuf>, String> {
    let dirs = alluxio_worker::server::storage_dirs(conf).map_err(|e| e.to_string())?;
    Ok(dirs.into_iter().filter(|d| d.tier_level == 0 && d.tier_alias == "MEM").map(|d| d.path).collect())
}

/// Where a tier directory's copy lives inside the cache directory.
fn saved_dir(cache: &Path, tier_dir: &Path) -> PathBuf {
    cache.join(tier_dir.strip_prefix("/").unwrap_or(tier_dir))
}

/// What a saved block's bytes must be: length, CRC32C and the chunk checksums.
struct Sums {
    len: u64,
    crc: u32,
    chunks: Vec<u32>,
}

/// The length and checksums of a file, read in chunk-sized pieces.
fn sums_of(path: &Path, buf: &mut [u8]) -> std::io::Result<Sums> {
    let mut r = std::fs::File::open(path)?;
    let mut chunks = checksum::Builder::default();
    let mut whole = crc_fast::Digest::new(crc_fast::CrcAlgorithm::Crc32Iscsi);
    let mut len = 0u64;
    loop {
        let n = r.read(buf)?;
        if n == 0 {
            return Ok(Sums { len, crc: whole.finalize() as u32, chunks: chunks.finish() });
        }
        chunks.update(&buf[..n]);
        whole.update(&buf[..n]);
        len += n as u64;
    }
}

/// Copies `src` to `dst`, returning (length, CRC32C of the bytes).
fn copy_with_crc(src: &Path, dst: &Path, buf: &mut [u8]) -> std::io::Result<(u64, u32)> {
    let mut r = std::fs::File::open(src)?;
    let mut w = std::fs::File::create(dst)?;
    let (mut len, mut crc) = (0u64, 0u32);
    loop {
        let n = r.read(buf)?;
        if n == 0 {
            break;
        }
        crc = crc32c::crc32c_append(crc, &buf[..n]);
        w.write_all(&buf[..n])?;
        len += n as u64;
    }
    Ok((len, crc))
}

fn save(conf: &Conf, cache: &Path) -> Result<String, String> {
    let mut buf = vec![0u8; 4 << 20];
    let mut report = Vec::new();
    for tier_dir in mem_dirs(conf)? {
        let dst_parent = saved_dir(cache, tier_dir.parent().unwrap_or(Path::new("/")));
        let dst = dst_parent.join("alluxioworker");
        std::fs::create_dir_all(&dst).map_err(|e| format!("cannot create {}: {e}", dst.display()))?;
        let mut manifest = String::new();
        let (mut n, mut bytes) = (0u64, 0u64);
        let id = tier_dir.join(alluxio_worker::block_store::CLUSTER_ID_FILE);
        if id.exists() {
            std::fs::copy(&id, dst.join(alluxio_worker::block_store::CLUSTER_ID_FILE))
                .map_err(|e| format!("cannot save {}: {e}", id.display()))?;
        }
        if tier_dir.is_dir() {
            let mut entries: Vec<_> = std::fs::read_dir(&tier_dir)
                .map_err(|e| format!("cannot list {}: {e}", tier_dir.display()))?
                .flatten()
                .collect();
            entries.sort_by_key(|e| e.file_name());
            for e in entries {
                let name = e.file_name().to_string_lossy().into_owned();
                if name.parse::<i64>().is_err() || !e.file_type().map(|t| t.is_file()).unwrap_or(false) {
                    continue;
                }
                // The kernel copies (copy_file_range), the checksum comes from the source in RAM.
                let sums = std::fs::copy(e.path(), dst.join(&name))
                    .and_then(|_| sums_of(&e.path(), &mut buf))
                    .map_err(|err| format!("cannot save block {name} to {}: {err}", dst.display()))?;
                // A block that no longer matches the checksums it was written with is not saved.
                let sidecar = alluxio_worker::block_store::sidecar(&e.path());
                if let Ok(recorded) = std::fs::read(&sidecar).map(|b| checksum::decode(&b)) {
                    if recorded.as_ref() != Ok(&sums.chunks) {
                        let _ = std::fs::remove_file(dst.join(&name));
                        eprintln!("block {name} in {} fails its checksum: not saved", tier_dir.display());
                        continue;
                    }
                }
                let (len, crc) = (sums.len, sums.crc);
                let chunks: Vec<String> = sums.chunks.iter().map(|c| format!("{c:08x}")).collect();
                manifest.push_str(&format!("{name} {len} {crc:08x} {}\n", chunks.join(",")));
                n += 1;
                bytes += len;
            }
        }
        let tmp = dst_parent.join(format!(".{MANIFEST}.tmp"));
        std::fs::write(&tmp, manifest.as_bytes())
            .and_then(|_| std::fs::rename(&tmp, dst_parent.join(MANIFEST)))
            .map_err(|e| format!("cannot write the manifest in {}: {e}", dst_parent.display()))?;
        report.push(format!("Saved {n} blocks ({bytes} bytes) of {} to {}", tier_dir.display(), dst.display()));
    }
    Ok(report.join("\n"))
}

fn restore(conf: &Conf, cache: &Path) -> Result<String, String> {
    let mut buf = vec![0u8; 4 << 20];
    let mut report = Vec::new();
    for tier_dir in mem_dirs(conf)? {
        let src_parent = saved_dir(cache, tier_dir.parent().unwrap_or(Path::new("/")));
        let src = src_parent.join("alluxioworker");
        let manifest = std::fs::read_to_string(src_parent.join(MANIFEST)).map_err(|e| {
            format!(
                "{} holds no complete saved cache for ramdisk {} ({e}); save one with alluxio-stop.sh workers -c",
                cache.display(),
                tier_dir.display()
            )
        })?;
        std::fs::create_dir_all(&tier_dir).map_err(|e| format!("cannot create {}: {e}", tier_dir.display()))?;
        // Refused while a worker runs on it; held until the restore is done.
        let _lock = DirLock::acquire(&tier_dir, "cache restore").map_err(|e| e.to_string())?;
        for e in std::fs::read_dir(&tier_dir).map_err(|e| format!("cannot list {}: {e}", tier_dir.display()))?.flatten()
        {
            if e.file_name() == LOCK_FILE {
                continue;
            }
            let p = e.path();
            let r = if p.is_dir() { std::fs::remove_dir_all(&p) } else { std::fs::remove_file(&p) };
            r.map_err(|err| format!("cannot clear {}: {err}", p.display()))?;
        }
        // The cluster the blocks belong to comes back with them.
        let id = src.join(alluxio_worker::block_store::CLUSTER_ID_FILE);
        if id.exists() {
            std::fs::copy(&id, tier_dir.join(alluxio_worker::block_store::CLUSTER_ID_FILE))
                .map_err(|e| format!("cannot restore {}: {e}", id.display()))?;
        }
        let (mut n, mut bytes, mut bad) = (0u64, 0u64, 0u64);
        for line in manifest.lines() {
            let mut f = line.split_whitespace();
            let (Some(name), Some(len), Some(crc)) = (
                f.next(),
                f.next().and_then(|v| v.parse::<u64>().ok()),
                f.next().and_then(|v| u32::from_str_radix(v, 16).ok()),
            ) else {
                return Err(format!("malformed line in the manifest of {}: {line}", src.display()));
            };
            // Chunk checksums (saves before block checksums have none: the worker computes them).
            let chunks: Option<Vec<u32>> = f.next().map(|v| {
                v.split(',').filter(|c| !c.is_empty()).filter_map(|c| u32::from_str_radix(c, 16).ok()).collect()
            });
            let dst = tier_dir.join(name);
            match copy_with_crc(&src.join(name), &dst, &mut buf) {
                Ok((l, c)) if l == len && c == crc => {
                    if let Some(chunks) = chunks.filter(|c| c.len() == checksum::chunk_count(len)) {
                        let sidecar = alluxio_worker::block_store::sidecar(&dst);
                        std::fs::write(&sidecar, checksum::encode(&chunks))
                            .map_err(|e| format!("cannot write {}: {e}", sidecar.display()))?;
                    }
                    n += 1;
                    bytes += l;
                }
                Ok(_) => {
                    let _ = std::fs::remove_file(&dst);
                    bad += 1;
                    eprintln!("block {name} in {} is corrupt (checksum mismatch): not restored", src.display());
                }
                Err(e) => {
                    let _ = std::fs::remove_file(&dst);
                    bad += 1;
                    eprintln!("block {name} in {} cannot be restored: {e}", src.display());
                }
            }
        }
        report.push(format!(
            "Restored {n} blocks ({bytes} bytes) of {} from {}{}",
            tier_dir.display(),
            src.display(),
            if bad > 0 { format!("; {bad} corrupt or missing blocks skipped") } else { String::new() }
        ));
    }
    Ok(report.join("\n"))
}

pub fn run(conf: &Conf, args: &[String]) -> ExitCode {
    let r = match args {
        [op, dir] if op == "save" => save(conf, Path::new(dir)),
        [op, dir] if op == "restore" => restore(conf, Path::new(dir)),
        _ => Err("Usage: alluxio cache save|restore <directory>".into()),
    };
    crate::exit::report(r, 2)
}
