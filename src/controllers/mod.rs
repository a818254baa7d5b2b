//! The controller manager (kube-controller-manager's job): the Deployment,
//! ReplicaSet and DaemonSet controllers and the garbage collector, each a pure
//! decision over what is observed (`observed::World` → `actions::Action`s), like the
//! kubelet's policy in `pod::supervisor::policy`; `executor` carries the actions out
//! through the pod layer (the same create and delete `apply` uses) and the records in
//! `store`; `manager` is the one background process per state root that runs them.
//!
//! Arrows point down only: this layer uses `api` (the objects) and `pod` (the
//! kubelet's part), never `cli`.

pub mod actions;
pub mod daemonset;
pub mod deployment;
mod deployment_status;
pub mod executor;
pub mod garbage_collector;
pub mod generate_name;
pub mod manager;
pub mod observed;
pub mod pod_template_hash;
pub mod replicaset;
pub mod rolling_update;
pub mod store;

#[cfg(test)]
mod decide_tests;

use crate::api::apps::AppsObject;
use actions::Action;
use observed::World;

/// Every controller's decisions for this moment, in the order kube-controller-manager
/// would reach them: the collector, Deployments, ReplicaSets, DaemonSets.
pub fn decide_all(world: &World, node: &str) -> Vec<Action> {
    let mut actions = garbage_collector::decide(world);
    for object in &world.objects {
        let more = match object {
            AppsObject::Deployment(_) => deployment::decide(object, world),
            AppsObject::ReplicaSet(_) => replicaset::decide(object, world),
            AppsObject::DaemonSet(_) => daemonset::decide(object, world, node),
        };
        actions.extend(more);
    }
    actions
}
