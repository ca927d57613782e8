//! Exit codes: the one place statuses become process exit codes.

use alluxio_common::status::Code;

/// Any failed `fs`/`fsadmin` command (Alluxio's shell returns -1).
pub const FAILURE: u8 = 255;
/// A configuration mistake found before the command ran.
pub const CONFIG_ERROR: u8 = 1;

/// The exit code of a command that failed with `code`. Alluxio's shells return -1 (255)
/// for every failure; scripts rely on that, so only the message tells the statuses apart.
pub fn for_code(_code: Code) -> u8 {
    FAILURE
}

/// Prints a command's message (stdout) or error (stderr) and gives its exit code.
pub fn report(r: Result<String, String>, failure: u8) -> std::process::ExitCode {
    match r {
        Ok(msg) => {
            println!("{msg}");
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{e}");
            std::process::ExitCode::from(failure)
        }
    }
}
