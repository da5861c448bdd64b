//! Grandfather-father-son retention of backups, as a pure decision: given the backups (when each
//! was taken, whether it was verified), the policy and the time now, which to delete.
//!
//! Kept: the best backup of each of the last `hourly` hours, `daily` days, `weekly` ISO weeks and
//! `monthly` months (UTC), counted back from now; within one period a verified backup is preferred
//! to an unverified one, then the newest. Never deleted, whatever the policy says:
//! - any backup unless a newer one has been verified (a copy that may be the last good one stays);
//! - a backup newer than the newest verified one (it is still waiting for its verification).

use std::collections::BTreeSet;

use chrono::{DateTime, Datelike, Timelike, Utc};

/// How many periods of each kind keep a backup.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    pub hourly: u32,
    pub daily: u32,
    pub weekly: u32,
    pub monthly: u32,
}

impl Default for Policy {
    fn default() -> Policy {
        Policy {
            hourly: 24,
            daily: 14,
            weekly: 8,
            monthly: 24,
        }
    }
}

/// What the decision needs to know of one backup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupAge {
    pub name: String,
    pub taken_at: DateTime<Utc>,
    pub verified: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Period {
    Hour,
    Day,
    Week,
    Month,
}

/// A number that is the same for two instants exactly when they fall in the same period.
fn period_index(period: Period, at: DateTime<Utc>) -> i64 {
    let days = i64::from(at.num_days_from_ce());
    match period {
        Period::Hour => days * 24 + i64::from(at.hour()),
        Period::Day => days,
        // Day 1 of the common era was a Monday, so this counts ISO weeks (Monday to Sunday).
        Period::Week => (days - 1).div_euclid(7),
        Period::Month => i64::from(at.year()) * 12 + i64::from(at.month0()),
    }
}

/// The names of the backups to delete now.
pub fn to_delete(backups: &[BackupAge], policy: &Policy, now: DateTime<Utc>) -> Vec<String> {
    let Some(newest_verified) = backups
        .iter()
        .filter(|b| b.verified)
        .map(|b| b.taken_at)
        .max()
    else {
        // Nothing verified yet: nothing may go.
        return Vec::new();
    };
    let mut keep: BTreeSet<&str> = BTreeSet::new();
    for (period, count) in [
        (Period::Hour, policy.hourly),
        (Period::Day, policy.daily),
        (Period::Week, policy.weekly),
        (Period::Month, policy.monthly),
    ] {
        let current = period_index(period, now);
        let oldest = current - i64::from(count) + 1;
        // The best backup per period: verified first, then newest.
        let mut best: std::collections::BTreeMap<i64, &BackupAge> = Default::default();
        for backup in backups {
            let index = period_index(period, backup.taken_at);
            if count == 0 || index < oldest || index > current {
                continue;
            }
            let better = match best.get(&index) {
                None => true,
                Some(held) => {
                    (backup.verified, backup.taken_at, &backup.name)
                        > (held.verified, held.taken_at, &held.name)
                }
            };
            if better {
                best.insert(index, backup);
            }
        }
        keep.extend(best.values().map(|b| b.name.as_str()));
    }
    let mut delete: Vec<&BackupAge> = backups
        .iter()
        .filter(|b| !keep.contains(b.name.as_str()))
        // Only once something newer has been verified; never one still awaiting verification.
        .filter(|b| b.taken_at < newest_verified)
        .collect();
    delete.sort_by_key(|b| b.taken_at);
    delete.into_iter().map(|b| b.name.clone()).collect()
}

/// Parses a duration such as `90s`, `15m`, `1h`, `1d` (one number, one unit).
pub fn parse_every(text: &str) -> Result<std::time::Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .ok_or_else(|| format!("{text:?}: add a unit (s, m, h or d), e.g. 1h"))?;
    let (number, unit) = text.split_at(split);
    let number: u64 = number
        .parse()
        .map_err(|_| format!("{text:?}: expected a number and a unit, e.g. 1h"))?;
    let seconds = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(format!("{text:?}: the unit must be s, m, h or d")),
    };
    if number == 0 {
        return Err(format!("{text:?}: must be more than zero"));
    }
    number
        .checked_mul(seconds)
        .map(std::time::Duration::from_secs)
        .ok_or_else(|| format!("{text:?}: too long"))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone};

    fn at(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).unwrap()
    }

    fn backup(t: DateTime<Utc>, verified: bool) -> BackupAge {
        BackupAge {
            name: t.format("%Y%m%dT%H%M").to_string(),
            taken_at: t,
            verified,
        }
    }

    /// Hourly backups, all verified, for `hours` hours up to `now`.
    fn hourly_series(now: DateTime<Utc>, hours: i64) -> Vec<BackupAge> {
        (0..hours)
            .map(|h| backup(now - Duration::hours(h), true))
            .collect()
    }

    #[test]
    fn nothing_is_deleted_while_nothing_is_verified() {
        let now = at(2026, 11, 28, 12, 0);
        let backups: Vec<BackupAge> = (0..500)
            .map(|h| backup(now - Duration::hours(h), false))
            .collect();
        assert!(to_delete(&backups, &Policy::default(), now).is_empty());
    }

    #[test]
    fn a_year_of_hourly_backups_thins_to_the_policy() {
        let now = at(2026, 11, 28, 12, 30);
        let backups = hourly_series(now, 24 * 366);
        let deleted = to_delete(&backups, &Policy::default(), now);
        let kept: Vec<&BackupAge> = backups
            .iter()
            .filter(|b| !deleted.contains(&b.name))
            .collect();
        // 24 hours; 14 days of which today's hours already count one; 8 weeks; 12 months of data
        // (the policy's 24 months reach further back than the series).
        let hours = kept
            .iter()
            .filter(|b| b.taken_at > now - Duration::hours(24))
            .count();
        assert_eq!(hours, 24);
        // Every day of the last 14 has a backup, the newest of that day.
        for d in 0..14 {
            let day = (now - Duration::days(d)).date_naive();
            let of_day: Vec<_> = kept
                .iter()
                .filter(|b| b.taken_at.date_naive() == day)
                .collect();
            assert!(!of_day.is_empty(), "day {day} lost its backup");
        }
        // One per ISO week for 8 weeks, one per month for the 13 months the series touches.
        let months: BTreeSet<(i32, u32)> = kept
            .iter()
            .map(|b| (b.taken_at.year(), b.taken_at.month()))
            .collect();
        assert_eq!(months.len(), 13);
        // A bounded set: at most the sum of the policy.
        assert!(kept.len() <= 24 + 14 + 8 + 24, "{}", kept.len());
        assert!(kept.len() >= 24 + 13, "{}", kept.len());
        // The oldest backup of all is the month's newest, not kept otherwise: the series starts
        // mid-month, so its first backup is not the month's newest and goes.
        let oldest = backups.iter().map(|b| b.taken_at).min().unwrap();
        assert!(deleted.contains(&backup(oldest, true).name));
    }

    #[test]
    fn the_newest_of_a_day_is_kept_for_that_day() {
        let now = at(2026, 11, 28, 12, 0);
        let policy = Policy {
            hourly: 0,
            daily: 3,
            weekly: 0,
            monthly: 0,
        };
        let backups = vec![
            backup(at(2026, 11, 26, 1, 0), true),
            backup(at(2026, 11, 26, 23, 0), true),
            backup(at(2026, 11, 27, 5, 0), true),
            backup(at(2026, 11, 28, 11, 0), true),
            backup(at(2026, 11, 25, 23, 0), true),
        ];
        let deleted = to_delete(&backups, &policy, now);
        assert_eq!(deleted, vec!["20261125T2300", "20261126T0100"]);
    }

    #[test]
    fn within_a_period_a_verified_backup_beats_a_newer_unverified_one() {
        let now = at(2026, 11, 28, 12, 0);
        let policy = Policy {
            hourly: 0,
            daily: 2,
            weekly: 0,
            monthly: 0,
        };
        let backups = vec![
            backup(at(2026, 11, 27, 8, 0), true),
            // Failed its verification (never marked verified), newer on the same day.
            backup(at(2026, 11, 27, 20, 0), false),
            backup(at(2026, 11, 28, 11, 0), true),
        ];
        let deleted = to_delete(&backups, &policy, now);
        assert_eq!(deleted, vec!["20261127T2000"]);
    }

    #[test]
    fn a_backup_awaiting_verification_is_never_deleted() {
        let now = at(2026, 11, 28, 12, 0);
        let policy = Policy {
            hourly: 1,
            daily: 0,
            weekly: 0,
            monthly: 0,
        };
        let backups = vec![
            backup(at(2026, 11, 28, 11, 50), true),
            backup(at(2026, 11, 28, 11, 55), true),
            // Newest, not yet verified: the verified 11:55 one is the hour's best, but this one
            // is newer than every verified backup, so it stays.
            backup(at(2026, 11, 28, 11, 59), false),
        ];
        let deleted = to_delete(&backups, &policy, now);
        assert_eq!(deleted, vec!["20261128T1150"]);
    }

    #[test]
    fn only_backups_older_than_a_verified_one_go() {
        let now = at(2026, 11, 28, 12, 0);
        let policy = Policy {
            hourly: 0,
            daily: 0,
            weekly: 0,
            monthly: 0,
        };
        let backups = vec![
            backup(at(2026, 11, 1, 0, 0), true),
            backup(at(2026, 11, 10, 0, 0), true),
            backup(at(2026, 11, 20, 0, 0), false),
        ];
        // A policy that keeps nothing still keeps the newest verified backup and what is newer.
        let deleted = to_delete(&backups, &policy, now);
        assert_eq!(deleted, vec!["20261101T0000"]);
    }

    #[test]
    fn weeks_are_iso_weeks_starting_on_monday() {
        // 2026-11-23 is a Monday, 2026-11-22 a Sunday.
        assert_eq!(
            period_index(Period::Week, at(2026, 11, 23, 0, 0)),
            period_index(Period::Week, at(2026, 11, 29, 23, 59))
        );
        assert_ne!(
            period_index(Period::Week, at(2026, 11, 22, 23, 59)),
            period_index(Period::Week, at(2026, 11, 23, 0, 0))
        );
    }

    #[test]
    fn durations_parse_with_a_unit() {
        assert_eq!(parse_every("90s").unwrap().as_secs(), 90);
        assert_eq!(parse_every("15m").unwrap().as_secs(), 900);
        assert_eq!(parse_every("1h").unwrap().as_secs(), 3600);
        assert_eq!(parse_every("2d").unwrap().as_secs(), 172_800);
        assert!(parse_every("10").is_err());
        assert!(parse_every("0h").is_err());
        assert!(parse_every("h").is_err());
        assert!(parse_every("5w").is_err());
    }
}
