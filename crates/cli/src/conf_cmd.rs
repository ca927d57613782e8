//! `getConf` and `version`.

use std::process::ExitCode;

use alluxio_common::conf::keys::{lookup, Kind};
use alluxio_common::conf::{values, Conf, Role};
use alluxio_common::version::{
    JOURNAL_FORMAT_VERSION, MIN_JOURNAL_FORMAT_VERSION, MIN_PROTOCOL_VERSION, PROTOCOL_VERSION, VERSION,
};

const GETCONF_USAGE: &str = "usage: USAGE: GetConf [--unit <arg>] [--source] [key]";

/// `alluxio getConf [--unit U] [--source] [key]`.
pub fn get_conf(defines: &[(String, String)], args: &[String]) -> ExitCode {
    let mut unit: Option<String> = None;
    let mut source = false;
    let mut key: Option<String> = None;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--unit" => match it.next() {
                Some(u) => unit = Some(u.to_ascii_uppercase()),
                None => {
                    eprintln!("Unable to parse input args: --unit needs a value");
                    println!("{GETCONF_USAGE}");
                    return ExitCode::from(1);
                }
            },
            "--source" => source = true,
            "--master" => {}
            k if key.is_none() && !k.starts_with('-') => key = Some(k.to_owned()),
            _ => {
                eprintln!("More arguments than expected. Args: {args:?}");
                println!("{GETCONF_USAGE}");
                return ExitCode::from(1);
            }
        }
    }
    let conf = match Conf::load(Role::Client, defines) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(1);
        }
    };
    let Some(key) = key else {
        for (k, v, s) in conf.all() {
            let v = v.unwrap_or_else(|| "(no value set)".into());
            if source {
                println!("{k}={v} ({s})");
            } else {
                println!("{k}={v}");
            }
        }
        return ExitCode::SUCCESS;
    };
    let Some(prop) = lookup(&key) else {
        eprintln!("{key} is not a valid configuration key");
        println!("{GETCONF_USAGE}");
        return ExitCode::from(1);
    };
    if source {
        println!("{}", conf.source(&key));
        return ExitCode::SUCCESS;
    }
    let value = match conf.get(&key) {
        Ok(v) => v.unwrap_or_default(),
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(1);
        }
    };
    match unit {
        None => println!("{value}"),
        Some(u) => {
            let converted = match prop.kind {
                Kind::Bytes => values::parse_bytes(&value).and_then(|b| {
                    let div: u64 = match u.as_str() {
                        "B" => 1,
                        "KB" => 1 << 10,
                        "MB" => 1 << 20,
                        "GB" => 1 << 30,
                        "TB" => 1 << 40,
                        "PB" => 1 << 50,
                        _ => return None,
                    };
                    Some((b / div).to_string())
                }),
                Kind::Duration => values::parse_duration_ms(&value).and_then(|ms| {
                    let div: i64 = match u.as_str() {
                        "MS" => 1,
                        "S" => 1000,
                        "M" => 60_000,
                        "H" => 3_600_000,
                        "D" => 86_400_000,
                        _ => return None,
                    };
                    Some((ms / div).to_string())
                }),
                _ => None,
            };
            match converted {
                Some(v) => println!("{v}"),
                None => {
                    eprintln!("{u} is not a valid unit");
                    return ExitCode::from(1);
                }
            }
        }
    }
    ExitCode::SUCCESS
}

/// `alluxio version`: the software version, then the on-disk and wire format versions.
pub fn version(_args: &[String]) -> ExitCode {
    println!("{VERSION}");
    println!("Journal format version: {JOURNAL_FORMAT_VERSION} (reads {MIN_JOURNAL_FORMAT_VERSION} to {JOURNAL_FORMAT_VERSION})");
    println!("Backup format version: {JOURNAL_FORMAT_VERSION} (reads {MIN_JOURNAL_FORMAT_VERSION} to {JOURNAL_FORMAT_VERSION})");
    println!("RPC protocol version: {PROTOCOL_VERSION} (serves {MIN_PROTOCOL_VERSION} to {PROTOCOL_VERSION})");
    ExitCode::SUCCESS
}
