//! What the API server and the kubelet both read, as both link k8s.io/apimachinery
//! (and k8s.io/api) in Kubernetes: resource quantities (`10Mi`, `500m`) and a pod's
//! containers grouped by the field they sit under. Below `api` and `pod`, so that the
//! supervisor's program (`minipod-shim`) links these without the API server's
//! decoding, defaults and validation.

pub mod container_groups;
pub mod quantity;
