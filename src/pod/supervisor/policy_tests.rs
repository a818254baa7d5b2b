//! The pod policy as tables: events and clock ticks in, actions and states out. No
//! process, mount or root needed: the clock is a value.

use super::actions::{Action, Event, KillReason};
use super::pod_state::{ContainerKind, RestartPolicy, Stage};
use super::test_pods::*;
use crate::pod::events::EventType;
use crate::pod::status::Phase;
use std::time::{Duration, Instant};

#[test]
fn restart_policy_table() {
    use ContainerKind::*;
    use RestartPolicy::*;
    #[rustfmt::skip]
    let table = [
        // policy,    kind,    exit, restarts?
        (Always,    App,     0, true),
        (Always,    App,     1, true),
        (OnFailure, App,     0, false),
        (OnFailure, App,     1, true),
        (Never,     App,     0, false),
        (Never,     App,     1, false),
        (Always,    Init,    0, false),
        (Always,    Init,    1, true),
        (OnFailure, Init,    1, true),
        (Never,     Init,    1, false),
        (Never,     Sidecar, 0, true),
        (Never,     Sidecar, 1, true),
    ];
    for (policy, kind, code, restarts) in table {
        assert_eq!(
            policy.restarts(kind, code),
            restarts,
            "{policy:?} {kind:?} exit {code}"
        );
    }
}

#[test]
fn one_app_exits_under_each_restart_policy() {
    #[rustfmt::skip]
    let table = [
        // restartPolicy, exit, restarted?, phase after
        (None,              0, true,  Phase::Running),
        (Some("Always"),    1, true,  Phase::Running),
        (Some("OnFailure"), 0, false, Phase::Succeeded),
        (Some("OnFailure"), 2, true,  Phase::Running),
        (Some("Never"),     0, false, Phase::Succeeded),
        (Some("Never"),     3, false, Phase::Failed),
    ];
    for (restart, code, restarted, phase) in table {
        let t0 = Instant::now();
        let mut p = policy(&spec(vec![], vec![app("a")], restart), t0);
        let first = p.begin();
        assert_eq!(
            first,
            [Action::Start {
                i: 0,
                restart: false
            }]
        );
        run_starts(&mut p, first, t0);
        p.refresh_phase();
        assert_eq!(p.phase, Phase::Running);

        let actions = p.handle(Event::Exited { i: 0, code }, t0 + secs(1));
        // The first restart comes at once: no back-off yet.
        assert_eq!(actions, [], "{restart:?} exit {code}");
        let again = p.tick(t0 + secs(1));
        let expected = if restarted {
            vec![Action::Start {
                i: 0,
                restart: true,
            }]
        } else {
            vec![]
        };
        assert_eq!(again, expected, "{restart:?} exit {code}");
        run_starts(&mut p, again, t0 + secs(1));
        p.advance(t0 + secs(1));
        assert_eq!(p.phase, phase, "{restart:?} exit {code}");
    }
}

#[test]
fn crash_loop_backs_off_as_kubelet_does() {
    let t0 = Instant::now();
    let mut p = policy(&spec(vec![], vec![app("a")], None), t0);
    let first = p.begin();
    run_starts(&mut p, first, t0);
    let mut now = t0;
    let mut delays = Vec::new();
    for _ in 0..7 {
        now += secs(1);
        let actions = p.handle(Event::Exited { i: 0, code: 1 }, now);
        let delay = match actions.as_slice() {
            [] => Duration::ZERO,
            [Action::BackOff { i: 0, delay }] => *delay,
            other => panic!("unexpected {other:?}"),
        };
        delays.push(delay.as_secs());
        // Nothing starts before the back-off is over; then it starts.
        if delay > Duration::ZERO {
            assert_eq!(p.tick(now + delay - Duration::from_millis(1)), []);
        }
        now += delay;
        assert_eq!(p.next_timer(), Some(now));
        let again = p.tick(now);
        assert_eq!(
            again,
            [Action::Start {
                i: 0,
                restart: true
            }]
        );
        run_starts(&mut p, again, now);
        p.advance(now);
        assert_eq!(p.phase, Phase::Running);
    }
    assert_eq!(delays, [0, 10, 20, 40, 80, 160, 300]);

    // Ten minutes of running forgive the earlier crashes.
    now += secs(601);
    assert_eq!(p.handle(Event::Exited { i: 0, code: 1 }, now), []);
}

#[test]
fn init_containers_run_in_order_then_the_apps() {
    let t0 = Instant::now();
    let s = spec(
        vec![app("init-1"), app("init-2")],
        vec![app("a"), app("b")],
        None,
    );
    let mut p = policy(&s, t0);
    assert_eq!(
        p.begin(),
        [Action::Start {
            i: 0,
            restart: false
        }]
    );
    run_starts(
        &mut p,
        vec![Action::Start {
            i: 0,
            restart: false,
        }],
        t0,
    );
    assert_eq!(p.advance(t0), [], "init-2 waits for init-1");
    assert_eq!(p.phase, Phase::Pending);

    assert_eq!(p.handle(Event::Exited { i: 0, code: 0 }, t0), []);
    let next = p.advance(t0);
    assert_eq!(
        next,
        [Action::Start {
            i: 1,
            restart: false
        }]
    );
    assert_eq!(p.stage, Stage::Init(1));
    run_starts(&mut p, next, t0);
    p.handle(Event::Exited { i: 1, code: 0 }, t0);
    let apps = p.advance(t0);
    assert_eq!(starts(&apps), [2, 3]);
    assert_eq!(p.stage, Stage::Apps);
    run_starts(&mut p, apps, t0);
    p.refresh_phase();
    assert_eq!(p.phase, Phase::Running);
}

#[test]
fn a_failing_init_container_fails_the_pod_or_restarts() {
    #[rustfmt::skip]
    let table = [
        // restartPolicy, restarted?, phase
        (Some("Never"),     false, Phase::Failed),
        (Some("OnFailure"), true,  Phase::Pending),
        (Some("Always"),    true,  Phase::Pending),
    ];
    for (restart, restarted, phase) in table {
        let t0 = Instant::now();
        let mut p = policy(&spec(vec![app("init")], vec![app("a")], restart), t0);
        let first = p.begin();
        run_starts(&mut p, first, t0);
        p.handle(Event::Exited { i: 0, code: 1 }, t0);
        let after = p.advance(t0);
        assert_eq!(starts(&after), [] as [usize; 0], "the app never starts");
        assert_eq!(p.phase, phase, "{restart:?}");
        let again = p.tick(t0);
        assert_eq!(!again.is_empty(), restarted, "{restart:?}: {again:?}");
        if !restarted {
            // Nothing runs: the pod is over at once.
            assert!(matches!(p.stage, Stage::Terminating { .. }));
            p.advance(t0);
            assert_eq!(p.stage, Stage::Done);
            assert_eq!(p.phase, Phase::Failed);
        }
    }
}

#[test]
fn the_next_init_waits_for_a_sidecar_running_and_started() {
    let t0 = Instant::now();
    let mut with_startup = sidecar("proxy");
    with_startup.startup_probe = probe(3);
    let s = spec(vec![with_startup, app("init")], vec![app("a")], None);
    let mut p = policy(&s, t0);
    let first = p.begin();
    assert_eq!(p.advance(t0), [], "not running yet");
    run_starts(&mut p, first, t0);
    assert_eq!(
        p.advance(t0),
        [],
        "running, but its startup probe has not passed"
    );
    let probes = p.tick(t0);
    assert!(probes.contains(&Action::RunProbe { i: 0, probe: 0 }));
    p.handle(
        Event::ProbeResult {
            i: 0,
            probe: 0,
            result: Ok(()),
        },
        t0,
    );
    assert_eq!(
        p.advance(t0),
        [Action::Start {
            i: 1,
            restart: false
        }]
    );

    // Without a startup probe, running is enough.
    let mut p = policy(&spec(vec![sidecar("proxy")], vec![app("a")], None), t0);
    let first = p.begin();
    run_starts(&mut p, first, t0);
    assert_eq!(starts(&p.advance(t0)), [1]);
}

#[test]
fn probes_have_their_effects() {
    let t0 = Instant::now();
    let mut c = app("web");
    c.startup_probe = probe(1);
    c.liveness_probe = probe(1);
    c.readiness_probe = probe(1);
    let mut p = policy(&spec(vec![], vec![c], None), t0);
    let first = p.begin();
    run_starts(&mut p, first, t0);
    let (startup, liveness, readiness) = (0, 1, 2);

    // Startup gates the others.
    assert!(p.may_probe(0, startup));
    assert!(!p.may_probe(0, liveness));
    assert!(!p.may_probe(0, readiness));
    let due = p.tick(t0);
    assert_eq!(
        due,
        [
            Action::RunProbe { i: 0, probe: 0 },
            Action::RunProbe { i: 0, probe: 1 },
            Action::RunProbe { i: 0, probe: 2 },
            Action::PublishReady { i: 0 },
        ]
    );
    let result = |probe, result| Event::ProbeResult {
        i: 0,
        probe,
        result,
    };
    assert_eq!(p.handle(result(startup, Ok(())), t0), []);
    assert!(p.may_probe(0, liveness));

    // Readiness: the ready flag.
    assert!(!p.container_ready(0));
    p.handle(result(readiness, Ok(())), t0);
    assert!(p.container_ready(0));
    p.handle(result(readiness, Err("503".into())), t0);
    assert!(!p.container_ready(0));

    // Liveness failure: an event, and the container is stopped to be restarted.
    let kill = p.handle(result(liveness, Err("boom".into())), t0);
    assert_eq!(
        reasons(&kill),
        [
            (EventType::Warning, "Unhealthy"),
            (EventType::Normal, "Killing")
        ]
    );
    assert_eq!(stops(&kill), [(0, GRACE)]);
    p.handle(Event::StopSent { i: 0, grace: GRACE }, t0);
    assert!(!p.may_probe(0, liveness), "no probes while it stops");
    assert_eq!(p.next_timer(), Some(t0 + secs(1)), "the next probe period");
    // It exits: restarted at once under restartPolicy Always.
    p.handle(Event::Exited { i: 0, code: 143 }, t0 + secs(2));
    assert_eq!(
        p.tick(t0 + secs(2)),
        [Action::Start {
            i: 0,
            restart: true
        }]
    );
    // A stop that does not end in time gets SIGKILL.
    let mut p = policy(&spec(vec![], vec![app("a")], None), t0);
    let first = p.begin();
    run_starts(&mut p, first, t0);
    p.handle(Event::StopSent { i: 0, grace: 2 }, t0);
    assert_eq!(
        p.tick(t0 + secs(2)),
        [
            Action::Kill {
                i: 0,
                why: KillReason::StopTimedOut
            },
            Action::PublishReady { i: 0 }
        ]
    );
}

#[test]
fn active_deadline_fails_the_pod() {
    let t0 = Instant::now();
    let mut s = spec(vec![], vec![app("a")], None);
    s.active_deadline_seconds = Some(5);
    let mut p = policy(&s, t0);
    let first = p.begin();
    run_starts(&mut p, first, t0);
    assert_eq!(p.next_timer(), Some(t0 + secs(5)));
    assert!(p
        .tick(t0 + secs(4))
        .iter()
        .all(|a| !matches!(a, Action::Stop { .. })));
    let actions = p.tick(t0 + secs(5));
    assert_eq!(
        reasons(&actions)[0],
        (EventType::Normal, "DeadlineExceeded")
    );
    assert_eq!(stops(&actions), [(0, GRACE)]);
    assert_eq!(p.phase, Phase::Failed);
    assert_eq!(p.reason, "DeadlineExceeded");
    // It stays Failed whatever the container's exit.
    p.handle(Event::Exited { i: 0, code: 0 }, t0 + secs(6));
    p.advance(t0 + secs(6));
    assert_eq!(p.stage, Stage::Done);
    assert_eq!(p.phase, Phase::Failed);
}

#[test]
fn a_replaced_container_restarts_at_once_without_back_off() {
    let t0 = Instant::now();
    let mut p = policy(&spec(vec![], vec![app("a")], None), t0);
    let first = p.begin();
    run_starts(&mut p, first, t0);
    for n in 1..=3 {
        // Crash a few times so a back-off would apply.
        p.handle(Event::Exited { i: 0, code: 1 }, t0);
        let again = p.tick(t0 + secs(600 * n));
        run_starts(&mut p, again, t0);
    }
    let mut new = app("a");
    new.image = Some("busybox:new".into());
    let stop = p.handle(
        Event::Replaced {
            i: 0,
            spec: Box::new(new),
        },
        t0,
    );
    assert_eq!(stops(&stop), [(0, GRACE)]);
    assert_eq!(p.handle(Event::Exited { i: 0, code: 143 }, t0), []);
    assert_eq!(
        p.tick(t0),
        [Action::Start {
            i: 0,
            restart: true
        }]
    );
}

#[test]
fn a_failed_start_counts_as_exit_128() {
    let t0 = Instant::now();
    let mut p = policy(&spec(vec![], vec![app("a")], Some("Never")), t0);
    p.begin();
    assert_eq!(p.handle(Event::StartFailed { i: 0 }, t0), []);
    p.advance(t0);
    assert_eq!(p.phase, Phase::Failed);
    assert_eq!(p.containers[0].exit_code, Some(128));
}

#[test]
fn a_failed_post_start_hook_kills_the_container() {
    let t0 = Instant::now();
    let mut p = policy(&spec(vec![], vec![app("a")], None), t0);
    let first = p.begin();
    run_starts(&mut p, first, t0);
    assert_eq!(
        p.handle(Event::PostStartFailed { i: 0 }, t0),
        [Action::Kill {
            i: 0,
            why: KillReason::PostStartFailed
        }]
    );
}

#[test]
fn a_container_waiting_that_never_ran_keeps_the_pod_pending() {
    // kubelet's getPhase: waiting without a terminated state counts as pending, even
    // beside a running container; waiting after a run (CrashLoopBackOff) does not.
    #[rustfmt::skip]
    let table = [
        // first start of b fails?, b ran once before?, phase
        (true,  false, Phase::Pending),
        (false, false, Phase::Running),
        (true,  true,  Phase::Running),
    ];
    for (fails, ran_before, phase) in table {
        let t0 = Instant::now();
        let mut p = policy(&spec(vec![], vec![app("a"), app("b")], None), t0);
        let first = p.begin();
        assert_eq!(starts(&first), [0, 1]);
        p.handle(Event::Started { i: 0 }, t0);
        if ran_before {
            p.handle(Event::Started { i: 1 }, t0);
            p.handle(Event::Exited { i: 1, code: 1 }, t0);
            // Its next start fails (CreateContainerConfigError).
            p.handle(Event::StartFailed { i: 1 }, t0);
        } else if fails {
            p.handle(Event::StartFailed { i: 1 }, t0);
        } else {
            p.handle(Event::Started { i: 1 }, t0);
        }
        p.advance(t0);
        assert_eq!(p.phase, phase, "fails {fails}, ran before {ran_before}");
    }
}

/// Kubelet's image back-off: a missing image is tried again after 10 s, 20 s, 40 s
/// ... up to 5 minutes, whatever the restart policy (no container ran), and the pod
/// stays Pending.
#[test]
fn a_missing_image_is_retried_on_the_image_back_off_even_with_restart_never() {
    let t0 = Instant::now();
    let mut p = policy(&spec(vec![], vec![app("a")], Some("Never")), t0);
    assert_eq!(starts(&p.begin()), [0]);
    let mut now = t0;
    let mut delays = Vec::new();
    for _ in 0..7 {
        let actions = p.handle(Event::ImagePullFailed { i: 0 }, now);
        let [Action::BackOff { i: 0, delay }] = actions.as_slice() else {
            panic!("{actions:?}");
        };
        delays.push(delay.as_secs());
        p.refresh_phase();
        assert_eq!(p.phase, Phase::Pending);
        // Nothing before the delay is over; then the start is tried again.
        assert!(starts(&p.tick(now + *delay - Duration::from_millis(1))).is_empty());
        now += *delay;
        assert_eq!(starts(&p.tick(now)), [0]);
    }
    assert_eq!(delays, [10, 20, 40, 80, 160, 300, 300]);
    // The image came: the container runs.
    p.handle(Event::Started { i: 0 }, now);
    p.refresh_phase();
    assert_eq!(p.phase, Phase::Running);
    // The failed pulls are no crashes: a later image failure starts at 10 s again.
    let again = p.handle(Event::ImagePullFailed { i: 0 }, now);
    assert_eq!(
        again,
        [Action::BackOff {
            i: 0,
            delay: secs(10)
        }]
    );
}
