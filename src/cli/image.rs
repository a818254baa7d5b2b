//! `minipod image ...`: the local image store's verbs, shaped like `docker image ...`.

use super::Context;
use super::{errln, outln};
use crate::image::human::{human_age, human_size, now_unix};
use crate::image::{import_rootfs, load_archive, ImageStore};
use anyhow::Result;
use clap::Subcommand;
use serde_json::json;
use std::path::PathBuf;

#[derive(Subcommand, Debug)]
pub enum ImageCommand {
    /// Load an OCI image layout tarball or a docker-archive (`docker save`) tarball.
    #[command(after_help = "Example:\n  minipod image load -i nginx.oci.tar")]
    Load {
        /// The tarball to load (plain or gzip-compressed).
        #[arg(short = 'i', long = "input", value_name = "FILE")]
        input: PathBuf,
    },
    /// Make a one-layer image from a root file system (a directory or a tarball).
    #[command(after_help = "Example:\n  minipod image import ./rootfs myrootfs:1.0")]
    Import {
        /// The root file system: a directory, or a tar (plain or gzip).
        source: PathBuf,
        /// The image's name, e.g. `myrootfs:1.0`.
        #[arg(value_name = "NAME[:TAG]")]
        name: String,
    },
    /// List the images in the local store.
    #[command(after_help = "Example:\n  minipod image ls")]
    #[command(visible_alias = "list")]
    Ls,
    /// Show images' details as a JSON array, like `docker image inspect`.
    #[command(after_help = "Example:\n  minipod image inspect busybox:1.36")]
    Inspect {
        #[arg(required = true, value_name = "IMAGE")]
        images: Vec<String>,
    },
    /// Give an image another name.
    #[command(after_help = "Example:\n  minipod image tag busybox:1.36 mybox:dev")]
    Tag {
        #[arg(value_name = "SOURCE")]
        source: String,
        #[arg(value_name = "TARGET[:TAG]")]
        target: String,
    },
    /// Remove image tags; an image left without tags is deleted with its unused layers.
    #[command(after_help = "Example:\n  minipod image rm mybox:dev")]
    #[command(visible_alias = "remove")]
    Rm {
        #[arg(required = true, value_name = "IMAGE")]
        images: Vec<String>,
    },
}

impl ImageCommand {
    /// `ls` and `inspect` change nothing.
    pub fn only_reads(&self) -> bool {
        matches!(self, ImageCommand::Ls | ImageCommand::Inspect { .. })
    }
}

pub fn run(ctx: &Context, cmd: ImageCommand) -> Result<i32> {
    let store = ImageStore::open(&ctx.state)?;
    match cmd {
        ImageCommand::Load { input } => {
            for name in load_archive(&store, &input)? {
                outln!("Loaded image: {name}");
            }
            Ok(0)
        }
        ImageCommand::Import { source, name } => {
            let name = import_rootfs(&store, &source, &name)?;
            let id = store.resolve(&name)?.id;
            outln!("Imported image: {name} ({id})");
            Ok(0)
        }
        ImageCommand::Ls => list(&store),
        ImageCommand::Inspect { images } => inspect(&store, &images),
        ImageCommand::Tag { source, target } => {
            store.tag(&source, &target)?;
            Ok(0)
        }
        ImageCommand::Rm { images } => {
            let mut code = 0;
            for image in &images {
                match store.remove(image) {
                    Ok(removal) => {
                        for tag in removal.untagged {
                            outln!("Untagged: {tag}");
                        }
                        for id in removal.deleted {
                            outln!("Deleted: {id}");
                        }
                    }
                    Err(err) => {
                        errln!("error: {err:#}");
                        code = 1;
                    }
                }
            }
            Ok(code)
        }
    }
}

fn list(store: &ImageStore) -> Result<i32> {
    let now = now_unix();
    let mut rows = vec![[
        "REPOSITORY".to_string(),
        "TAG".to_string(),
        "IMAGE ID".to_string(),
        "CREATED".to_string(),
        "SIZE".to_string(),
    ]];
    for image in store.list()? {
        rows.push([
            image.repository,
            image.tag,
            image.id.short().to_string(),
            image
                .created
                .map_or_else(|| "N/A".to_string(), |t| human_age(t, now)),
            human_size(image.size),
        ]);
    }
    let mut widths = [0; 5];
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.len());
        }
    }
    for row in &rows {
        let line: Vec<String> = row
            .iter()
            .zip(widths)
            .map(|(cell, width)| format!("{cell:<width$}"))
            .collect();
        println!("{}", line.join("   ").trim_end());
    }
    Ok(0)
}

fn inspect(store: &ImageStore, images: &[String]) -> Result<i32> {
    let mut out = Vec::new();
    for image in images {
        let d = store.inspect(image)?;
        let resolved = store.resolve(image)?;
        let lower_dirs: Vec<String> = resolved
            .layers
            .iter()
            .rev()
            .map(|dir| dir.display().to_string())
            .collect();
        let c = &d.config;
        out.push(json!({
            "Id": d.id.to_string(),
            "Digest": d.manifest.to_string(),
            "RepoTags": d.repo_tags,
            "Created": d.created,
            "Architecture": d.architecture,
            "Os": d.os,
            "Config": {
                "Entrypoint": c.entrypoint,
                "Cmd": c.cmd,
                "Env": c.env,
                "WorkingDir": c.working_dir.clone().unwrap_or_default(),
                "User": c.user.clone().unwrap_or_default(),
                "ExposedPorts": c.exposed_ports,
                "StopSignal": c.stop_signal,
                "Labels": c.labels,
            },
            "RootFS": {
                "Type": "layers",
                "Layers": d.diff_ids.iter().map(|l| l.to_string()).collect::<Vec<_>>(),
            },
            "Size": d.size,
            "GraphDriver": {
                "Name": "overlay",
                "Data": { "LowerDir": lower_dirs.join(":") },
            },
        }));
    }
    println!("{}", serde_json::to_string_pretty(&out)?);
    Ok(0)
}
