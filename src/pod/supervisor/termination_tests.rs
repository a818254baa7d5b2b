//! How a pod stops, as tables: the order, the grace period, the infra's death.

use super::actions::{Action, Event, KillReason};
use super::pod_state::{Life, Stage};
use super::test_pods::*;
use crate::pod::events::EventType;
use crate::pod::status::Phase;
use std::time::Instant;

#[test]
fn apps_stop_first_then_sidecars_in_reverse() {
    let t0 = Instant::now();
    let s = spec(
        vec![sidecar("s1"), sidecar("s2")],
        vec![app("a1"), app("a2")],
        None,
    );
    let mut p = policy(&s, t0);
    let mut actions = p.begin();
    while !actions.is_empty() {
        run_starts(&mut p, actions, t0);
        actions = p.advance(t0);
    }
    assert!(p.containers.iter().all(|c| c.is_running()));

    let stop = p.handle(Event::DeleteRequested { grace: 20 }, t0);
    assert_eq!(stop.first(), Some(&Action::MarkDeletion));
    assert_eq!(stops(&stop), [(2, 20), (3, 20)], "the apps only");
    assert_eq!(
        reasons(&stop),
        [
            (EventType::Normal, "Killing"),
            (EventType::Normal, "Killing")
        ]
    );
    assert_eq!(p.handle(Event::DeleteRequested { grace: 20 }, t0), []);
    p.handle(Event::Exited { i: 2, code: 143 }, t0 + secs(1));
    assert_eq!(p.advance(t0 + secs(1)), [], "a2 still runs");
    p.handle(Event::Exited { i: 3, code: 143 }, t0 + secs(5));
    let sidecars = p.advance(t0 + secs(5));
    assert_eq!(
        stops(&sidecars),
        [(1, 15), (0, 15)],
        "reverse, what is left"
    );
    p.handle(Event::Exited { i: 1, code: 0 }, t0 + secs(6));
    p.handle(Event::Exited { i: 0, code: 0 }, t0 + secs(6));
    assert_eq!(p.advance(t0 + secs(6)), []);
    assert_eq!(p.stage, Stage::Done);
}

#[test]
fn sigkill_at_the_end_of_the_grace_period() {
    let t0 = Instant::now();
    let mut p = policy(&spec(vec![], vec![app("a")], None), t0);
    let first = p.begin();
    run_starts(&mut p, first, t0);
    let stop = p.handle(Event::DeleteRequested { grace: 10 }, t0);
    assert_eq!(stops(&stop), [(0, 10)]);
    // The preStop hook took 4 s: the SIGKILL is due 10 s after the signal.
    p.handle(Event::StopSent { i: 0, grace: 10 }, t0 + secs(4));
    assert_eq!(p.next_timer(), Some(t0 + secs(14)));
    assert_eq!(p.tick(t0 + secs(13)), []);
    assert_eq!(
        p.tick(t0 + secs(14)),
        [Action::Kill {
            i: 0,
            why: KillReason::GracePeriodOver
        }]
    );
}

#[test]
fn the_infra_dying_under_never_fails_the_pod_and_kills_everything() {
    let t0 = Instant::now();
    let s = spec(vec![sidecar("s")], vec![app("a"), app("b")], Some("Never"));
    let mut p = policy(&s, t0);
    let mut actions = p.begin();
    while !actions.is_empty() {
        run_starts(&mut p, actions, t0);
        actions = p.advance(t0);
    }
    // b crashed (not to run again under Never): it must not come back.
    p.handle(Event::Exited { i: 2, code: 1 }, t0);
    let died = p.handle(Event::InfraDied { pid: 42 }, t0);
    assert_eq!(reasons(&died), [(EventType::Warning, "SandboxChanged")]);
    let killed: Vec<Action> = died
        .into_iter()
        .filter(|a| matches!(a, Action::Kill { .. }))
        .collect();
    let sandbox = KillReason::SandboxGone;
    assert_eq!(
        killed,
        [
            Action::Kill { i: 0, why: sandbox },
            Action::Kill { i: 1, why: sandbox }
        ]
    );
    assert_eq!((p.phase, p.reason.as_str()), (Phase::Failed, "SandboxDied"));
    assert_eq!(p.containers[2].life, Life::Exited);
    assert_eq!(starts(&p.tick(t0 + secs(60))), [] as [usize; 0]);
    p.handle(Event::Exited { i: 0, code: 137 }, t0);
    p.handle(Event::Exited { i: 1, code: 137 }, t0);
    p.advance(t0);
    assert_eq!(p.stage, Stage::Done);
    assert_eq!(p.phase, Phase::Failed);
}

#[test]
fn termination_table() {
    #[rustfmt::skip]
    let table: [(i64, bool); 3] = [
        // grace, SIGKILL at once (no SIGKILL timer)?
        (30, false),
        (0,  true),
        (-5, true),
    ];
    for (grace, killed) in table {
        let t0 = Instant::now();
        let mut p = policy(&spec(vec![], vec![app("a")], None), t0);
        let first = p.begin();
        run_starts(&mut p, first, t0);
        let stop = p.handle(Event::DeleteRequested { grace }, t0);
        assert_eq!(stops(&stop), [(0, grace.max(0))], "grace {grace}");
        assert!(
            matches!(p.stage, Stage::Terminating { killed: k, .. } if k == killed),
            "grace {grace}: {:?}",
            p.stage
        );
        // Whatever happens now, nothing restarts.
        p.handle(Event::Exited { i: 0, code: 137 }, t0);
        assert_eq!(starts(&p.tick(t0 + secs(3600))), [] as [usize; 0]);
        p.advance(t0);
        assert_eq!(p.stage, Stage::Done, "grace {grace}");
    }
}

#[test]
fn a_classic_init_container_still_running_stops_with_the_apps() {
    let t0 = Instant::now();
    let mut p = policy(
        &spec(vec![sidecar("s"), app("init")], vec![app("a")], None),
        t0,
    );
    let mut actions = p.begin();
    while !actions.is_empty() {
        run_starts(&mut p, actions, t0);
        actions = p.advance(t0);
    }
    assert_eq!(p.stage, Stage::Init(1), "the init container runs");
    let stop = p.handle(Event::DeleteRequested { grace: 5 }, t0);
    assert_eq!(
        stops(&stop),
        [(1, 5)],
        "the init container, not the sidecar"
    );
    p.handle(Event::Exited { i: 1, code: 143 }, t0);
    assert_eq!(stops(&p.advance(t0)), [(0, 5)], "then the sidecar");
}

#[test]
fn a_forced_delete_during_a_graceful_one_kills_at_once() {
    let t0 = Instant::now();
    let mut p = policy(&spec(vec![], vec![app("a"), app("b")], None), t0);
    let first = p.begin();
    run_starts(&mut p, first, t0);
    let stop = p.handle(Event::DeleteRequested { grace: 60 }, t0);
    assert_eq!(stops(&stop), [(0, 60), (1, 60)]);
    p.handle(Event::StopSent { i: 0, grace: 60 }, t0 + secs(2));
    // A longer or equal grace changes nothing; 0 kills both now.
    assert_eq!(
        p.handle(Event::DeleteRequested { grace: 90 }, t0 + secs(3)),
        []
    );
    let kill = p.handle(Event::DeleteRequested { grace: 0 }, t0 + secs(3));
    assert_eq!(
        kill,
        [
            Action::Kill {
                i: 0,
                why: KillReason::GracePeriodOver
            },
            Action::Kill {
                i: 1,
                why: KillReason::GracePeriodOver
            }
        ]
    );
    assert!(matches!(p.stage, Stage::Terminating { killed: true, .. }));
}
