//! The executor: carries out what the policy decided (kubelet's `SyncPod`) and
//! reports back what happened, which may call for more actions, carried out at once.

use super::super::Supervisor;
use super::{Action, Event, KillReason};
use crate::narration::{self, step};
use crate::pod::events;
use crate::pod::start_failure::StartFailure;
use crate::pod::status::ContainerState;
use crate::pod::{hooks, probe_actions};
use crate::state::time;
use k8s_openapi::api::core::v1::LifecycleHandler;
use nix::sys::signal::{kill, Signal};
use std::time::{Duration, Instant};

impl Supervisor {
    /// Tell the policy about `event` and carry out what it decides.
    pub(in crate::pod::supervisor) fn handle(&mut self, event: Event) {
        let actions = self.policy.handle(event, Instant::now());
        self.apply(actions);
    }

    /// Carry the actions out in order. An action's consequences (a failed start, a
    /// probe's verdict) are reported through `handle`, so they are decided and carried
    /// out before the next action.
    pub(in crate::pod::supervisor) fn apply(&mut self, actions: Vec<Action>) {
        for action in actions {
            match action {
                Action::Start { i, restart } => self.start_or_record_failure(i, restart),
                Action::Stop { i, grace } => self.stop_container(i, grace),
                Action::Kill { i, why } => self.kill_container(i, why),
                Action::RunProbe { i, probe } => self.run_probe(i, probe),
                Action::PublishReady { i } => {
                    let ready = self.policy.container_ready(i);
                    self.status_mut(i).ready = ready;
                }
                Action::BackOff { i, delay } => self.back_off(i, delay),
                Action::Record {
                    kind,
                    reason,
                    message,
                } => events::record(&self.paths, kind, reason, message),
                Action::MarkDeletion => self.status.deletion_timestamp = Some(time::now()),
                Action::RecreateSandbox => self.recreate_sandbox(),
            }
        }
    }

    /// Ask one container to stop: preStop hook, its stop signal, SIGKILL after `grace`
    /// (scheduled by the policy once it hears the signal went out).
    fn stop_container(&mut self, i: usize, grace: i64) {
        let Some(pid) = self.slots[i].pid else { return };
        let name = self.slots[i].container.name.clone();
        if grace > 0 {
            let pre_stop = self.slots[i]
                .container
                .lifecycle
                .as_ref()
                .and_then(|l| l.pre_stop.clone());
            if let Some(handler) = pre_stop {
                narration::set_actor(&name);
                step(
                    "preStop hook",
                    "the container's last words before its stop signal",
                );
                narration::set_actor("pod");
                let limit = crate::state::deadline::seconds(grace);
                if let Some(Err(message)) = self.run_hook(i, &handler, limit) {
                    events::record(
                        &self.paths,
                        events::EventType::Warning,
                        "FailedPreStopHook",
                        format!("PreStopHook failed: {message}"),
                    );
                }
            }
        }
        let signal = if grace <= 0 {
            Signal::SIGKILL
        } else {
            self.stop_signal(&name)
        };
        let _ = crate::runtime::process::signal(
            &name,
            pid,
            signal,
            "the container's PID 1 is asked to stop",
        );
        self.handle(Event::StopSent { i, grace });
    }

    fn kill_container(&mut self, i: usize, why: KillReason) {
        let Some(pid) = self.slots[i].pid else { return };
        let why = match why {
            KillReason::PostStartFailed => "its postStart hook failed",
            KillReason::GracePeriodOver => "the grace period is over",
            // As before: these SIGKILLs are not narrated.
            KillReason::StopTimedOut | KillReason::SandboxGone => {
                let _ = kill(pid, Signal::SIGKILL);
                return;
            }
        };
        let name = &self.slots[i].container.name;
        let _ = crate::runtime::process::signal(name, pid, Signal::SIGKILL, why);
    }

    /// The image's stop signal, SIGTERM when it names none.
    fn stop_signal(&self, name: &str) -> Signal {
        self.record
            .images
            .get(name)
            .and_then(|i| i.stop_signal.as_deref())
            .and_then(super::super::parse_signal)
            .unwrap_or(Signal::SIGTERM)
    }

    /// One probe attempt; its verdict is the policy's to judge.
    fn run_probe(&mut self, i: usize, probe: usize) {
        if !self.policy.may_probe(i, probe) {
            return;
        }
        let began = Instant::now();
        let prober = &self.policy.containers[i].probers[probe];
        // A probe runs every few seconds for the pod's whole life: its first run is
        // narrated (how a probe gets in), the others would only grow steps.jsonl.
        let first = !prober.narrated;
        let Some(result) = self.with_target(i, |target| {
            if first {
                prober.attempt(target)
            } else {
                crate::narration::quietly(|| prober.attempt(target))
            }
        }) else {
            return;
        };
        self.policy.containers[i].probers[probe].narrated = true;
        // A delete cut the attempt short: it says nothing about the container.
        if crate::pod::probe_deadline::delete_pending() {
            return;
        }
        let actions = self
            .policy
            .handle(Event::ProbeResult { i, probe, result }, began);
        self.apply(actions);
    }

    /// CrashLoopBackOff: the container waits `delay` before its restart.
    fn back_off(&mut self, i: usize, delay: Duration) {
        let name = self.slots[i].container.name.clone();
        let pod = format!(
            "{}_{}({})",
            self.record.name(),
            self.record.namespace(),
            self.record.uid()
        );
        if self.image_back_off(i) {
            return;
        }
        let st = self.status_mut(i);
        if let ContainerState::Waiting { reason, .. } = &st.state {
            // A container that could not even be created keeps saying why (kubelet
            // shows CreateContainerConfigError, not CrashLoopBackOff, for it).
            let never_created = [StartFailure::Config, StartFailure::Create]
                .iter()
                .any(|k| k.reason() == reason);
            if never_created {
                return;
            }
        }
        let last = std::mem::replace(
            &mut st.state,
            ContainerState::Waiting {
                reason: "CrashLoopBackOff".into(),
                message: format!(
                    "back-off {}s restarting failed container={name} pod={pod}",
                    delay.as_secs()
                ),
            },
        );
        // A start that failed before its process existed leaves no terminated state.
        if let ContainerState::Terminated { .. } = last {
            st.last_state = Some(last);
        }
        events::record(
            &self.paths,
            events::EventType::Warning,
            "BackOff",
            format!("Back-off restarting failed container {name} in pod {pod}"),
        );
    }

    /// ImagePullBackOff: container i's image could not be had; it waits for the next
    /// try. False when the container is not waiting for its image.
    fn image_back_off(&mut self, i: usize) -> bool {
        let image = self.slots[i].container.image.clone().unwrap_or_default();
        let st = self.status_mut(i);
        let ContainerState::Waiting { reason, message } = &st.state else {
            return false;
        };
        match reason.as_str() {
            // Kubelet keeps saying the name is wrong; nothing to pull.
            "InvalidImageName" => true,
            "ErrImagePull" | "ImagePullBackOff" => {
                let cause = message
                    .split_once(": ErrImagePull: ")
                    .map_or(message.as_str(), |(_, cause)| cause)
                    .to_string();
                st.state = ContainerState::Waiting {
                    reason: "ImagePullBackOff".into(),
                    message: format!("Back-off pulling image \"{image}\": ErrImagePull: {cause}"),
                };
                events::record(
                    &self.paths,
                    events::EventType::Normal,
                    "BackOff",
                    format!("Back-off pulling image \"{image}\""),
                );
                events::record(
                    &self.paths,
                    events::EventType::Warning,
                    "Failed",
                    "Error: ImagePullBackOff".to_string(),
                );
                true
            }
            _ => false,
        }
    }

    /// Run a lifecycle hook (postStart, preStop) against container i, within `limit`;
    /// `None` when it is not running.
    pub(in crate::pod::supervisor) fn run_hook(
        &self,
        i: usize,
        handler: &LifecycleHandler,
        limit: Duration,
    ) -> Option<Result<(), String>> {
        self.with_target(i, |target| hooks::run(handler, target, limit))
    }

    /// Run `f` against the running container of slot i (its PID, process settings, the
    /// pod's network namespace); `None` when it is not running.
    fn with_target<T>(&self, i: usize, f: impl FnOnce(&probe_actions::Target) -> T) -> Option<T> {
        let slot = &self.slots[i];
        let (pid, entry, infra) = (slot.pid?, slot.process_spec.as_ref()?, self.infra?);
        let ports = slot.container.ports.clone().unwrap_or_default();
        Some(f(&probe_actions::Target {
            pid,
            entry,
            infra,
            ports: &ports,
        }))
    }
}
