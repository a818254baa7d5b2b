//! RollingUpdate's arithmetic, as the deployment controller does it: `maxSurge`
//! rounds up, `maxUnavailable` rounds down, and when both come out 0 one pod may be
//! unavailable; how far the new ReplicaSet may grow and the old ones shrink.

use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

/// A count or a percentage of `total`, rounded up or down.
pub fn scaled_value(value: Option<&IntOrString>, total: i32, round_up: bool) -> i32 {
    match value {
        None => 0,
        Some(IntOrString::Int(n)) => *n,
        Some(IntOrString::String(text)) => {
            let percent: i64 = text
                .strip_suffix('%')
                .and_then(|d| d.parse().ok())
                .unwrap_or(0);
            let product = percent.saturating_mul(i64::from(total));
            let value = if round_up {
                (product + 99).div_euclid(100)
            } else {
                product.div_euclid(100)
            };
            i32::try_from(value).unwrap_or(i32::MAX)
        }
    }
}

/// (maxSurge, maxUnavailable) for `replicas`.
pub fn limits(
    surge: Option<&IntOrString>,
    unavailable: Option<&IntOrString>,
    replicas: i32,
) -> (i32, i32) {
    let surge = scaled_value(surge, replicas, true).max(0);
    let mut unavailable = scaled_value(unavailable, replicas, false).max(0);
    if surge == 0 && unavailable == 0 {
        unavailable = 1;
    }
    (surge, unavailable)
}

/// How many replicas the new ReplicaSet may have now: up to `replicas`, while all
/// ReplicaSets together stay within `replicas + surge`.
pub fn new_replicas(replicas: i32, surge: i32, new_now: i32, all_total: i32) -> i32 {
    if new_now >= replicas {
        return replicas;
    }
    let max_total = replicas.saturating_add(surge);
    if all_total >= max_total {
        return new_now;
    }
    let room = max_total.saturating_sub(all_total);
    new_now.saturating_add(room.min(replicas.saturating_sub(new_now)))
}

/// One old ReplicaSet as the scale-down sees it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OldSet {
    pub replicas: i32,
    pub available: i32,
}

/// How far each old ReplicaSet (oldest first) is scaled down now: first the pods
/// that are not available anyway, then available ones while at least
/// `replicas - max_unavailable` stay available. Returns the new replica counts.
pub fn scale_down_old(
    replicas: i32,
    max_unavailable: i32,
    new_set: OldSet,
    old: &[OldSet],
) -> Vec<i32> {
    let mut counts: Vec<i32> = old.iter().map(|o| o.replicas).collect();
    let old_total: i32 = counts.iter().fold(0i32, |a, c| a.saturating_add(*c));
    if old_total == 0 {
        return counts;
    }
    let all_total = old_total.saturating_add(new_set.replicas);
    let min_available = replicas.saturating_sub(max_unavailable);
    let new_unavailable = new_set.replicas.saturating_sub(new_set.available).max(0);
    let max_scaled_down = all_total
        .saturating_sub(min_available)
        .saturating_sub(new_unavailable);
    if max_scaled_down <= 0 {
        return counts;
    }
    // The unhealthy first.
    let mut budget = max_scaled_down;
    for (count, set) in counts.iter_mut().zip(old) {
        if budget <= 0 {
            break;
        }
        let unhealthy = count.saturating_sub(set.available).max(0);
        let down = unhealthy.min(budget);
        *count = count.saturating_sub(down);
        budget = budget.saturating_sub(down);
    }
    // Then available ones, keeping min_available.
    let available: i32 = old
        .iter()
        .fold(new_set.available, |a, o| a.saturating_add(o.available));
    if available <= min_available {
        return counts;
    }
    let mut total_down = available.saturating_sub(min_available).min(budget);
    for count in counts.iter_mut() {
        if total_down <= 0 {
            break;
        }
        let down = (*count).min(total_down);
        *count = count.saturating_sub(down);
        total_down = total_down.saturating_sub(down);
    }
    counts
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pct(s: &str) -> IntOrString {
        IntOrString::String(s.into())
    }

    #[test]
    fn defaults_for_two_replicas_are_surge_one_unavailable_zero() {
        assert_eq!(limits(Some(&pct("25%")), Some(&pct("25%")), 2), (1, 0));
        assert_eq!(limits(Some(&pct("25%")), Some(&pct("25%")), 10), (3, 2));
        assert_eq!(
            limits(Some(&pct("0%")), Some(&IntOrString::Int(0)), 3),
            (0, 1)
        );
    }

    #[test]
    fn a_rollout_of_two_never_has_more_than_three_nor_fewer_than_two_available() {
        let (surge, unavailable) = (1, 0);
        // Start: old 2 available, new 0.
        let mut old = OldSet {
            replicas: 2,
            available: 2,
        };
        let mut new = OldSet {
            replicas: 0,
            available: 0,
        };
        let mut steps = 0;
        while old.replicas > 0 || new.available < 2 {
            steps += 1;
            assert!(steps < 20, "no progress");
            let grown = new_replicas(2, surge, new.replicas, new.replicas + old.replicas);
            assert!(grown + old.replicas <= 3);
            new.replicas = grown;
            // The new pods become available.
            new.available = new.replicas;
            let down = scale_down_old(2, unavailable, new, &[old])[0];
            old = OldSet {
                replicas: down,
                available: down,
            };
            assert!(new.available + old.available >= 2);
        }
        assert_eq!((new.replicas, old.replicas), (2, 0));
    }

    #[test]
    fn nothing_old_is_removed_while_the_new_pod_is_not_available() {
        let new = OldSet {
            replicas: 1,
            available: 0,
        };
        let old = [OldSet {
            replicas: 2,
            available: 2,
        }];
        assert_eq!(scale_down_old(2, 0, new, &old), [2]);
        // Unavailable old pods go first.
        let old = [OldSet {
            replicas: 2,
            available: 1,
        }];
        assert_eq!(scale_down_old(2, 0, new, &old), [2]);
        let new = OldSet {
            replicas: 1,
            available: 1,
        };
        assert_eq!(scale_down_old(2, 0, new, &old), [1]);
    }
}
