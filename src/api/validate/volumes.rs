//! `spec.volumes`: names, exactly one source each, and the emptyDir and hostPath
//! sources minipod implements.

use super::field_error::{duplicate, forbidden, invalid, required, unsupported, FieldError};
use super::names;
use crate::apimachinery::quantity::parse_quantity;
use k8s_openapi::api::core::v1::{EmptyDirVolumeSource, HostPathVolumeSource, Volume};
use std::collections::HashSet;

const HOST_PATH_TYPES: &[&str] = &[
    "",
    "BlockDevice",
    "CharDevice",
    "Directory",
    "DirectoryOrCreate",
    "File",
    "FileOrCreate",
    "Socket",
];

/// Checks every volume; returns the volume names, for the volume mounts to refer to.
pub fn validate_volumes(volumes: &[Volume], errors: &mut Vec<FieldError>) -> HashSet<String> {
    let mut names_seen = HashSet::new();
    for (index, volume) in volumes.iter().enumerate() {
        let path = format!("spec.volumes[{index}]");
        let name_path = format!("{path}.name");
        if volume.name.is_empty() {
            errors.push(required(&name_path, ""));
        } else {
            for reason in names::dns1123_label(&volume.name) {
                errors.push(invalid(&name_path, &volume.name, &reason));
            }
            if !names_seen.insert(volume.name.clone()) {
                errors.push(duplicate(&name_path, &volume.name));
            }
        }
        validate_one_source(volume, &path, errors);
        if let Some(empty_dir) = &volume.empty_dir {
            validate_empty_dir(empty_dir, &format!("{path}.emptyDir"), errors);
        }
        if let Some(host_path) = &volume.host_path {
            validate_host_path(host_path, &format!("{path}.hostPath"), errors);
        }
    }
    names_seen
}

/// A volume has exactly one source (`emptyDir`, `hostPath`, `configMap`, ...).
fn validate_one_source(volume: &Volume, path: &str, errors: &mut Vec<FieldError>) {
    let sources = set_sources(volume);
    match sources.as_slice() {
        [] => errors.push(required(path, "must specify a volume type")),
        [_] => {}
        [_, extra, ..] => errors.push(forbidden(
            &format!("{path}.{extra}"),
            "may not specify more than 1 volume type",
        )),
    }
}

/// The JSON names of the sources set in `volume`, in the API's field order.
fn set_sources(volume: &Volume) -> Vec<&'static str> {
    let sources = [
        (
            "awsElasticBlockStore",
            volume.aws_elastic_block_store.is_some(),
        ),
        ("azureDisk", volume.azure_disk.is_some()),
        ("azureFile", volume.azure_file.is_some()),
        ("cephfs", volume.cephfs.is_some()),
        ("cinder", volume.cinder.is_some()),
        ("configMap", volume.config_map.is_some()),
        ("csi", volume.csi.is_some()),
        ("downwardAPI", volume.downward_api.is_some()),
        ("emptyDir", volume.empty_dir.is_some()),
        ("ephemeral", volume.ephemeral.is_some()),
        ("fc", volume.fc.is_some()),
        ("flexVolume", volume.flex_volume.is_some()),
        ("flocker", volume.flocker.is_some()),
        ("gcePersistentDisk", volume.gce_persistent_disk.is_some()),
        ("gitRepo", volume.git_repo.is_some()),
        ("glusterfs", volume.glusterfs.is_some()),
        ("hostPath", volume.host_path.is_some()),
        ("image", volume.image.is_some()),
        ("iscsi", volume.iscsi.is_some()),
        ("nfs", volume.nfs.is_some()),
        (
            "persistentVolumeClaim",
            volume.persistent_volume_claim.is_some(),
        ),
        (
            "photonPersistentDisk",
            volume.photon_persistent_disk.is_some(),
        ),
        ("portworxVolume", volume.portworx_volume.is_some()),
        ("projected", volume.projected.is_some()),
        ("quobyte", volume.quobyte.is_some()),
        ("rbd", volume.rbd.is_some()),
        ("scaleIO", volume.scale_io.is_some()),
        ("secret", volume.secret.is_some()),
        ("storageos", volume.storageos.is_some()),
        ("vsphereVolume", volume.vsphere_volume.is_some()),
    ];
    sources
        .into_iter()
        .filter_map(|(name, is_set)| is_set.then_some(name))
        .collect()
}

fn validate_empty_dir(empty_dir: &EmptyDirVolumeSource, path: &str, errors: &mut Vec<FieldError>) {
    if let Some(medium) = empty_dir.medium.as_deref() {
        let supported = ["", "Memory"];
        if !supported.contains(&medium) {
            errors.push(unsupported(&format!("{path}.medium"), medium, &supported));
        }
    }
    if let Some(size_limit) = &empty_dir.size_limit {
        let limit_path = format!("{path}.sizeLimit");
        match parse_quantity(&size_limit.0) {
            Err(error) => errors.push(invalid(&limit_path, &size_limit.0, &error.to_string())),
            Ok(quantity) if quantity.value < 0.0 => errors.push(forbidden(
                &limit_path,
                "SizeLimit field must be a valid resource quantity",
            )),
            Ok(_) => {}
        }
    }
}

fn validate_host_path(host_path: &HostPathVolumeSource, path: &str, errors: &mut Vec<FieldError>) {
    let path_path = format!("{path}.path");
    if host_path.path.is_empty() {
        errors.push(required(&path_path, ""));
    } else if !host_path.path.starts_with('/') {
        errors.push(invalid(
            &path_path,
            &host_path.path,
            "must be an absolute path",
        ));
    } else if host_path.path.split('/').any(|part| part == "..") {
        errors.push(invalid(
            &path_path,
            &host_path.path,
            "must not contain '..'",
        ));
    }
    if let Some(type_) = host_path.type_.as_deref() {
        if !HOST_PATH_TYPES.contains(&type_) {
            errors.push(unsupported(&format!("{path}.type"), type_, HOST_PATH_TYPES));
        }
    }
}
