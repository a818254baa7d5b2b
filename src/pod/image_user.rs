//! Resolve the image's `User` (`""`, `1000`, `1000:1000`, `nginx`, `nginx:www`) to
//! numeric ids, reading the image's own `/etc/passwd` and `/etc/group` from inside the
//! container's rootfs (never through a symlink that leads out of it, never a FIFO or
//! a device, never more than a megabyte: see `image_file`).

use super::container_spec::ResolvedUser;
use super::image_file::{self, MAX_ACCOUNT_FILE};
use anyhow::{bail, Context, Result};
use std::path::Path;

/// `image` names the image in errors about its files.
pub fn resolve(user: &str, rootfs: &Path, image: &str) -> Result<ResolvedUser> {
    let (name, group) = match user.split_once(':') {
        Some((u, g)) => (u, Some(g)),
        None => (user, None),
    };
    let passwd =
        image_file::read(rootfs, "/etc/passwd", image, MAX_ACCOUNT_FILE)?.unwrap_or_default();
    let groups =
        image_file::read(rootfs, "/etc/group", image, MAX_ACCOUNT_FILE)?.unwrap_or_default();
    let (uid, primary_gid, user_name) = if name.is_empty() {
        (0, 0, "root".to_string())
    } else if let Ok(uid) = name.parse::<u32>() {
        let entry = passwd_entries(&passwd).find(|e| e.1 == uid);
        (
            uid,
            entry.as_ref().map(|e| e.2).unwrap_or(0),
            entry.map(|e| e.0).unwrap_or_default(),
        )
    } else {
        match passwd_entries(&passwd).find(|e| e.0 == name) {
            Some((n, uid, gid)) => (uid, gid, n),
            None => bail!("unable to find user {name}: no matching entries in passwd file"),
        }
    };
    let gid = match group {
        None => primary_gid,
        Some(g) => match g.parse::<u32>() {
            Ok(gid) => gid,
            Err(_) => group_entries(&groups)
                .find(|e| e.0 == g)
                .map(|e| e.1)
                .with_context(|| {
                    format!("unable to find group {g}: no matching entries in group file")
                })?,
        },
    };
    let additional_gids = group_entries(&groups)
        .filter(|(_, gid, members)| *gid != primary_gid && members.contains(&user_name))
        .map(|(_, gid, _)| gid)
        .collect();
    Ok(ResolvedUser {
        uid,
        gid,
        additional_gids,
    })
}

/// (name, uid, gid) of each passwd line.
fn passwd_entries(text: &str) -> impl Iterator<Item = (String, u32, u32)> + '_ {
    text.lines().filter_map(|line| {
        let f: Vec<&str> = line.split(':').collect();
        Some((
            f.first()?.to_string(),
            f.get(2)?.parse().ok()?,
            f.get(3)?.parse().ok()?,
        ))
    })
}

/// (name, gid, members) of each group line.
fn group_entries(text: &str) -> impl Iterator<Item = (String, u32, Vec<String>)> + '_ {
    text.lines().filter_map(|line| {
        let f: Vec<&str> = line.split(':').collect();
        let members = f
            .get(3)
            .map(|m| {
                m.split(',')
                    .filter(|s| !s.is_empty())
                    .map(String::from)
                    .collect()
            })
            .unwrap_or_default();
        Some((f.first()?.to_string(), f.get(2)?.parse().ok()?, members))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_numbers_resolve_from_the_image_files() {
        let dir = std::env::temp_dir().join(format!("minipod-user-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("etc")).unwrap();
        std::fs::write(
            dir.join("etc/passwd"),
            "root:x:0:0::/root:/bin/sh\nnginx:x:101:102::/:/bin/false\n",
        )
        .unwrap();
        std::fs::write(
            dir.join("etc/group"),
            "root:x:0:\nnginx:x:102:\nadm:x:4:nginx\n",
        )
        .unwrap();
        assert_eq!(
            resolve("", &dir, "test:1").unwrap(),
            ResolvedUser {
                uid: 0,
                gid: 0,
                additional_gids: vec![]
            }
        );
        assert_eq!(
            resolve("nginx", &dir, "test:1").unwrap(),
            ResolvedUser {
                uid: 101,
                gid: 102,
                additional_gids: vec![4]
            }
        );
        assert_eq!(
            resolve("1000:5", &dir, "test:1").unwrap(),
            ResolvedUser {
                uid: 1000,
                gid: 5,
                additional_gids: vec![]
            }
        );
        assert!(resolve("nobody-here", &dir, "test:1").is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
