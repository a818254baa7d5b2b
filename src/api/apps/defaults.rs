//! The values the API server fills into a controller object (pkg/apis/apps/v1/
//! defaults.go), and the Pod defaults into its template.

use super::{template, AppsObject};
use k8s_openapi::api::apps::v1::{
    DaemonSetUpdateStrategy, DeploymentStrategy, RollingUpdateDaemonSet, RollingUpdateDeployment,
};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

pub fn apply_defaults(object: &mut AppsObject) {
    object
        .metadata_mut()
        .namespace
        .get_or_insert_with(|| "default".to_string());
    match object {
        AppsObject::Deployment(d) => {
            d.status = None;
            if let Some(spec) = d.spec.as_mut() {
                spec.replicas.get_or_insert(1);
                let strategy = spec
                    .strategy
                    .get_or_insert_with(DeploymentStrategy::default);
                let kind = strategy
                    .type_
                    .get_or_insert_with(|| "RollingUpdate".to_string());
                if kind == "RollingUpdate" {
                    let update = strategy
                        .rolling_update
                        .get_or_insert_with(RollingUpdateDeployment::default);
                    update
                        .max_surge
                        .get_or_insert_with(|| IntOrString::String("25%".into()));
                    update
                        .max_unavailable
                        .get_or_insert_with(|| IntOrString::String("25%".into()));
                }
                spec.revision_history_limit.get_or_insert(10);
                spec.progress_deadline_seconds.get_or_insert(600);
                template::apply_defaults(&mut spec.template);
            }
        }
        AppsObject::ReplicaSet(r) => {
            r.status = None;
            if let Some(spec) = r.spec.as_mut() {
                spec.replicas.get_or_insert(1);
                if let Some(t) = spec.template.as_mut() {
                    template::apply_defaults(t);
                }
            }
        }
        AppsObject::DaemonSet(d) => {
            d.status = None;
            if let Some(spec) = d.spec.as_mut() {
                let strategy = spec
                    .update_strategy
                    .get_or_insert_with(DaemonSetUpdateStrategy::default);
                let kind = strategy
                    .type_
                    .get_or_insert_with(|| "RollingUpdate".to_string());
                if kind == "RollingUpdate" {
                    let update = strategy
                        .rolling_update
                        .get_or_insert_with(RollingUpdateDaemonSet::default);
                    update.max_unavailable.get_or_insert(IntOrString::Int(1));
                    update.max_surge.get_or_insert(IntOrString::Int(0));
                }
                spec.revision_history_limit.get_or_insert(10);
                template::apply_defaults(&mut spec.template);
            }
        }
    }
}
