//! `getfacl` and `setfacl`, with Alluxio's options and output.

use alluxio_client::AclAction;

use super::*;

/// Show the ACL of a path.
#[derive(clap::Args, Debug)]
pub(super) struct GetfaclArgs {
    pub path: String,
}

pub(super) async fn getfacl(fs: &FileSystem, a: GetfaclArgs) -> R<u8> {
    for ap in expand(fs, &a.path).await? {
        let st = fs.get_status(&ap).await?;
        println!("# file: {ap}");
        println!("# owner: {}", st.owner);
        println!("# group: {}", st.group);
        for e in alluxio_client::acl_entries(&st) {
            println!("{e}");
        }
    }
    Ok(0)
}

/// Set the ACL of a path: `setfacl [-d] [-R] [--set | -m | -x <acl_entries> <path>] | [-b | -k <path>]`.
#[derive(clap::Args, Debug)]
#[command(group(clap::ArgGroup::new("action").required(true).args(["set", "modify", "remove", "remove_all", "remove_default"])))]
pub(super) struct SetfaclArgs {
    /// Apply the entries to the default ACL.
    #[arg(short = 'd')]
    pub default: bool,
    #[arg(short = 'R', long = "recursive")]
    pub recursive: bool,
    /// Replace the ACL with these entries (user::, group:: and other:: included).
    #[arg(long = "set", value_name = "acl_entries")]
    pub set: Option<String>,
    /// Add or change entries.
    #[arg(short = 'm', value_name = "acl_entries")]
    pub modify: Option<String>,
    /// Remove entries.
    #[arg(short = 'x', value_name = "acl_entries")]
    pub remove: Option<String>,
    /// Remove every entry beyond the mode's.
    #[arg(short = 'b')]
    pub remove_all: bool,
    /// Remove the default ACL.
    #[arg(short = 'k')]
    pub remove_default: bool,
    pub path: String,
}

impl SetfaclArgs {
    /// The action and its entries (with `-d`, entries without `default:` become default ones).
    fn action(&self) -> (AclAction, Vec<String>) {
        let entries = |s: &str| -> Vec<String> {
            s.split(',')
                .map(str::trim)
                .filter(|e| !e.is_empty())
                .map(|e| if self.default && !e.starts_with("default:") { format!("default:{e}") } else { e.to_owned() })
                .collect()
        };
        match (&self.set, &self.modify, &self.remove) {
            (Some(s), _, _) => (AclAction::Replace, entries(s)),
            (_, Some(m), _) => (AclAction::Modify, entries(m)),
            (_, _, Some(x)) => (AclAction::Remove, entries(x)),
            _ if self.remove_all => (AclAction::RemoveAll, Vec::new()),
            _ => (AclAction::RemoveDefault, Vec::new()),
        }
    }
}

pub(super) async fn setfacl(fs: &FileSystem, a: SetfaclArgs) -> R<u8> {
    let (action, entries) = a.action();
    for ap in expand(fs, &a.path).await? {
        fs.set_acl(&ap, action, &entries, a.recursive).await?;
    }
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<SetfaclArgs, clap::Error> {
        #[derive(clap::Parser, Debug)]
        struct P {
            #[command(flatten)]
            a: SetfaclArgs,
        }
        <P as clap::Parser>::try_parse_from(std::iter::once("setfacl").chain(args.iter().copied())).map(|p| p.a)
    }

    #[test]
    fn options_as_alluxio_takes_them() {
        let a = parse(&["-m", "user:bob:rwx,group:ops:r-x", "/d"]).unwrap();
        assert_eq!(a.action(), (AclAction::Modify, vec!["user:bob:rwx".to_owned(), "group:ops:r-x".to_owned()]));
        let a = parse(&["-d", "-m", "user:bob:rwx", "/d"]).unwrap();
        assert_eq!(a.action().1, ["default:user:bob:rwx"]);
        let a = parse(&["-R", "--set", "user::rw-,group::r--,other::---", "/d"]).unwrap();
        assert!(a.recursive && a.action().0 == AclAction::Replace);
        assert_eq!(parse(&["-b", "/d"]).unwrap().action().0, AclAction::RemoveAll);
        assert_eq!(parse(&["-k", "/d"]).unwrap().action().0, AclAction::RemoveDefault);
        assert_eq!(parse(&["-x", "user:bob", "/d"]).unwrap().action(), (AclAction::Remove, vec!["user:bob".into()]));
        assert!(parse(&["/d"]).is_err(), "an action is required");
        assert!(parse(&["-b", "-k", "/d"]).is_err(), "one action at a time");
    }
}
