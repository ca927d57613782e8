//! `getConf` and `version`.

use std::process::ExitCode;

use alluxio_common::conf::keys::{lookup, Kind};
use alluxio_common::conf::{alluxio_keys, values, Conf, Role};
use alluxio_common::version::{
    JOURNAL_FORMAT_VERSION, MIN_JOURNAL_FORMAT_VERSION, MIN_PROTOCOL_VERSION, PROTOCOL_VERSION, VERSION,
};

const GETCONF_USAGE: &str = "usage: USAGE: GetConf [--unit <arg>] [--source] [--master] [key]";

/// The arguments of `getConf`.
#[derive(Debug, Default, PartialEq)]
struct GetConfArgs {
    unit: Option<String>,
    source: bool,
    /// The leading master's configuration instead of this client's.
    master: bool,
    key: Option<String>,
}

impl GetConfArgs {
    /// Parses as Alluxio's GetConf does; the error is the message to print before the usage.
    fn parse(args: &[String]) -> Result<Self, String> {
        let mut out = GetConfArgs::default();
        let mut it = args.iter();
        while let Some(a) = it.next() {
            match a.as_str() {
                "--unit" => match it.next() {
                    Some(u) => out.unit = Some(u.to_ascii_uppercase()),
                    None => return Err("Unable to parse input args: --unit needs a value".into()),
                },
                "--source" => out.source = true,
                "--master" => out.master = true,
                k if out.key.is_none() && !k.starts_with('-') => out.key = Some(k.to_owned()),
                _ => return Err(format!("More arguments than expected. Args: {args:?}")),
            }
        }
        Ok(out)
    }
}

/// `alluxio getConf [--unit U] [--source] [key]`.
pub fn get_conf(defines: &[(String, String)], args: &[String]) -> ExitCode {
    let a = match GetConfArgs::parse(args) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            println!("{GETCONF_USAGE}");
            return ExitCode::from(1);
        }
    };
    let conf = match Conf::load(Role::Client, defines) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(1);
        }
    };
    if a.master {
        return master_conf(&conf, a);
    }
    let Some(key) = a.key else {
        for (k, v, s) in conf.all() {
            let v = v.map(|v| shown(&k, v)).unwrap_or_else(|| "(no value set)".into());
            if a.source {
                println!("{k}={v} ({s})");
            } else {
                println!("{k}={v}");
            }
        }
        return ExitCode::SUCCESS;
    };
    let Some(kind) = kind_of(&key) else {
        eprintln!("{key} is not a valid configuration key");
        println!("{GETCONF_USAGE}");
        return ExitCode::from(1);
    };
    if a.source {
        let source = conf.source(&key);
        match alluxio_common::conf::keys::why_different(&key) {
            Some(why) if source == alluxio_common::conf::Source::Default => {
                println!("{source} (alluxio-rs's, not Alluxio 2.9's: {why})")
            }
            _ => println!("{source}"),
        }
        return ExitCode::SUCCESS;
    }
    let value = match conf.get(&key) {
        Ok(v) => v.unwrap_or_default(),
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(1);
        }
    };
    let Some(unit) = a.unit else {
        println!("{}", shown(&key, value));
        return ExitCode::SUCCESS;
    };
    match in_unit(kind, &value, &unit) {
        Some(v) => println!("{v}"),
        None => {
            eprintln!("{unit} is not a valid unit");
            return ExitCode::from(1);
        }
    }
    ExitCode::SUCCESS
}

/// `getConf --master`: the leading master's values (secrets arrive masked), in the same
/// formats as the client's own.
fn master_conf(conf: &Conf, a: GetConfArgs) -> ExitCode {
    let props = crate::runtime().block_on(async {
        let fs = alluxio_client::FileSystem::connect(conf).await?;
        fs.master_configuration().await
    });
    let mut props = match props {
        Ok(p) => p,
        Err(e) => {
            eprintln!("Unable to get the master's configuration: {}", e.message);
            return ExitCode::from(1);
        }
    };
    props.sort_by(|x, y| x.name.cmp(&y.name));
    let Some(key) = a.key else {
        for p in props {
            let v = shown(&p.name, p.value);
            if a.source {
                println!("{}={v} ({})", p.name, p.source);
            } else {
                println!("{}={v}", p.name);
            }
        }
        return ExitCode::SUCCESS;
    };
    let Some(kind) = kind_of(&key) else {
        eprintln!("{key} is not a valid configuration key");
        println!("{GETCONF_USAGE}");
        return ExitCode::from(1);
    };
    let found = props.into_iter().find(|p| p.name == key);
    if a.source {
        println!("{}", found.map(|p| p.source).unwrap_or_else(|| "DEFAULT".into()));
        return ExitCode::SUCCESS;
    }
    let value = found.map(|p| p.value).unwrap_or_default();
    match a.unit {
        None => println!("{}", shown(&key, value)),
        Some(unit) => match in_unit(kind, &value, &unit) {
            Some(v) => println!("{v}"),
            None => {
                eprintln!("{unit} is not a valid unit");
                return ExitCode::from(1);
            }
        },
    }
    ExitCode::SUCCESS
}

/// The kind of a key alluxio-rs implements; Alluxio 2.9.3's other keys are plain strings.
fn kind_of(key: &str) -> Option<Kind> {
    lookup(key).map(|p| p.kind).or_else(|| alluxio_keys::alluxio_key(key).map(|_| Kind::Str))
}

/// A value as printed: secrets (keys, passwords, tokens) masked, as Alluxio masks credentials.
fn shown(key: &str, value: String) -> String {
    if alluxio_common::conf::is_secret_key(key) && !value.is_empty() {
        "******".into()
    } else {
        value
    }
}

/// A byte size or duration value in `unit` (B, KB ... PB; MS, S, M, H, D), rounded down; `None`
/// when the unit does not fit the property's kind.
fn in_unit(kind: Kind, value: &str, unit: &str) -> Option<String> {
    match kind {
        Kind::Bytes => {
            let div: u64 = match unit {
                "B" => 1,
                "KB" => 1 << 10,
                "MB" => 1 << 20,
                "GB" => 1 << 30,
                "TB" => 1 << 40,
                "PB" => 1 << 50,
                _ => return None,
            };
            values::parse_bytes(value).map(|b| (b / div).to_string())
        }
        Kind::Duration => {
            let div: i64 = match unit {
                "MS" => 1,
                "S" => 1000,
                "M" => 60_000,
                "H" => 3_600_000,
                "D" => 86_400_000,
                _ => return None,
            };
            values::parse_duration_ms(value).map(|ms| (ms / div).to_string())
        }
        _ => None,
    }
}

/// `alluxio version`: the software version, then the on-disk and wire format versions.
pub fn version(_args: &[String]) -> ExitCode {
    println!("{VERSION}");
    println!("Journal format version: {JOURNAL_FORMAT_VERSION} (reads {MIN_JOURNAL_FORMAT_VERSION} to {JOURNAL_FORMAT_VERSION})");
    println!("Backup format version: {JOURNAL_FORMAT_VERSION} (reads {MIN_JOURNAL_FORMAT_VERSION} to {JOURNAL_FORMAT_VERSION})");
    println!("RPC protocol version: {PROTOCOL_VERSION} (serves {MIN_PROTOCOL_VERSION} to {PROTOCOL_VERSION})");
    ExitCode::SUCCESS
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn parses_flags_in_any_order() {
        let a = GetConfArgs::parse(&args(&["--source", "alluxio.k", "--unit", "mb"])).unwrap();
        assert_eq!(
            a,
            GetConfArgs { unit: Some("MB".into()), source: true, master: false, key: Some("alluxio.k".into()) }
        );
        assert!(GetConfArgs::parse(&args(&["--master", "alluxio.k"])).unwrap().master);
        assert!(GetConfArgs::parse(&args(&["--unit"])).unwrap_err().contains("--unit"));
        assert!(GetConfArgs::parse(&args(&["a", "b"])).unwrap_err().contains("More arguments"));
    }

    #[test]
    fn secrets_are_masked() {
        assert_eq!(shown("alluxio.proxy.s3.auth.secret.key", "s3cr3t".into()), "******");
        assert_eq!(shown("alluxio.master.hostname", "m1".into()), "m1");
    }

    #[test]
    fn converts_sizes_and_durations() {
        assert_eq!(in_unit(Kind::Bytes, "64MB", "KB").as_deref(), Some("65536"));
        assert_eq!(in_unit(Kind::Duration, "5min", "S").as_deref(), Some("300"));
        assert_eq!(in_unit(Kind::Bytes, "64MB", "S"), None);
    }
}
