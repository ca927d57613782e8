//! `alluxio`: the one binary. Servers (`process master|worker`), the `fs` and `fsadmin`
//! shells, formatting, configuration lookup and benchmarks.
//!
//! Generic options `-Dkey=value` may appear anywhere (Alluxio puts them between a command
//! and its sub-command: `alluxio fs -Dalluxio.user.file.writetype.default=THROUGH ls /`).

/// `println!` and `print!` that end the process quietly, as SIGPIPE ends other Unix tools,
/// once the reader of the output went away (`| head`); see [`output::stdout_gone`].
macro_rules! println {
    () => { $crate::output::print_out(format_args!("\n")) };
    ($($arg:tt)*) => { $crate::output::print_out(format_args!("{}\n", format_args!($($arg)*))) };
}

macro_rules! print {
    ($($arg:tt)*) => { $crate::output::print_out(format_args!($($arg)*)) };
}

mod bench;
mod cache_cmd;
mod conf_cmd;
mod exit;
mod format_cmd;
mod fs_cmd;
mod fsadmin_cmd;
mod journal_cmd;
mod output;

use std::process::ExitCode;
use std::sync::Arc;

use alluxio_common::conf::{parse_define, Conf, Role};

const USAGE: &str = "Usage: alluxio COMMAND [GENERIC_COMMAND_OPTIONS] [COMMAND_ARGS]

COMMAND is one of:
  format [-s]   \t Format Alluxio master and all workers
  formatJournal \t Format Alluxio master journal locally
  formatMasters \t Format Alluxio master nodes
  formatWorker  \t Format Alluxio worker nodes
  fs            \t Command line tool for interacting with the Alluxio filesystem.
  fsadmin       \t Command line tool for use by Alluxio filesystem admins.
  getConf [key] \t Look up a configuration key, or print all configuration.
  readJournal   \t Read an Alluxio journal file from stdin and write a human-readable version of it to stdout.
  repairJournal \t Cut a damaged journal of a stopped master at the offset it named (the changes after it are lost).
  validateConf  \t Validate Alluxio conf and exit.
  version       \t Print Alluxio version and exit.
  process       \t Run a server in the foreground: process master | worker | proxy
  bench         \t Run a benchmark: bench metadata | bench replay

GENERIC_COMMAND_OPTIONS supports:
  -D<property=value>\t Use a value for a given Alluxio property

Commands print help when invoked without parameters.";

/// Splits `-Dkey=value` generic options from the other arguments.
type Defines = Vec<(String, String)>;

fn split_defines(args: Vec<String>) -> Result<(Defines, Vec<String>), String> {
    let mut defines = Vec::new();
    let mut rest = Vec::new();
    for a in args {
        if a.starts_with("-D") && a.len() > 2 {
            defines.push(parse_define(&a).map_err(|e| e.to_string())?);
        } else {
            rest.push(a);
        }
    }
    Ok((defines, rest))
}

/// Loads the configuration for `role`, printing the error and exiting on a mistake.
pub fn load_conf(role: Role, defines: &[(String, String)]) -> Result<Arc<Conf>, ExitCode> {
    match Conf::load(role, defines) {
        Ok(c) => Ok(Arc::new(c)),
        Err(e) => {
            eprintln!("{e}");
            Err(ExitCode::from(exit::CONFIG_ERROR))
        }
    }
}

/// What a valid configuration still deserves a word about: deprecated aliases, Alluxio keys
/// alluxio-rs does not use, and unknown keys (ignored). One line per key.
fn conf_notes(conf: &Conf) -> Vec<String> {
    let mut out: Vec<String> = conf
        .renamed()
        .iter()
        .map(|(alias, key)| format!("{alias} is deprecated: its value applies to {key}; set that key instead"))
        .collect();
    out.extend(conf.no_effect().into_iter().map(|k| format!("{k}: accepted, no effect in alluxio-rs")));
    out.extend(conf.unknown().into_iter().map(|k| format!("{k}: unknown property, ignored")));
    out
}

fn init_server_logging() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_env("ALLUXIO_LOG_LEVEL").unwrap_or_else(|_| {
        EnvFilter::new("info,h2=warn,tower=warn,hyper=warn,tonic=warn,opendal=warn,openraft=error")
    });
    tracing_subscriber::fmt().with_env_filter(filter).with_target(false).with_ansi(false).init();
}

fn init_cli_logging() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_env("ALLUXIO_LOG_LEVEL")
        .unwrap_or_else(|_| EnvFilter::new("warn,h2=error,tower=error,hyper=error,openraft=error"));
    tracing_subscriber::fmt().with_env_filter(filter).with_target(false).with_writer(std::io::stderr).init();
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("start the async runtime")
}

fn main() -> ExitCode {
    // SIGPIPE stays ignored (Rust's default): a server closing a socket is an error on that
    // connection, never the silent death of the command. A closed standard output still ends
    // the command as SIGPIPE would (`output::stdout_gone`).
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (defines, args) = match split_defines(args) {
        Ok(x) => x,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(exit::CONFIG_ERROR);
        }
    };
    let Some(cmd) = args.first().cloned() else {
        println!("{USAGE}");
        return ExitCode::from(1);
    };
    let rest: Vec<String> = args[1..].to_vec();
    let with_conf = |role: Role, run: &dyn Fn(Arc<Conf>) -> ExitCode| match load_conf(role, &defines) {
        Ok(conf) => run(conf),
        Err(code) => code,
    };
    match cmd.as_str() {
        "process" => run_server(&defines, &rest),
        "fs" => {
            init_cli_logging();
            with_conf(Role::Client, &|conf| runtime().block_on(fs_cmd::run(conf, rest.clone())))
        }
        "fsadmin" => {
            init_cli_logging();
            with_conf(Role::Client, &|conf| runtime().block_on(fsadmin_cmd::run(conf, rest.clone())))
        }
        "format" | "formatJournal" | "formatMasters" | "formatMaster" | "formatWorker" => {
            init_cli_logging();
            let role = if cmd == "formatWorker" { Role::Worker } else { Role::Master };
            with_conf(role, &|conf| format_cmd::run(&conf, &cmd, &rest))
        }
        "getConf" => conf_cmd::get_conf(&defines, &rest),
        "cache" => with_conf(Role::Worker, &|conf| cache_cmd::run(&conf, &rest)),
        "readJournal" => with_conf(Role::Master, &|conf| journal_cmd::run(&conf, &rest)),
        "repairJournal" => with_conf(Role::Master, &|conf| journal_cmd::repair(&conf, &rest)),
        "validateConf" => match Conf::load(Role::Client, &defines) {
            Ok(conf) => {
                for line in conf_notes(&conf) {
                    println!("{line}");
                }
                println!("Validating configuration: OK");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("{e}");
                ExitCode::from(exit::CONFIG_ERROR)
            }
        },
        "version" => conf_cmd::version(&rest),
        "bench" => {
            init_cli_logging();
            with_conf(Role::Client, &|conf| runtime().block_on(bench::run(conf, rest.clone())))
        }
        "-h" | "--help" | "help" => {
            println!("{USAGE}");
            ExitCode::SUCCESS
        }
        other => {
            eprintln!("Unsupported command {other}");
            println!("{USAGE}");
            ExitCode::from(1)
        }
    }
}

/// `alluxio process master|worker|proxy`: runs a server until it is stopped.
fn run_server(defines: &[(String, String)], rest: &[String]) -> ExitCode {
    init_server_logging();
    // A server outlives the terminal or process group that started it, and a peer that
    // closed its socket is an error on that connection, never the death of the process.
    // SAFETY: setting signal dispositions before any thread starts.
    unsafe {
        libc::signal(libc::SIGHUP, libc::SIG_IGN);
        libc::signal(libc::SIGPIPE, libc::SIG_IGN);
    }
    let role = match rest.first().map(String::as_str) {
        Some("master") => Role::Master,
        Some("worker") => Role::Worker,
        Some("proxy") => Role::Proxy,
        _ => {
            eprintln!("Usage: alluxio process master|worker|proxy");
            return ExitCode::from(1);
        }
    };
    let conf = match load_conf(role, defines) {
        Ok(c) => c,
        Err(code) => return code,
    };
    for line in conf_notes(&conf) {
        tracing::warn!("{line}");
    }
    let rt = runtime();
    let r = match role {
        Role::Master => rt.block_on(alluxio_master::server::run(conf)).map_err(|e| e.to_string()),
        Role::Proxy => rt.block_on(alluxio_proxy::server::run(conf)).map_err(|e| e.to_string()),
        _ => rt.block_on(alluxio_worker::server::run(conf)).map_err(|e| e.to_string()),
    };
    rt.shutdown_timeout(std::time::Duration::from_millis(300));
    match r {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e}");
            eprintln!("Fatal error: {e}");
            ExitCode::from(1)
        }
    }
}
