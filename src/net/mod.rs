//! Networking of a pod: the loopback interface of its network namespace, and port
//! forwarding into it (`port-forward`, hostPort).

pub mod loopback;
pub mod port_forward;
