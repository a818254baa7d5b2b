//! Networking of a pod: for now, the loopback interface of its network namespace.

pub mod loopback;
