//! The local image store: load OCI image layouts and `docker save` archives, import a
//! root file system, and give the pod layer unpacked layers ready for overlayfs.
//!
//! - `store`: the on-disk layout, tags, resolve/list/inspect/tag/rm;
//! - `load`, `oci_layout`, `docker_archive`, `archive_file`: reading archives;
//! - `import`: a root file system as a one-layer image;
//! - `layer_extract`: the safe unpacking of one layer (whiteouts, no escapes);
//! - `reference`, `digest`, `manifest`, `image_config`: the formats' small pieces.

mod archive_file;
mod compression;
mod digest;
mod docker_archive;
pub mod human;
mod image_config;
mod image_source;
mod import;
mod layer_extract;
#[cfg(test)]
mod layer_extract_fuzz;
mod load;
mod manifest;
mod oci_layout;
mod progress;
mod reference;
pub mod reference_syntax;
mod staging;
mod store;

#[allow(unused_imports)] // the pod layer's API
pub use image_config::ImageRuntimeConfig;
pub use import::import_rootfs;
pub use load::load_archive;
#[allow(unused_imports)] // the pod layer's API
pub use reference::normalize_reference;
#[allow(unused_imports)] // `ResolvedImage`: the pod layer's API
pub use store::{ImageStore, ResolvedImage};
