//! The infra process dies, as tables: which pods get a new sandbox, what runs again
//! in it, and in which order.

use super::actions::{Action, Event, KillReason};
use super::pod_state::{Life, Stage};
use super::policy::PodPolicy;
use super::test_pods::*;
use crate::pod::events::EventType;
use crate::pod::status::Phase;
use std::time::Instant;

/// Start everything the policy asks for until it asks for nothing more.
fn run_all(p: &mut PodPolicy, first: Vec<Action>, now: Instant) {
    let mut actions = first;
    while !actions.is_empty() {
        run_starts(p, actions, now);
        actions = p.advance(now);
    }
}

fn kills(actions: &[Action]) -> Vec<usize> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Kill {
                i,
                why: KillReason::SandboxGone,
            } => Some(*i),
            _ => None,
        })
        .collect()
}

fn recreates(actions: &[Action]) -> bool {
    actions.contains(&Action::RecreateSandbox)
}

#[test]
fn which_pods_get_a_new_sandbox() {
    #[rustfmt::skip]
    let table: [(Option<&str>, Option<i32>, bool, Phase); 5] = [
        // restartPolicy, app "a" exited before with this code (None: still running),
        // a new sandbox?, the pod's phase right after the death
        (None,              None,    true,  Phase::Running),
        (Some("Always"),    Some(0), true,  Phase::Running),
        (Some("OnFailure"), None,    true,  Phase::Running),
        // a succeeded: b (running) still has to run, in a new sandbox.
        (Some("OnFailure"), Some(0), true,  Phase::Running),
        (Some("Never"),     None,    false, Phase::Failed),
    ];
    for (restart, a_exit, new_sandbox, phase) in table {
        let t0 = Instant::now();
        let mut p = policy(&spec(vec![], vec![app("a"), app("b")], restart), t0);
        let first = p.begin();
        run_all(&mut p, first, t0);
        if let Some(code) = a_exit {
            p.handle(Event::Exited { i: 0, code }, t0);
            p.advance(t0);
        }
        let died = p.handle(Event::InfraDied { pid: 42 }, t0);
        p.refresh_phase();
        let case = format!("{restart:?}, a exited {a_exit:?}");
        assert_eq!(p.phase, phase, "{case}");
        let running: Vec<usize> = (0..2).filter(|&i| p.containers[i].is_running()).collect();
        assert_eq!(
            kills(&died),
            running,
            "{case}: every running container killed"
        );
        for i in running {
            p.handle(Event::Exited { i, code: 137 }, t0);
        }
        let next = p.advance(t0);
        assert_eq!(recreates(&next), new_sandbox, "{case}");
        if new_sandbox {
            assert_eq!(
                reasons(&died),
                [(EventType::Normal, "SandboxChanged")],
                "{case}"
            );
            let again = p.handle(Event::SandboxRecreated, t0);
            let expected: Vec<usize> = match (restart, a_exit) {
                (Some("OnFailure"), Some(0)) => vec![1],
                _ => vec![0, 1],
            };
            assert_eq!(starts(&again), expected, "{case}: what runs again");
            assert!(
                again
                    .iter()
                    .all(|a| matches!(a, Action::Start { restart: true, .. })),
                "{case}: each start counts as a restart"
            );
        } else {
            assert_eq!(p.reason, "SandboxDied", "{case}");
            assert_eq!(p.stage, Stage::Done, "{case}");
        }
    }
}

#[test]
fn no_new_sandbox_until_every_container_is_gone() {
    let t0 = Instant::now();
    let mut p = policy(&spec(vec![sidecar("s")], vec![app("a")], None), t0);
    let first = p.begin();
    run_all(&mut p, first, t0);
    let died = p.handle(Event::InfraDied { pid: 42 }, t0);
    assert_eq!(kills(&died), [0, 1]);
    p.handle(Event::Exited { i: 1, code: 137 }, t0);
    assert!(!recreates(&p.advance(t0)), "the sidecar still runs");
    assert_eq!(p.phase, Phase::Running, "the pod keeps its phase meanwhile");
    p.handle(Event::Exited { i: 0, code: 137 }, t0);
    // Killed with their sandbox: no restart of their own while it is gone (the first
    // restart, in the new sandbox, is at once).
    assert_eq!(p.containers[0].life, Life::Exited);
    assert_eq!(starts(&p.tick(t0 + secs(60))), [] as [usize; 0]);
    assert_eq!(p.advance(t0), [Action::RecreateSandbox]);
    assert_eq!(p.advance(t0), [], "asked once");
    // The sidecar first, then the app once the sidecar runs.
    let again = p.handle(Event::SandboxRecreated, t0);
    assert_eq!(starts(&again), [0]);
    let rest = run_starts(&mut p, again, t0);
    assert!(rest.is_empty());
    assert_eq!(starts(&p.advance(t0)), [1]);
}

#[test]
fn init_containers_run_again_in_the_new_sandbox() {
    let t0 = Instant::now();
    let mut p = policy(&spec(vec![app("init")], vec![app("a")], None), t0);
    let first = p.begin();
    run_all(&mut p, first.clone(), t0);
    p.handle(Event::Exited { i: 0, code: 0 }, t0);
    let apps = p.advance(t0);
    run_all(&mut p, apps, t0);
    assert!(p.containers[1].is_running());
    assert_eq!(kills(&p.handle(Event::InfraDied { pid: 7 }, t0)), [1]);
    p.handle(Event::Exited { i: 1, code: 137 }, t0);
    assert_eq!(p.advance(t0), [Action::RecreateSandbox]);
    let again = p.handle(Event::SandboxRecreated, t0);
    assert_eq!(
        again,
        [Action::Start {
            i: 0,
            restart: true
        }]
    );
    run_starts(&mut p, again, t0);
    assert_eq!(p.stage, Stage::Init(0));
    p.refresh_phase();
    assert_eq!(p.phase, Phase::Pending, "initializing again");
    p.handle(Event::Exited { i: 0, code: 0 }, t0);
    assert_eq!(
        p.advance(t0),
        [Action::Start {
            i: 1,
            restart: true
        }]
    );
}

#[test]
fn a_pod_being_deleted_or_failing_to_get_a_sandbox_ends() {
    let t0 = Instant::now();
    // Deleted while its sandbox is re-created: no new sandbox.
    let mut p = policy(&spec(vec![], vec![app("a")], None), t0);
    let first = p.begin();
    run_all(&mut p, first, t0);
    p.handle(Event::InfraDied { pid: 7 }, t0);
    p.handle(Event::DeleteRequested { grace: GRACE }, t0);
    p.handle(Event::Exited { i: 0, code: 137 }, t0);
    assert!(!recreates(&p.advance(t0)));
    assert_eq!(p.stage, Stage::Done);

    // The infra dies while the pod stops: its containers are killed, nothing more.
    let mut p = policy(&spec(vec![], vec![app("a")], None), t0);
    let first = p.begin();
    run_all(&mut p, first, t0);
    p.handle(Event::DeleteRequested { grace: GRACE }, t0);
    let died = p.handle(Event::InfraDied { pid: 7 }, t0);
    assert_eq!(
        died,
        [Action::Kill {
            i: 0,
            why: KillReason::SandboxGone
        }]
    );

    // CNI ADD failed: the pod fails, nothing starts.
    let mut p = policy(&spec(vec![], vec![app("a")], None), t0);
    let first = p.begin();
    run_all(&mut p, first, t0);
    p.handle(Event::InfraDied { pid: 7 }, t0);
    p.handle(Event::Exited { i: 0, code: 137 }, t0);
    assert_eq!(p.advance(t0), [Action::RecreateSandbox]);
    let failed = p.handle(
        Event::SandboxFailed {
            message: "CNI ADD: no IP left".into(),
        },
        t0,
    );
    assert_eq!(starts(&failed), [] as [usize; 0]);
    assert_eq!(
        reasons(&failed),
        [(EventType::Warning, "FailedCreatePodSandBox")]
    );
    p.advance(t0);
    assert_eq!((p.phase, p.stage), (Phase::Failed, Stage::Done));
}

/// kubelet's `doBackOff` runs before every start, in a new sandbox too: the first
/// restart is at once; a container whose sandbox dies again soon waits 10 s, then
/// 20 s; a crash back-off pending when the sandbox died is kept.
#[test]
fn restarts_in_a_new_sandbox_follow_each_containers_back_off() {
    let t0 = Instant::now();
    let mut p = policy(&spec(vec![], vec![app("a"), app("b")], None), t0);
    let first = p.begin();
    run_all(&mut p, first, t0);
    // b crashes once (its first restart is at once) and again (10 s back-off).
    for code in [1, 1] {
        p.handle(Event::Exited { i: 1, code }, t0);
        let due = p.tick(t0);
        run_all(&mut p, due, t0);
    }
    assert_eq!(
        p.containers[1].life,
        Life::BackOff {
            until: t0 + secs(10)
        }
    );

    // The sandbox dies at t0: a is killed; b's back-off goes on in the new sandbox.
    let mut now = t0;
    let mut delays_a = Vec::new();
    for _ in 0..3 {
        let died = p.handle(Event::InfraDied { pid: 9 }, now);
        for i in kills(&died) {
            p.handle(Event::Exited { i, code: 137 }, now);
        }
        assert_eq!(p.advance(now), [Action::RecreateSandbox]);
        let again = p.handle(Event::SandboxRecreated, now);
        let delay_of = |i: usize| {
            again.iter().find_map(|a| match a {
                Action::BackOff { i: j, delay } if *j == i => Some(delay.as_secs()),
                Action::Start { i: j, .. } if *j == i => Some(0),
                _ => None,
            })
        };
        delays_a.push(delay_of(0).expect("a starts or backs off"));
        if now == t0 {
            assert_eq!(delay_of(1), Some(10), "b's pending back-off is kept");
        }
        // Whatever backs off starts when the clock says so, and not before.
        let delays: Vec<std::time::Duration> = again
            .iter()
            .filter_map(|a| match a {
                Action::BackOff { delay, .. } => Some(*delay),
                _ => None,
            })
            .collect();
        let wait = delays.iter().max().copied().unwrap_or_default();
        run_starts(&mut p, again, now);
        if let Some(first) = delays.iter().min() {
            assert_eq!(p.next_timer(), Some(now + *first));
        }
        now += wait;
        let due = p.tick(now);
        run_starts(&mut p, due, now);
        assert!(
            p.containers.iter().all(|c| c.is_running()),
            "{:?}",
            p.containers
        );
        now += secs(1);
    }
    assert_eq!(delays_a, [0, 10, 20], "a: at once, then 10 s, then 20 s");
}
