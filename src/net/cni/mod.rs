//! A CNI caller, as libcni (containerd, CRI-O, podman) is one: minipod's own code runs
//! the standard plugins (`bridge`, `host-local`, `portmap`, ...) with the CNI protocol
//! (spec 1.0.0), the one sanctioned place where minipod runs another program to do
//! kernel work, because it is the interface the whole ecosystem shares.
//!
//! - `conflist`: a network configuration list (`*.conflist`), read from a directory;
//! - `plugin`: one plugin run (its environment, the config on stdin, a timeout,
//!   bounded output, the CNI error JSON);
//! - `list`: ADD / CHECK / DEL over a list (prevResult chained, DEL in reverse);
//! - `cache`: the ADD result kept on disk for DEL (libcni's
//!   `/var/lib/cni/results`);
//! - `result`: what a plugin returns (interfaces, IPs, routes, DNS).

pub mod cache;
pub mod conflist;
pub mod list;
pub mod plugin;
pub mod result;

pub use conflist::ConfList;
pub use list::{Invocation, PortMapping};
