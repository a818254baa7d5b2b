//! Networking of a pod: port forwarding into its network namespace (`port-forward`,
//! hostPort). Its loopback is brought up by the runtime, which creates the namespace.

pub mod cni;
pub mod links;
pub mod netns_pin;
pub mod pod_network;
pub mod port_forward;
