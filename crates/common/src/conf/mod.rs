//! Configuration as Alluxio reads it.
//!
//! Sources, strongest first: `-Dkey=value` on the command line (and in `ALLUXIO_JAVA_OPTS`
//! and the role's `ALLUXIO_<ROLE>_JAVA_OPTS`), environment variables (`ALLUXIO_HOME`,
//! `ALLUXIO_CONF_DIR`, `ALLUXIO_MASTER_HOSTNAME`, `ALLUXIO_RAM_FOLDER`, ...),
//! `${alluxio.conf.dir}/alluxio-site.properties`, then built-in defaults. Values may refer to
//! other keys as `${key}`. An explicitly set `alluxio.*` key alluxio-rs implements must be
//! well-formed; one of Alluxio 2.9.3's other keys is accepted with no effect; a deprecated
//! alias stands for its key; only what looks like a typo of a known key is an error (naming
//! the key, where it came from, and the key meant).

pub mod alluxio_keys;
pub mod keys;
pub mod values;

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use keys::{lookup, Kind};

/// A property key name, e.g. `alluxio.master.rpc.port`.
pub type Key = &'static str;

/// Where a value came from; `getConf --source` prints it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    Default,
    SiteProperty(PathBuf),
    Environment(&'static str),
    CommandLine,
    Runtime,
    /// A client setting taken from the masters' configuration at connect
    /// (`alluxio.user.conf.cluster.default.enabled`).
    ClusterDefault,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Default => f.write_str("DEFAULT"),
            Source::SiteProperty(p) => write!(f, "SITE_PROPERTY ({})", p.display()),
            Source::Environment(v) => write!(f, "SYSTEM_PROPERTY (environment variable {v})"),
            Source::CommandLine => f.write_str("SYSTEM_PROPERTY (-D)"),
            Source::Runtime => f.write_str("RUNTIME"),
            Source::ClusterDefault => f.write_str("CLUSTER_DEFAULT"),
        }
    }
}

/// A configuration mistake.
#[derive(Debug, thiserror::Error)]
pub enum ConfError {
    #[error("Unknown property key {key} (set in {origin}){}", suggestion.map(|s| format!("; did you mean {s}?")).unwrap_or_default())]
    UnknownKey { key: String, origin: Source, suggestion: Option<&'static str> },
    #[error("Invalid value '{value}' for property {key} (set in {origin}): expected {expected}")]
    InvalidValue { key: String, value: String, origin: Source, expected: String },
    #[error("Property {key} is not set and has no default")]
    Missing { key: String },
    #[error("Property {key}: cannot substitute ${{{reference}}}: {reason}")]
    Substitution { key: String, reference: String, reason: &'static str },
    #[error("Cannot read {path}: {error}")]
    Io { path: PathBuf, error: std::io::Error },
    #[error("Malformed -D option '{arg}': expected -Dkey=value")]
    MalformedOption { arg: String },
}

impl crate::status::HasCode for ConfError {
    fn code(&self) -> crate::status::Code {
        match self {
            ConfError::Io { .. } => crate::status::Code::Unavailable,
            _ => crate::status::Code::InvalidArgument,
        }
    }
}

/// Environment variables Alluxio maps to properties.
const ENV_KEYS: &[(&str, Key)] = &[
    ("ALLUXIO_HOME", "alluxio.home"),
    ("ALLUXIO_CONF_DIR", "alluxio.conf.dir"),
    ("ALLUXIO_LOGS_DIR", "alluxio.logs.dir"),
    ("ALLUXIO_MASTER_HOSTNAME", "alluxio.master.hostname"),
    ("ALLUXIO_MASTER_MOUNT_TABLE_ROOT_UFS", "alluxio.master.mount.table.root.ufs"),
    ("ALLUXIO_RAM_FOLDER", "alluxio.worker.tieredstore.level0.dirs.path"),
    ("ALLUXIO_WORKER_RAMDISK_SIZE", "alluxio.worker.ramdisk.size"),
    ("ALLUXIO_WORKER_MEMORY_SIZE", "alluxio.worker.ramdisk.size"),
];

/// Which process reads the configuration; selects `ALLUXIO_<ROLE>_JAVA_OPTS`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Master,
    Worker,
    Proxy,
    Client,
}

/// Whether a client takes `key` from the masters ([`Conf::merge_cluster_defaults`]): also
/// what `fsadmin updateConf` may change at run time.
pub fn is_cluster_default(key: &str) -> bool {
    key.starts_with("alluxio.user.")
        && key != "alluxio.user.conf.cluster.default.enabled"
        && key != "alluxio.user.hostname"
        && alluxio_keys::alluxio_key(key).is_none_or(|k| k.scope == "CLIENT" || k.scope == "ALL")
}

/// Keys (properties or mount options) whose values are secrets, shown as `******`.
pub fn is_secret_key(k: &str) -> bool {
    let k = k.to_ascii_lowercase();
    ["secret", "password", "token", "credential", "accesskey", "access.key", "sessionkey"].iter().any(|s| k.contains(s))
}

/// An immutable-after-load set of property values.
#[derive(Debug, Clone, Default)]
pub struct Conf {
    values: BTreeMap<String, (String, Source)>,
    /// Deprecated aliases the configuration used, with the key each stands for.
    renamed: Vec<(String, &'static str)>,
}

impl Conf {
    /// Defaults only; for tests and for building a configuration by hand.
    pub fn defaults() -> Self {
        Conf::default()
    }

    /// Loads the configuration of a process: environment, site file and `overrides`
    /// (the command line's `-Dkey=value`, already split).
    pub fn load(role: Role, overrides: &[(String, String)]) -> Result<Self, ConfError> {
        let mut conf = Conf::default();
        let mut cli: Vec<(String, String)> = Vec::new();
        for var in ["ALLUXIO_JAVA_OPTS", role_opts_var(role)] {
            if let Ok(opts) = std::env::var(var) {
                cli.extend(split_java_opts(&opts)?);
            }
        }
        cli.extend(overrides.iter().cloned());
        for (var, key) in ENV_KEYS {
            if let Ok(v) = std::env::var(var) {
                if !v.is_empty() {
                    conf.values.insert((*key).to_owned(), (v, Source::Environment(var)));
                }
            }
        }
        if !conf.values.contains_key("alluxio.home") {
            if let Some(home) = guess_home() {
                conf.values.insert("alluxio.home".into(), (home.display().to_string(), Source::Default));
            }
        }
        // The conf dir itself may come from the command line.
        for (k, v) in &cli {
            if k == "alluxio.conf.dir" || k == "alluxio.home" {
                conf.values.insert(k.clone(), (v.clone(), Source::CommandLine));
            }
        }
        let conf_dir = PathBuf::from(conf.get_str("alluxio.conf.dir")?);
        let site = conf_dir.join("alluxio-site.properties");
        if site.is_file() {
            let text = std::fs::read_to_string(&site).map_err(|error| ConfError::Io { path: site.clone(), error })?;
            for (k, v) in parse_properties(&text) {
                // The environment and command line win over the site file.
                // A later line of the file wins over an earlier one, as in Java properties.
                let weaker = matches!(
                    conf.values.get(&k),
                    None | Some((_, Source::Default)) | Some((_, Source::SiteProperty(_)))
                );
                if weaker {
                    conf.values.insert(k, (v, Source::SiteProperty(site.clone())));
                }
            }
        }
        for (k, v) in cli {
            conf.values.insert(k, (v, Source::CommandLine));
        }
        conf.rename_aliases();
        conf.validate()?;
        Ok(conf)
    }

    /// Moves each deprecated alias's value to its key (the key itself, when also set, wins).
    fn rename_aliases(&mut self) {
        let aliases: Vec<(String, &'static str)> =
            self.values.keys().filter_map(|k| alluxio_keys::canonical(k).map(|c| (k.clone(), c))).collect();
        for (alias, key) in aliases {
            if let Some(v) = self.values.remove(&alias) {
                self.values.entry(key.to_owned()).or_insert(v);
            }
            self.renamed.push((alias, key));
        }
    }

    /// Deprecated aliases in use, with their keys (servers warn about each at start).
    pub fn renamed(&self) -> &[(String, &'static str)] {
        &self.renamed
    }

    /// Explicitly set keys of Alluxio 2.9.3 that alluxio-rs accepts but does not use.
    pub fn no_effect(&self) -> Vec<String> {
        self.values
            .keys()
            .filter(|k| k.starts_with("alluxio.") && lookup(k).is_none() && alluxio_keys::alluxio_key(k).is_some())
            .cloned()
            .collect()
    }

    /// Explicitly set `alluxio.*` keys known neither to alluxio-rs nor to Alluxio 2.9.3 (and
    /// too far from any known key to be a typo of it): ignored.
    pub fn unknown(&self) -> Vec<String> {
        self.values
            .keys()
            .filter(|k| k.starts_with("alluxio.") && lookup(k).is_none() && alluxio_keys::alluxio_key(k).is_none())
            .cloned()
            .collect()
    }

    /// Checks every explicitly set `alluxio.*` key is known and well-formed.
    pub fn validate(&self) -> Result<(), ConfError> {
        for (key, (value, source)) in &self.values {
            if !key.starts_with("alluxio.") {
                continue;
            }
            let Some(prop) = lookup(key) else {
                // Alluxio's own keys are accepted; anything else is refused only when it looks
                // like a typo of a known key (which then would silently not apply).
                if alluxio_keys::alluxio_key(key).is_some() {
                    continue;
                }
                match keys::closest(key) {
                    Some(meant) => {
                        return Err(ConfError::UnknownKey {
                            key: key.clone(),
                            origin: source.clone(),
                            suggestion: Some(meant),
                        })
                    }
                    None => continue,
                }
            };
            let resolved = self.resolve(key, value, 0)?;
            check_kind(key, &resolved, source, prop.kind)?;
        }
        const AUTH: &str = "alluxio.security.authentication.type";
        if let Some((value, source)) = self.values.get(AUTH) {
            if value.eq_ignore_ascii_case("CUSTOM") {
                return Err(ConfError::InvalidValue {
                    key: AUTH.into(),
                    value: value.clone(),
                    origin: source.clone(),
                    expected: "SIMPLE or NOSASL: CUSTOM authentication loads a Java provider class \
                               (alluxio.security.authentication.custom.provider.class), which alluxio-rs \
                               cannot run"
                        .into(),
                });
            }
        }
        Ok(())
    }

    /// Sets a value at run time (tests, per-process overrides).
    pub fn set(&mut self, key: &str, value: impl Into<String>) {
        self.values.insert(key.to_owned(), (value.into(), Source::Runtime));
    }

    /// Takes the masters' values of client settings this configuration leaves at their
    /// defaults, as Alluxio's clients load cluster defaults: `alluxio.user.*` keys Alluxio scopes
    /// for clients, never this host's own (`alluxio.user.hostname`) nor the switch itself. A
    /// value set here (site file, environment, `-D`) wins. Returns the keys taken.
    pub fn merge_cluster_defaults(&mut self, cluster: impl IntoIterator<Item = (String, String)>) -> Vec<String> {
        let mut taken = Vec::new();
        for (k, v) in cluster {
            if is_cluster_default(&k) && self.source(&k) == Source::Default && !is_secret_key(&k) {
                self.values.insert(k.clone(), (v, Source::ClusterDefault));
                taken.push(k);
            }
        }
        taken
    }

    /// Removes an explicitly set value, restoring the default.
    pub fn unset(&mut self, key: &str) {
        self.values.remove(key);
    }

    /// Whether the key was set explicitly (not a default).
    pub fn is_set(&self, key: &str) -> bool {
        self.values.get(key).is_some_and(|(_, s)| *s != Source::Default)
    }

    /// The source of a key's value.
    pub fn source(&self, key: &str) -> Source {
        self.values.get(key).map(|(_, s)| s.clone()).unwrap_or(Source::Default)
    }

    fn raw(&self, key: &str) -> Option<String> {
        if let Some((v, _)) = self.values.get(key) {
            return Some(v.clone());
        }
        match lookup(key) {
            Some(p) => p.default.map(str::to_owned),
            None => alluxio_keys::alluxio_key(key).and_then(|k| k.default).map(str::to_owned),
        }
    }

    fn resolve(&self, key: &str, value: &str, depth: usize) -> Result<String, ConfError> {
        if !value.contains("${") {
            return Ok(value.to_owned());
        }
        let mut out = String::with_capacity(value.len());
        let mut rest = value;
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            let Some(end) = after.find('}') else {
                return Err(ConfError::Substitution {
                    key: key.into(),
                    reference: after.into(),
                    reason: "no closing }",
                });
            };
            let reference = &after[..end];
            if depth > 32 {
                return Err(ConfError::Substitution {
                    key: key.into(),
                    reference: reference.into(),
                    reason: "the references form a cycle",
                });
            }
            let Some(v) = self.raw(reference) else {
                return Err(ConfError::Substitution {
                    key: key.into(),
                    reference: reference.into(),
                    reason: "that property is not set",
                });
            };
            out.push_str(&self.resolve(reference, &v, depth + 1)?);
            rest = &after[end + 1..];
        }
        out.push_str(rest);
        Ok(out)
    }

    /// The value of a key with `${}` substituted; `None` when unset without default.
    pub fn get(&self, key: &str) -> Result<Option<String>, ConfError> {
        match self.raw(key) {
            None => Ok(None),
            Some(v) => self.resolve(key, &v, 0).map(Some),
        }
    }

    /// The value of a key that must have one.
    pub fn get_str(&self, key: &str) -> Result<String, ConfError> {
        self.get(key)?.ok_or_else(|| ConfError::Missing { key: key.into() })
    }

    fn typed<T>(&self, key: &str, expected: &str, parse: impl Fn(&str) -> Option<T>) -> Result<T, ConfError> {
        let v = self.get_str(key)?;
        parse(v.trim()).ok_or_else(|| ConfError::InvalidValue {
            key: key.into(),
            value: v.clone(),
            origin: self.source(key),
            expected: expected.into(),
        })
    }

    pub fn get_i64(&self, key: &str) -> Result<i64, ConfError> {
        self.typed(key, "an integer", |s| s.parse().ok())
    }

    pub fn get_bool(&self, key: &str) -> Result<bool, ConfError> {
        self.typed(key, "true or false", parse_bool)
    }

    /// A byte size (`64MB`).
    pub fn get_bytes(&self, key: &str) -> Result<u64, ConfError> {
        self.typed(key, "a byte size such as 64MB or 1GB", values::parse_bytes)
    }

    /// A duration in milliseconds (`5min`).
    pub fn get_duration_ms(&self, key: &str) -> Result<i64, ConfError> {
        self.typed(key, "a duration such as 10ms, 1sec, 5min or 1hour", values::parse_duration_ms)
    }

    /// A duration as [`std::time::Duration`]; negatives become zero.
    pub fn get_duration(&self, key: &str) -> Result<std::time::Duration, ConfError> {
        Ok(std::time::Duration::from_millis(self.get_duration_ms(key)?.max(0) as u64))
    }

    /// An enum value, upper-cased.
    pub fn get_enum(&self, key: &str) -> Result<String, ConfError> {
        Ok(self.get_str(key)?.trim().to_ascii_uppercase())
    }

    /// A comma-separated list, trimmed, without empty items.
    pub fn get_list(&self, key: &str) -> Result<Vec<String>, ConfError> {
        Ok(self
            .get(key)?
            .map(|v| v.split(',').map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()).collect())
            .unwrap_or_default())
    }

    /// Every known key with its value and source: explicit values and defaults, templates
    /// excluded. Values that fail substitution are shown raw.
    pub fn all(&self) -> Vec<(String, Option<String>, Source)> {
        let mut out: BTreeMap<String, (Option<String>, Source)> = BTreeMap::new();
        for p in keys::PROPERTIES.iter().filter(|p| !p.name.contains('{')) {
            out.insert(p.name.to_owned(), (None, Source::Default));
        }
        for (k, (_, s)) in &self.values {
            out.insert(k.clone(), (None, s.clone()));
        }
        out.into_iter()
            .map(|(k, (_, s))| {
                let v = self.get(&k).unwrap_or_else(|_| self.raw(&k));
                (k, v, s)
            })
            .collect()
    }

    /// Explicitly set keys with a given prefix, e.g. a mount's `...root.option.` keys.
    pub fn with_prefix(&self, prefix: &str) -> Vec<(String, String)> {
        self.values
            .iter()
            .filter_map(|(k, (v, _))| k.strip_prefix(prefix).map(|rest| (rest.to_owned(), v.clone())))
            .collect()
    }
}

fn parse_bool(s: &str) -> Option<bool> {
    match s.to_ascii_lowercase().as_str() {
        "true" => Some(true),
        "false" => Some(false),
        _ => None,
    }
}

fn check_kind(key: &str, value: &str, source: &Source, kind: Kind) -> Result<(), ConfError> {
    let bad = |expected: String| ConfError::InvalidValue {
        key: key.into(),
        value: value.into(),
        origin: source.clone(),
        expected,
    };
    let v = value.trim();
    match kind {
        Kind::Str | Kind::List => Ok(()),
        Kind::Int => v.parse::<i64>().map(|_| ()).map_err(|_| bad("an integer".into())),
        Kind::Bool => parse_bool(v).map(|_| ()).ok_or_else(|| bad("true or false".into())),
        Kind::Bytes => values::parse_bytes(v).map(|_| ()).ok_or_else(|| bad("a byte size such as 64MB or 1GB".into())),
        Kind::Duration => values::parse_duration_ms(v)
            .map(|_| ())
            .ok_or_else(|| bad("a duration such as 10ms, 1sec, 5min or 1hour".into())),
        Kind::Enum(names) => {
            if names.iter().any(|n| n.eq_ignore_ascii_case(v)) {
                Ok(())
            } else {
                Err(bad(format!("one of {}", names.join(", "))))
            }
        }
        Kind::Class(names) => {
            // Accept the full class name or its simple name.
            if names.iter().any(|n| n == &v || n.rsplit('.').next() == Some(v)) {
                Ok(())
            } else {
                Err(bad(format!("one of {}", names.join(", "))))
            }
        }
    }
}

fn role_opts_var(role: Role) -> &'static str {
    match role {
        Role::Master => "ALLUXIO_MASTER_JAVA_OPTS",
        Role::Worker => "ALLUXIO_WORKER_JAVA_OPTS",
        Role::Proxy => "ALLUXIO_PROXY_JAVA_OPTS",
        Role::Client => "ALLUXIO_USER_JAVA_OPTS",
    }
}

/// Splits `-Dk=v -Dk2=v2 -Xmx1g` into the `-D` pairs; other JVM flags are ignored.
fn split_java_opts(opts: &str) -> Result<Vec<(String, String)>, ConfError> {
    opts.split_whitespace().filter(|t| t.starts_with("-D")).map(parse_define).collect()
}

/// Parses one `-Dkey=value` argument.
pub fn parse_define(arg: &str) -> Result<(String, String), ConfError> {
    let body = arg.strip_prefix("-D").unwrap_or(arg);
    match body.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k.trim().to_owned(), v.to_owned())),
        _ => Err(ConfError::MalformedOption { arg: arg.to_owned() }),
    }
}

/// The Alluxio home when `ALLUXIO_HOME` is unset: the directory above the binary's `bin/`
/// or `target/<profile>/`, if it has a `conf/`; else the current directory.
fn guess_home() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let mut dir: Option<&Path> = exe.parent();
    while let Some(d) = dir {
        if d.join("conf").is_dir() && d.join("bin").is_dir() {
            return Some(d.to_path_buf());
        }
        dir = d.parent();
    }
    std::env::current_dir().ok()
}

/// Parses Java `.properties` text: `key=value`, `key: value` or `key value`, `#`/`!`
/// comments, `\` line continuations.
pub fn parse_properties(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut logical = String::new();
    for line in text.lines() {
        let l = line.trim_start();
        if logical.is_empty() && (l.is_empty() || l.starts_with('#') || l.starts_with('!')) {
            continue;
        }
        if let Some(body) = l.strip_suffix('\\') {
            logical.push_str(body);
            continue;
        }
        logical.push_str(l);
        let entry = std::mem::take(&mut logical);
        let sep = entry.find(['=', ':', ' ', '\t']).unwrap_or(entry.len());
        let key = entry[..sep].trim().to_owned();
        let mut value = entry[sep..].trim_start();
        if let Some(v) = value.strip_prefix(['=', ':']) {
            value = v.trim_start();
        }
        if !key.is_empty() {
            out.push((key, value.trim_end().to_owned()));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn substitutes_and_types() {
        let mut c = Conf::defaults();
        c.set("alluxio.home", "/opt/a");
        assert_eq!(c.get_str("alluxio.master.journal.folder").unwrap(), "/opt/a/journal");
        assert_eq!(c.get_bytes("alluxio.user.block.size.bytes.default").unwrap(), 64 << 20);
        assert_eq!(c.get_duration_ms("alluxio.master.worker.timeout").unwrap(), 300_000);
        c.set("alluxio.user.block.size.bytes.default", "64XB");
        let e = c.validate().unwrap_err().to_string();
        assert!(e.contains("alluxio.user.block.size.bytes.default") && e.contains("64MB"), "{e}");
    }

    #[test]
    fn cluster_defaults_fill_only_client_settings_left_at_their_defaults() {
        let mut c = Conf::defaults();
        c.set("alluxio.user.block.size.bytes.default", "8MB");
        let told = [
            ("alluxio.user.file.writetype.default", "THROUGH"),
            ("alluxio.user.block.size.bytes.default", "2MB"),
            ("alluxio.user.hostname", "master-host"),
            ("alluxio.user.conf.cluster.default.enabled", "false"),
            ("alluxio.master.rpc.port", "1"),
            ("alluxio.security.login.username", "root"),
        ];
        let taken = c.merge_cluster_defaults(told.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        assert_eq!(taken, ["alluxio.user.file.writetype.default"]);
        assert_eq!(c.get_str("alluxio.user.file.writetype.default").unwrap(), "THROUGH");
        assert_eq!(c.source("alluxio.user.file.writetype.default").to_string(), "CLUSTER_DEFAULT");
        assert_eq!(c.get_str("alluxio.user.block.size.bytes.default").unwrap(), "8MB", "the client's own value wins");
        assert_eq!(c.get("alluxio.user.hostname").unwrap(), None);
        assert!(c.get_bool("alluxio.user.conf.cluster.default.enabled").unwrap());
    }

    #[test]
    fn custom_authentication_is_refused_saying_why() {
        let mut c = Conf::defaults();
        c.set("alluxio.security.authentication.type", "CUSTOM");
        let e = c.validate().unwrap_err().to_string();
        assert!(e.contains("alluxio.security.authentication.type") && e.contains("SIMPLE or NOSASL"), "{e}");
        c.set("alluxio.security.authentication.type", "NOSASL");
        c.validate().unwrap();
    }

    #[test]
    fn unknown_keys_are_refused_with_a_suggestion() {
        let mut c = Conf::defaults();
        c.set("alluxio.master.rpc.prot", "1");
        let e = c.validate().unwrap_err().to_string();
        assert!(e.contains("alluxio.master.rpc.prot") && e.contains("alluxio.master.rpc.port"), "{e}");
        let mut c = Conf::defaults();
        c.set("fs.s3a.endpoint", "x");
        c.validate().unwrap();
    }

    #[test]
    fn cycles_are_reported() {
        let mut c = Conf::defaults();
        c.set("alluxio.work.dir", "${alluxio.logs.dir}");
        c.set("alluxio.logs.dir", "${alluxio.work.dir}");
        assert!(matches!(c.get("alluxio.logs.dir"), Err(ConfError::Substitution { .. })));
    }

    #[test]
    fn properties_files() {
        let p = parse_properties("# c\nalluxio.a=1\n  alluxio.b : two\nalluxio.c three\\\n  four\n! x\n");
        assert_eq!(
            p,
            vec![
                ("alluxio.a".into(), "1".into()),
                ("alluxio.b".into(), "two".into()),
                ("alluxio.c".into(), "threefour".into())
            ]
        );
        assert!(parse_define("-Dfoo").is_err());
        assert_eq!(parse_define("-Da.b=c=d").unwrap(), ("a.b".into(), "c=d".into()));
    }
}
