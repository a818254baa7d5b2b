//! A container's image, as kubelet gets it before each start: the one resolved at
//! apply, or else looked up in the local store now (minipod's "pull": `minipod image
//! load` of a missing image lets a waiting pod start by itself). A reference that
//! cannot be parsed is `InvalidImageName`; an image not in the store is
//! `ErrImagePull`, then `ImagePullBackOff` while the image back-off runs (see the
//! executor's back_off) — with kubelet's events.

use super::Supervisor;
use crate::image::ImageStore;
use crate::pod::events::{self, EventType};
use crate::pod::record::{self, ImageUse, PodRecord};
use crate::pod::start_failure::{StartError, StartFailure};

impl Supervisor {
    /// Container i's image, and whether it was just found in the store (then kubelet
    /// says "Successfully pulled", not "already present").
    pub(super) fn image_of(&mut self, i: usize) -> Result<(ImageUse, bool), StartError> {
        let name = self.slots[i].container.name.clone();
        if let Some(image) = self.record.images.get(&name) {
            return Ok((image.clone(), false));
        }
        let reference = self.slots[i].container.image.clone().unwrap_or_default();
        if !crate::image::reference_syntax::is_valid_reference(&reference) {
            let message = format!(
                "Failed to apply default image tag \"{reference}\": couldn't parse image name \"{reference}\": {}",
                parse_failure(&reference)
            );
            events::record(
                &self.paths,
                EventType::Warning,
                "InspectFailed",
                message.clone(),
            );
            return Err(StartError::of_kind(
                StartFailure::InvalidImage,
                anyhow::anyhow!(message),
            ));
        }
        events::record(
            &self.paths,
            EventType::Normal,
            "Pulling",
            format!("Pulling image \"{reference}\""),
        );
        let found = ImageStore::open(&self.state).and_then(|store| store.resolve(&reference));
        match found {
            Ok(resolved) => {
                let image = crate::pod::create::image_use(resolved);
                self.record.images.insert(name.clone(), image.clone());
                self.save_image(&name, &image);
                events::record(
                    &self.paths,
                    EventType::Normal,
                    "Pulled",
                    format!("Successfully pulled image \"{reference}\""),
                );
                Ok((image, true))
            }
            Err(err) => {
                let message = format!("{err:#}");
                events::record(
                    &self.paths,
                    EventType::Warning,
                    "Failed",
                    format!("Failed to pull image \"{reference}\": {message}"),
                );
                Err(StartError::of_kind(
                    StartFailure::ImagePull,
                    anyhow::anyhow!(message),
                ))
            }
        }
    }

    /// Keep the image in the pod's record (read again: a `label` may have changed it),
    /// so `exec`, `describe` and a restarted supervisor see it.
    fn save_image(&self, name: &str, image: &ImageUse) {
        let current = std::fs::read(self.paths.record())
            .ok()
            .and_then(|bytes| serde_json::from_slice::<PodRecord>(&bytes).ok());
        let mut current = current.unwrap_or_else(|| self.record.clone());
        current.images.insert(name.to_string(), image.clone());
        if let Err(err) = record::save(&self.paths, &current) {
            events::record(
                &self.paths,
                EventType::Warning,
                "Failed",
                format!("save the image of container {name} in the pod record: {err:#}"),
            );
        }
    }
}

/// Why distribution/reference's ParseNormalizedNamed refuses `reference` (kubelet
/// quotes it): the repository name in capitals gets its own words.
fn parse_failure(reference: &str) -> String {
    // splitDockerDomain: a first part with `.` or `:`, or `localhost`, is a registry.
    let (domain, mut remainder) = match reference.split_once('/') {
        Some((first, rest))
            if first.contains(['.', ':'])
                || first == "localhost"
                || first.to_lowercase() != first =>
        {
            (first.to_string(), rest.to_string())
        }
        _ => ("docker.io".to_string(), reference.to_string()),
    };
    if (domain == "docker.io" || domain == "index.docker.io") && !remainder.contains('/') {
        remainder = format!("library/{remainder}");
    }
    let name = remainder.split(':').next().unwrap_or_default();
    if name.to_lowercase() != name {
        format!("invalid reference format: repository name ({name}) must be lowercase")
    } else {
        "invalid reference format".to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::parse_failure;

    /// What kubelet says for the seed's javaweb image and friends.
    #[test]
    fn kubelets_words_for_a_bad_reference() {
        assert_eq!(
            parse_failure("xxx/cpWar:v2"),
            "invalid reference format: repository name (xxx/cpWar) must be lowercase"
        );
        assert_eq!(
            parse_failure("cpWar"),
            "invalid reference format: repository name (library/cpWar) must be lowercase"
        );
        assert_eq!(
            parse_failure("<your-private-image>"),
            "invalid reference format"
        );
    }
}
