//! Pickup times. Riders enter a wall-clock time in the city's time zone; this module turns it
//! into a UTC instant or says clearly why it cannot: a time the clocks skip (DST gap) is refused,
//! a time that happens twice (DST overlap) needs the rider's choice, and the city's lead time
//! and booking horizon apply.

use chrono::{DateTime, Duration, LocalResult, NaiveDateTime, Offset, TimeZone, Utc};
use serde::{Deserialize, Serialize};

use crate::catalog::City;
use crate::error::CoreError;

/// How far ahead a ride can be booked.
pub const MAX_DAYS_AHEAD: i64 = 365;

/// Which of the two instants to take when a local time occurs twice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
/// Which of the two instants a wall-clock time means when it happens twice (the hour the clocks
/// go back): the form's message shows both in local time with their offsets.
pub enum DstChoice {
    /// The first, still on summer time (e.g. 02:30 (UTC+2) in Berlin).
    Earlier,
    /// The second, on winter time (e.g. 02:30 (UTC+1)).
    Later,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum PickupTime {
    /// As soon as possible (only in cities that offer on-demand rides).
    Asap,
    /// A wall-clock time in the city's time zone, e.g. "2026-03-29T09:30" (seconds optional).
    Local {
        #[serde(deserialize_with = "wall_clock")]
        at: NaiveDateTime,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        dst: Option<DstChoice>,
    },
    /// An exact instant (already resolved, e.g. when re-quoting a booking).
    Instant { at: DateTime<Utc> },
}

/// A local date and time as riders and forms write it: `2026-12-10T10:00`, with or without
/// seconds (and fractions of them).
fn wall_clock<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<NaiveDateTime, D::Error> {
    let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
    parse_wall_clock(&text).ok_or_else(|| {
        serde::de::Error::custom(format!(
            "{text:?} is not a local date and time like 2026-12-10T10:00"
        ))
    })
}

/// Parses `YYYY-MM-DDTHH:MM[:SS[.fraction]]`.
pub fn parse_wall_clock(text: &str) -> Option<NaiveDateTime> {
    NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f")
        .or_else(|_| NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M"))
        .ok()
}

/// `at` on the wall clock of `tz` with its offset from UTC, as riders read a DST choice:
/// `02:30 (UTC+2)`, `02:30 (UTC+1)`, `09:00 (UTC+5:30)`, `14:00 (UTC)`.
pub fn wall_clock_with_offset<Z: TimeZone>(at: DateTime<Utc>, tz: &Z) -> String {
    let local = at.with_timezone(tz);
    format!(
        "{} ({})",
        local.naive_local().format("%H:%M"),
        utc_offset_label(local.offset().fix().local_minus_utc())
    )
}

/// An offset east of UTC in seconds as `UTC+2`, `UTC-3:30`, or `UTC` for none.
pub fn utc_offset_label(seconds_east: i32) -> String {
    if seconds_east == 0 {
        return "UTC".to_owned();
    }
    let sign = if seconds_east < 0 { '-' } else { '+' };
    let minutes = seconds_east.unsigned_abs() / 60;
    match (minutes / 60, minutes % 60) {
        (hours, 0) => format!("UTC{sign}{hours}"),
        (hours, minutes) => format!("UTC{sign}{hours}:{minutes:02}"),
    }
}

/// The two instants a wall-clock time in `tz` stands for when the clocks go back (earlier,
/// later), each with its offset east of UTC in seconds; `None` when it happens once or never.
pub fn overlap_instants<Z: TimeZone>(
    tz: &Z,
    local: &NaiveDateTime,
) -> Option<[(DstChoice, DateTime<Utc>, i32); 2]> {
    match tz.from_local_datetime(local) {
        LocalResult::Ambiguous(earlier, later) => Some([
            (
                DstChoice::Earlier,
                earlier.with_timezone(&Utc),
                earlier.offset().fix().local_minus_utc(),
            ),
            (
                DstChoice::Later,
                later.with_timezone(&Utc),
                later.offset().fix().local_minus_utc(),
            ),
        ]),
        _ => None,
    }
}

/// A pickup time that passed every check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResolvedPickup {
    pub at: DateTime<Utc>,
    /// The same instant on the city's wall clock.
    pub local: NaiveDateTime,
    pub asap: bool,
}

/// Resolves a requested pickup time against the city's rules at `now`.
pub fn resolve_pickup(
    city: &City,
    requested: &PickupTime,
    now: DateTime<Utc>,
) -> Result<ResolvedPickup, CoreError> {
    let tz = city.tz();
    let (at, asap) = match requested {
        PickupTime::Asap => {
            if !city.on_demand {
                return Err(CoreError::OnDemandUnavailable {
                    city: city.id.clone(),
                });
            }
            (now, true)
        }
        PickupTime::Instant { at } => (*at, false),
        PickupTime::Local { at: local, dst } => {
            let at = match (tz.from_local_datetime(local), dst) {
                (LocalResult::Single(t), _) => t,
                (LocalResult::None, _) => {
                    return Err(CoreError::PickupInDstGap {
                        local: *local,
                        time_zone: tz.name().to_owned(),
                    })
                }
                (LocalResult::Ambiguous(earlier, _), Some(DstChoice::Earlier)) => earlier,
                (LocalResult::Ambiguous(_, later), Some(DstChoice::Later)) => later,
                (LocalResult::Ambiguous(earlier, later), None) => {
                    return Err(CoreError::PickupTimeAmbiguous {
                        local: *local,
                        time_zone: tz.name().to_owned(),
                        earlier: earlier.with_timezone(&Utc),
                        later: later.with_timezone(&Utc),
                    })
                }
            };
            (at.with_timezone(&Utc), false)
        }
    };
    if !asap {
        if at < now {
            return Err(CoreError::PickupInPast { at });
        }
        let earliest = now + Duration::minutes(i64::from(city.lead_time_minutes));
        if at < earliest {
            return Err(CoreError::PickupTooSoon { earliest });
        }
        let latest = now + Duration::days(MAX_DAYS_AHEAD);
        if at > latest {
            return Err(CoreError::PickupTooFarAhead { latest });
        }
    }
    Ok(ResolvedPickup {
        at,
        local: at.with_timezone(&tz).naive_local(),
        asap,
    })
}
