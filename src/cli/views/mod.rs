//! Views of a running pod for a student: which namespaces each process is in, the
//! process tree, the volumes, a picture. Each is read from the kernel (`/proc`) and
//! from the OCI specs the pod was built from, never from a description of the pod.
//!
//! - `procfs`: the runtime's `/proc/PID/*` readers, which the views use.
//! - `members`: the pod's processes: infra, each container's PID 1, running `exec`s.
//! - `interface_table`: the pod's interfaces and addresses, from its own namespace.
//! - `namespace_table`, `volume_table`, `security_table`, `process_tree`: what `explain`
//!   and `top` print.
//! - `picture`, `picture_svg`, `picture_text`: the pod drawn, as SVG or box-drawing text.

pub mod container_user;
pub mod interface_table;
pub mod members;
pub mod namespace_table;
pub mod picture;
pub mod picture_svg;
pub mod picture_text;
pub mod process_tree;
pub use crate::runtime::procfs;
pub mod security_table;
pub mod volume_table;
