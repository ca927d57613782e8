//! Every property key of Alluxio 2.9.3, the release alluxio-rs replaces, with its default, and
//! its deprecated aliases: an Alluxio 2.9 site file starts unchanged. Keys alluxio-rs
//! implements are in [`super::keys`]; the others here are accepted, take Alluxio's default, and
//! have no effect (the servers say so once at start, `alluxio validateConf` lists them).
//!
//! The tables are Alluxio's documented lists as they are (`alluxio-2.9.3-keys.tsv`: key,
//! default, scope, deprecated; `alluxio-2.9.3-aliases.tsv`: alias, key), read once.

use std::collections::HashMap;
use std::sync::OnceLock;

const KEYS_TSV: &str = include_str!("alluxio-2.9.3-keys.tsv");
const ALIASES_TSV: &str = include_str!("alluxio-2.9.3-aliases.tsv");

/// One key (or template, with `{S}` for a name and `{N}` for a number) of Alluxio 2.9.3.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AlluxioKey {
    pub name: &'static str,
    pub default: Option<&'static str>,
    /// Which processes read it: `ALL`, `MASTER`, `WORKER`, `CLIENT`, `SERVER` or `NONE`.
    pub scope: &'static str,
}

struct Tables {
    exact: HashMap<&'static str, AlluxioKey>,
    templates: Vec<AlluxioKey>,
    aliases: HashMap<&'static str, &'static str>,
}

fn tables() -> &'static Tables {
    static T: OnceLock<Tables> = OnceLock::new();
    T.get_or_init(|| {
        let mut exact = HashMap::new();
        let mut templates = Vec::new();
        for line in KEYS_TSV.lines().skip(1).filter(|l| !l.trim().is_empty()) {
            let mut cols = line.split('\t');
            let name = cols.next().unwrap_or_default();
            let default = cols.next().filter(|d| !d.is_empty());
            let scope = cols.next().unwrap_or("ALL");
            let key = AlluxioKey { name, default, scope };
            if name.contains('{') {
                templates.push(key);
            } else {
                exact.insert(name, key);
            }
        }
        let aliases = ALIASES_TSV
            .lines()
            .skip(1)
            .filter_map(|l| l.split_once('\t'))
            .map(|(alias, key)| (alias.trim(), key.trim()))
            .collect();
        Tables { exact, templates, aliases }
    })
}

/// Whether `key` fits `template`: `{N}` stands for one or more digits, `{S}` for one or more
/// characters of any kind (names may hold dots).
fn fits(template: &str, key: &str) -> bool {
    let Some(open) = template.find('{') else { return template == key };
    let Some(rest) = key.strip_prefix(&template[..open]) else { return false };
    let (placeholder, after) = match template[open..].find('}') {
        Some(close) => (&template[open..open + close + 1], &template[open + close + 1..]),
        None => return false,
    };
    // Try every length the placeholder can take, shortest first.
    (1..=rest.len()).filter(|n| rest.is_char_boundary(*n)).any(|n| {
        let (taken, left) = rest.split_at(n);
        let ok = match placeholder {
            "{N}" => taken.bytes().all(|b| b.is_ascii_digit()),
            _ => true,
        };
        ok && fits(after, left)
    })
}

/// The Alluxio 2.9.3 key (or template) `key` is, if any.
pub fn alluxio_key(key: &str) -> Option<AlluxioKey> {
    let t = tables();
    t.exact.get(key).copied().or_else(|| t.templates.iter().find(|k| fits(k.name, key)).copied())
}

/// The key a deprecated Alluxio alias stands for.
pub fn canonical(alias: &str) -> Option<&'static str> {
    tables().aliases.get(alias).copied()
}

/// Every non-template Alluxio key (for suggestions on typos).
pub fn names() -> impl Iterator<Item = &'static str> {
    tables().exact.keys().copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tables_hold_alluxios_lists() {
        let t = tables();
        assert_eq!(t.exact.len() + t.templates.len(), KEYS_TSV.lines().skip(1).filter(|l| !l.is_empty()).count());
        assert!(t.exact.len() >= 838 && t.templates.len() >= 40, "{} + {}", t.exact.len(), t.templates.len());
        // 83 lines, 81 aliases: two old names were kept through a second rename, and stand for
        // the newest key (the later line).
        assert_eq!(t.aliases.len(), 81);
        assert_eq!(canonical("alluxio.user.network.data.timeout.ms"), Some("alluxio.user.streaming.data.read.timeout"));
        // Keys of a realistic 2.9 site file that alluxio-rs has no use for.
        for k in [
            "alluxio.user.metadata.cache.enabled",
            "alluxio.job.master.hostname",
            "alluxio.fuse.user.group.translation.enabled",
            "alluxio.user.block.master.client.pool.gc.threshold",
        ] {
            assert!(alluxio_key(k).is_some(), "{k}");
        }
        assert_eq!(alluxio_key("alluxio.conf.validation.enabled").unwrap().default, Some("true"));
        assert_eq!(canonical("alluxio.master.format.file_prefix"), Some("alluxio.master.format.file.prefix"));
    }

    #[test]
    fn templates_take_names_and_numbers() {
        assert!(alluxio_key("alluxio.master.mount.table.root.option.fs.s3a.endpoint").is_some());
        assert!(alluxio_key("alluxio.master.tieredstore.global.level2.alias").is_some());
        assert!(alluxio_key("alluxio.master.tieredstore.global.levelX.alias").is_none());
        assert!(alluxio_key("alluxio.user.network.rpc.keepalive.time").is_some());
        assert!(alluxio_key("alluxio.master.rpc.address.ns1.m1").is_some());
        assert!(alluxio_key("alluxio.no.such.key").is_none());
    }
}
