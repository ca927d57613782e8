//! Every property key alluxio-rs reads, with Alluxio's names and defaults.
//!
//! A key with `{n}` in its name is a template for a number (tier levels), one with
//! `{key}` for any suffix (per-mount options), one with `{name}` for a name in the middle
//! (impersonation rules per user). Defaults may refer to other keys as `${key}`.

/// What a property's value must look like.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Str,
    Int,
    Bool,
    /// A byte size: `64MB`, `1GB`, `1024`.
    Bytes,
    /// A duration: `10ms`, `1sec`, `5min`, `1hour`, `1day`; a bare number is milliseconds.
    Duration,
    /// One of a fixed set of names (case-insensitive).
    Enum(&'static [&'static str]),
    /// A comma-separated list.
    List,
    /// A Java-style class name, resolved against a fixed set of implementations.
    Class(&'static [&'static str]),
}

/// One property: its name, default and kind.
#[derive(Debug, Clone, Copy)]
pub struct Property {
    pub name: &'static str,
    pub default: Option<&'static str>,
    pub kind: Kind,
}

const WRITE_TYPES: &[&str] = &["MUST_CACHE", "TRY_CACHE", "CACHE_THROUGH", "THROUGH", "ASYNC_THROUGH", "NONE"];
const READ_TYPES: &[&str] = &["NO_CACHE", "CACHE", "CACHE_PROMOTE"];
const JOURNAL_TYPES: &[&str] = &["UFS", "EMBEDDED", "NOOP"];
const LOAD_TYPES: &[&str] = &["ONCE", "NEVER", "ALWAYS"];
const TTL_ACTIONS: &[&str] = &["DELETE", "FREE"];
const AUTH_TYPES: &[&str] = &["NOSASL", "SIMPLE", "CUSTOM"];
const METASTORES: &[&str] = &["HEAP", "ROCKS"];
const GROUP_MAPPINGS: &[&str] = &["alluxio.security.group.provider.ShellBasedUnixGroupsMapping"];
const ALLOCATORS: &[&str] = &[
    "alluxio.worker.block.allocator.MaxFreeAllocator",
    "alluxio.worker.block.allocator.RoundRobinAllocator",
    "alluxio.worker.block.allocator.GreedyAllocator",
];
const ANNOTATORS: &[&str] =
    &["alluxio.worker.block.annotator.LRUAnnotator", "alluxio.worker.block.annotator.LRFUAnnotator"];
const WRITE_POLICIES: &[&str] = &[
    "alluxio.client.block.policy.LocalFirstPolicy",
    "alluxio.client.block.policy.LocalFirstAvoidEvictionPolicy",
    "alluxio.client.block.policy.MostAvailableFirstPolicy",
    "alluxio.client.block.policy.RoundRobinPolicy",
    "alluxio.client.block.policy.DeterministicHashPolicy",
];

macro_rules! props {
    ($( $name:literal => $default:expr, $kind:expr; )*) => {
        /// The registry of known properties.
        pub static PROPERTIES: &[Property] = &[
            $( Property { name: $name, default: $default, kind: $kind }, )*
        ];
    };
}

use Kind::*;

props! {
    "alluxio.home" => Some("/opt/alluxio"), Str;
    "alluxio.conf.dir" => Some("${alluxio.home}/conf"), Str;
    "alluxio.work.dir" => Some("${alluxio.home}"), Str;
    "alluxio.logs.dir" => Some("${alluxio.work.dir}/logs"), Str;
    "alluxio.tmp.dirs" => Some("/tmp"), List;
    "alluxio.version" => Some(crate::version::VERSION), Str;
    "alluxio.debug" => Some("false"), Bool;
    "alluxio.network.connection.timeout" => Some("5sec"), Duration;

    "alluxio.master.hostname" => Some("localhost"), Str;
    "alluxio.master.bind.host" => Some("0.0.0.0"), Str;
    "alluxio.master.rpc.port" => Some("19998"), Int;
    "alluxio.master.rpc.addresses" => None, List;
    "alluxio.master.web.port" => Some("19999"), Int;
    "alluxio.master.web.bind.host" => Some("0.0.0.0"), Str;
    "alluxio.master.web.hostname" => Some("${alluxio.master.hostname}"), Str;
    "alluxio.master.embedded.journal.port" => Some("19200"), Int;
    "alluxio.master.embedded.journal.addresses" => None, List;
    // Alluxio waits 10-20 s before electing. openraft elects after the leader lease (= the
    // max timeout) plus a random timeout, so these give a new leader 1.5-2 s after a crash.
    "alluxio.master.embedded.journal.election.timeout.min" => Some("500ms"), Duration;
    "alluxio.master.embedded.journal.election.timeout.max" => Some("1s"), Duration;
    "alluxio.master.embedded.journal.heartbeat.interval" => Some("100ms"), Duration;
    "alluxio.master.journal.type" => Some("EMBEDDED"), Enum(JOURNAL_TYPES);
    "alluxio.master.journal.folder" => Some("${alluxio.work.dir}/journal"), Str;
    "alluxio.master.journal.checkpoint.period.entries" => Some("2000000"), Int;
    "alluxio.master.journal.log.size.bytes.max" => Some("10MB"), Bytes;
    "alluxio.master.journal.flush.batch.time" => Some("5ms"), Duration;
    "alluxio.master.journal.flush.timeout" => Some("5min"), Duration;
    "alluxio.master.journal.gc.period" => Some("2min"), Duration;
    "alluxio.master.journal.gc.threshold" => Some("5min"), Duration;
    "alluxio.master.journal.init.from.backup" => None, Str;
    "alluxio.master.journal.tolerate.corruption" => Some("false"), Bool;
    "alluxio.master.journal.exit.on.demotion" => Some("false"), Bool;
    "alluxio.master.format.file.prefix" => Some("_format_"), Str;
    "alluxio.master.metastore" => Some("HEAP"), Enum(METASTORES);
    "alluxio.master.metastore.dir" => Some("${alluxio.work.dir}/metastore"), Str;
    "alluxio.master.mount.table.root.ufs" => Some("${alluxio.work.dir}/underFSStorage"), Str;
    "alluxio.master.mount.table.root.readonly" => Some("false"), Bool;
    "alluxio.master.mount.table.root.shared" => Some("true"), Bool;
    "alluxio.master.mount.table.root.option.{key}" => None, Str;
    "alluxio.master.backup.directory" => Some("/alluxio_backups"), Str;
    "alluxio.master.backup.delegation.enabled" => Some("false"), Bool;
    "alluxio.master.backup.entry.buffer.count" => Some("10000"), Int;
    "alluxio.master.daily.backup.enabled" => Some("false"), Bool;
    "alluxio.master.daily.backup.time" => Some("05:00"), Str;
    "alluxio.master.daily.backup.files.retained" => Some("3"), Int;
    "alluxio.master.worker.timeout" => Some("5min"), Duration;
    "alluxio.master.lost.worker.detection.interval" => Some("10sec"), Duration;
    "alluxio.master.worker.connect.wait.time" => Some("5sec"), Duration;
    "alluxio.master.ttl.checker.interval" => Some("1hour"), Duration;
    "alluxio.master.replication.check.interval" => Some("1min"), Duration;
    "alluxio.master.persistence.scheduler.interval" => Some("1sec"), Duration;
    "alluxio.master.persistence.initial.interval" => Some("1sec"), Duration;
    "alluxio.master.persistence.max.interval" => Some("1hr"), Duration;
    "alluxio.master.persistence.max.total.wait.time" => Some("1day"), Duration;
    "alluxio.master.file.writer.lease.timeout" => Some("5min"), Duration;
    "alluxio.master.startup.block.integrity.check.enabled" => Some("true"), Bool;
    "alluxio.master.filesystem.liststatus.result.message.length" => Some("10000"), Int;
    "alluxio.master.tieredstore.global.levels" => Some("3"), Int;
    "alluxio.master.tieredstore.global.level{n}.alias" => None, Str;
    "alluxio.master.audit.logging.enabled" => Some("false"), Bool;

    "alluxio.worker.hostname" => Some("localhost"), Str;
    "alluxio.worker.bind.host" => Some("0.0.0.0"), Str;
    "alluxio.worker.rpc.port" => Some("29999"), Int;
    "alluxio.worker.web.port" => Some("30000"), Int;
    "alluxio.worker.data.port" => Some("0"), Int;
    "alluxio.worker.ramdisk.size" => None, Bytes;
    "alluxio.worker.tieredstore.levels" => Some("1"), Int;
    "alluxio.worker.tieredstore.level{n}.alias" => None, Str;
    "alluxio.worker.tieredstore.level{n}.dirs.path" => None, List;
    "alluxio.worker.tieredstore.level{n}.dirs.quota" => None, List;
    "alluxio.worker.tieredstore.level{n}.dirs.mediumtype" => None, List;
    "alluxio.worker.tieredstore.level{n}.watermark.high.ratio" => Some("0.95"), Str;
    "alluxio.worker.tieredstore.level{n}.watermark.low.ratio" => Some("0.7"), Str;
    "alluxio.worker.tieredstore.free.ahead.bytes" => Some("0"), Bytes;
    "alluxio.worker.data.folder" => Some("/alluxioworker/"), Str;
    "alluxio.worker.data.folder.tmp" => Some(".tmp_blocks"), Str;
    "alluxio.worker.data.folder.permissions" => Some("rwxrwxrwx"), Str;
    "alluxio.worker.block.heartbeat.interval" => Some("1sec"), Duration;
    "alluxio.worker.allocator.class" => Some("alluxio.worker.block.allocator.MaxFreeAllocator"), Class(ALLOCATORS);
    "alluxio.worker.block.annotator.class" => Some("alluxio.worker.block.annotator.LRUAnnotator"), Class(ANNOTATORS);
    "alluxio.worker.network.reader.buffer.size" => Some("4MB"), Bytes;
    "alluxio.worker.block.annotator.lrfu.step.factor" => Some("0.25"), Str;
    "alluxio.worker.block.annotator.lrfu.attenuation.factor" => Some("2.0"), Str;
    "alluxio.worker.management.tier.promote.enabled" => Some("true"), Bool;
    "alluxio.worker.management.tier.promote.quota.percent" => Some("90"), Int;
    "alluxio.worker.management.tier.promote.interval" => Some("1sec"), Duration;

    "alluxio.user.block.size.bytes.default" => Some("64MB"), Bytes;
    "alluxio.user.file.writetype.default" => Some("ASYNC_THROUGH"), Enum(WRITE_TYPES);
    "alluxio.user.file.readtype.default" => Some("CACHE"), Enum(READ_TYPES);
    "alluxio.user.file.metadata.load.type" => Some("ONCE"), Enum(LOAD_TYPES);
    "alluxio.user.file.metadata.sync.interval" => Some("-1"), Duration;
    "alluxio.user.file.replication.durable" => Some("1"), Int;
    "alluxio.user.file.replication.min" => Some("0"), Int;
    "alluxio.user.file.replication.max" => Some("-1"), Int;
    "alluxio.user.file.create.ttl" => Some("-1"), Duration;
    "alluxio.user.file.create.ttl.action" => Some("FREE"), Enum(TTL_ACTIONS);
    "alluxio.user.file.write.tier.default" => Some("0"), Int;
    "alluxio.user.file.passive.cache.enabled" => Some("true"), Bool;
    "alluxio.user.file.persistence.initial.wait.time" => Some("0"), Duration;
    "alluxio.user.short.circuit.enabled" => Some("true"), Bool;
    "alluxio.user.block.write.location.policy.class" => Some("alluxio.client.block.policy.LocalFirstPolicy"), Class(WRITE_POLICIES);
    "alluxio.user.network.reader.chunk.size.bytes" => Some("1MB"), Bytes;
    "alluxio.user.network.writer.chunk.size.bytes" => Some("1MB"), Bytes;
    "alluxio.user.rpc.retry.max.duration" => Some("2min"), Duration;
    "alluxio.user.hostname" => None, Str;
    "alluxio.user.conf.cluster.default.enabled" => Some("true"), Bool;

    "alluxio.security.authentication.type" => Some("SIMPLE"), Enum(AUTH_TYPES);
    "alluxio.security.login.username" => None, Str;
    "alluxio.security.login.impersonation.username" => Some("_HDFS_USER_"), Str;
    // Groups come from the master's user database, as Alluxio's shell-based mapping reads them.
    "alluxio.security.group.mapping.class" => Some("alluxio.security.group.provider.ShellBasedUnixGroupsMapping"), Class(GROUP_MAPPINGS);
    "alluxio.security.group.mapping.cache.timeout" => Some("1min"), Duration;
    "alluxio.security.authentication.custom.provider.class" => None, Str;
    "alluxio.master.security.impersonation.{name}.users" => None, Str;
    "alluxio.master.security.impersonation.{name}.groups" => None, Str;
    "alluxio.master.audit.logging.queue.capacity" => Some("10000"), Int;
    "alluxio.security.authorization.permission.enabled" => Some("true"), Bool;
    "alluxio.security.authorization.permission.umask" => Some("022"), Str;
    "alluxio.security.authorization.permission.supergroup" => Some("supergroup"), Str;

    "alluxio.proxy.web.port" => Some("39999"), Int;
    "alluxio.proxy.web.bind.host" => Some("0.0.0.0"), Str;
    "alluxio.proxy.web.hostname" => Some("localhost"), Str;
    "alluxio.proxy.stream.cache.timeout" => Some("1hour"), Duration;
    // alluxio-rs: when cached blocks are checked against their checksums.
    "alluxio.worker.block.checksum.verify" => Some("ONCE"), Enum(&["ONCE", "EVERY_READ", "NEVER"]);
    // alluxio-rs: an idle REST write stream gives back its block's reserved worker space.
    "alluxio.proxy.stream.idle.release.time" => Some("10sec"), Duration;
    "alluxio.proxy.s3.complete.multipart.upload.min.part.size" => Some("5MB"), Bytes;
    "alluxio.proxy.s3.multipart.upload.cleaner.timeout" => Some("10min"), Duration;
    "alluxio.proxy.s3.writetype" => Some("CACHE_THROUGH"), Enum(WRITE_TYPES);
    "alluxio.proxy.s3.deletetype" => Some("ALLUXIO_AND_UFS"), Enum(&["ALLUXIO_AND_UFS", "ALLUXIO_ONLY"]);
    "alluxio.proxy.s3.max.body.size" => Some("5GB"), Bytes;
    // Ours (Alluxio's proxy has no authentication): when both are set, S3 requests must carry a
    // valid AWS Signature V4 for this key pair, at the root endpoint http://<proxy>:39999/.
    "alluxio.proxy.s3.auth.access.key" => None, Str;
    "alluxio.proxy.s3.auth.secret.key" => None, Str;
    // Ours: more key pairs, one `<access key> <secret key>` per line (the access key names the
    // Alluxio user); the file must be readable by its owner only.
    "alluxio.proxy.s3.auth.credentials.file" => None, Str;
    // TLS on every port (gRPC, embedded journal, block data, web, proxy). Alluxio 2.9 has the
    // switch; the files are ours: PEM certificate chain and key this process presents, PEM CA
    // certificates it trusts, and whether servers require client certificates (mutual TLS).
    "alluxio.network.tls.enabled" => Some("false"), Bool;
    "alluxio.network.tls.cert.file" => None, Str;
    "alluxio.network.tls.key.file" => None, Str;
    "alluxio.network.tls.ca.file" => None, Str;
    "alluxio.network.tls.client.auth.required" => Some("false"), Bool;
    "alluxio.zookeeper.enabled" => Some("false"), Bool;
    "alluxio.zookeeper.address" => None, Str;
}

fn template_matches(template: &str, key: &str) -> bool {
    if let Some(i) = template.find("{n}") {
        let (pre, post) = (&template[..i], &template[i + 3..]);
        if let Some(rest) = key.strip_prefix(pre) {
            let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
            return digits > 0 && &rest[digits..] == post;
        }
        false
    } else if let Some(i) = template.find("{name}") {
        let (pre, post) = (&template[..i], &template[i + 6..]);
        key.len() > pre.len() + post.len() && key.starts_with(pre) && key.ends_with(post)
    } else if let Some(pre) = template.strip_suffix("{key}") {
        key.len() > pre.len() && key.starts_with(pre)
    } else {
        template == key
    }
}

/// Defaults alluxio-rs sets apart from Alluxio 2.9.3's on purpose, and why (`getConf --source`
/// says so). A test keeps every other shared key on Alluxio's default.
pub const DIFFERENT_DEFAULTS: &[(&str, &str)] = &[
    ("alluxio.master.embedded.journal.election.timeout.min", "failover in under 2 s (Alluxio: 10s)"),
    ("alluxio.master.embedded.journal.election.timeout.max", "failover in under 2 s (Alluxio: 20s)"),
    ("alluxio.master.journal.flush.batch.time", "group commit waits 5ms, not 100ms, for lower create latency"),
    ("alluxio.master.metastore", "the namespace lives in memory (HEAP); ROCKS is not implemented"),
    (
        "alluxio.master.backup.delegation.enabled",
        "the leader takes backups itself unless asked, so `fsadmin backup` works on one master",
    ),
    ("alluxio.master.startup.block.integrity.check.enabled", "workers' blocks are checked against the namespace"),
];

/// Why alluxio-rs's default of `key` differs from Alluxio 2.9.3's, when it does on purpose.
pub fn why_different(key: &str) -> Option<&'static str> {
    DIFFERENT_DEFAULTS.iter().find(|(k, _)| *k == key).map(|(_, why)| *why)
}

/// The property a key names, matching templates; `None` for an unknown key.
pub fn lookup(key: &str) -> Option<&'static Property> {
    PROPERTIES.iter().find(|p| p.name == key).or_else(|| PROPERTIES.iter().find(|p| template_matches(p.name, key)))
}

/// The known key closest to an unknown one, to suggest in the error.
pub fn closest(key: &str) -> Option<&'static str> {
    fn distance(a: &str, b: &str) -> usize {
        let b: Vec<char> = b.chars().collect();
        let mut prev: Vec<usize> = (0..=b.len()).collect();
        for (i, ca) in a.chars().enumerate() {
            let mut cur = vec![i + 1];
            for (j, cb) in b.iter().enumerate() {
                cur.push((prev[j] + usize::from(ca != *cb)).min(prev[j + 1] + 1).min(cur[j] + 1));
            }
            prev = cur;
        }
        prev[b.len()]
    }
    PROPERTIES
        .iter()
        .filter(|p| !p.name.contains('{'))
        .map(|p| p.name)
        .chain(super::alluxio_keys::names())
        .map(|n| (distance(key, n), n))
        .filter(|(d, _)| *d <= 4)
        .min()
        .map(|(_, n)| n)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Keys whose Alluxio default is computed at run time (host names, sizes from other keys)
    /// rather than a fixed value; alluxio-rs fixes one.
    const COMPUTED_IN_ALLUXIO: &[&str] = &[
        "alluxio.version",
        "alluxio.master.hostname",
        "alluxio.master.web.hostname",
        "alluxio.worker.hostname",
        "alluxio.proxy.web.hostname",
        "alluxio.user.network.reader.chunk.size.bytes",
        "alluxio.user.network.writer.chunk.size.bytes",
        "alluxio.worker.tieredstore.level{n}.watermark.high.ratio",
        "alluxio.worker.tieredstore.level{n}.watermark.low.ratio",
    ];

    #[test]
    fn defaults_are_alluxios_unless_listed_with_a_reason() {
        let same = |a: &str, b: &str| {
            let (a, b) = (a.replace("sec", "s"), b.replace("sec", "s"));
            a == b
        };
        for p in PROPERTIES {
            let template = p.name.replace("{n}", "{N}").replace("{name}", "{S}");
            let Some(theirs) = super::super::alluxio_keys::alluxio_key(&template) else { continue };
            let (ours, theirs) = (p.default.unwrap_or(""), theirs.default.unwrap_or(""));
            let listed = why_different(p.name).is_some() || COMPUTED_IN_ALLUXIO.contains(&p.name);
            assert!(
                same(ours, theirs) || listed,
                "{}: default {ours:?}, Alluxio 2.9.3's {theirs:?}: use Alluxio's or list it in DIFFERENT_DEFAULTS",
                p.name
            );
            assert!(!(same(ours, theirs) && why_different(p.name).is_some()), "{} is listed but the same", p.name);
        }
    }

    #[test]
    fn templates_match_levels_and_options() {
        assert!(lookup("alluxio.worker.tieredstore.level0.alias").is_some());
        assert!(lookup("alluxio.master.security.impersonation.alluxio.proxy.users").is_some());
        assert!(lookup("alluxio.master.security.impersonation..users").is_none());
        assert!(lookup("alluxio.worker.tieredstore.level12.dirs.path").is_some());
        assert!(lookup("alluxio.worker.tieredstore.levelx.alias").is_none());
        assert!(lookup("alluxio.master.mount.table.root.option.s3a.accessKeyId").is_some());
        assert!(lookup("alluxio.master.rpc.prot").is_none());
        assert_eq!(closest("alluxio.master.rpc.prot"), Some("alluxio.master.rpc.port"));
    }
}
