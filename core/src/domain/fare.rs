//! The fare engine: one code path for the phone's offline estimate, the server's binding quote
//! and the receipt after the ride. Pure: inputs and a clock in, a priced quote out.
//!
//! Transfer: max(minimum, base + per-km × road km + per-minute × minutes) + surcharges, rounded
//! up to the city's step. Hourly: hours × hourly rate + surcharges, rounded the same way.
//! Every amount is integer minor units; each line rounds up to the minor unit on its own, and
//! the lines always add up exactly to the total, as net + VAT do.

use chrono::{DateTime, Duration, Timelike, Utc};
use serde::{Deserialize, Serialize};
use smallvec::SmallVec;

use crate::catalog::{Catalog, City, PickupPlace, VehicleClass};
use crate::distance::{LatLon, RouteEstimate, Router};
use crate::error::CoreError;
use crate::money::{ceil_div, mul_div_ceil, sum, to_i64, Money};
use crate::pickup::{resolve_pickup, PickupTime, ResolvedPickup};

/// At most this many intermediate stops on a transfer.
pub const MAX_STOPS: usize = 3;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ProductRequest {
    /// Point to point, optionally through intermediate stops.
    Transfer {
        dropoff: LatLon,
        #[serde(default)]
        stops: Vec<LatLon>,
    },
    /// By the hour.
    Hourly { hours: u32 },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ProductKind {
    Transfer,
    Hourly,
}

impl ProductKind {
    pub fn as_str(&self) -> &'static str {
        match self {
            ProductKind::Transfer => "transfer",
            ProductKind::Hourly => "hourly",
        }
    }

    pub fn parse(text: &str) -> Option<ProductKind> {
        [ProductKind::Transfer, ProductKind::Hourly]
            .into_iter()
            .find(|p| p.as_str() == text)
    }
}

impl ProductRequest {
    pub fn kind(&self) -> ProductKind {
        match self {
            ProductRequest::Transfer { .. } => ProductKind::Transfer,
            ProductRequest::Hourly { .. } => ProductKind::Hourly,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Extras {
    #[serde(default)]
    pub meet_and_greet: bool,
    #[serde(default)]
    pub child_seats: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct QuoteRequest {
    pub city_id: String,
    pub pickup: LatLon,
    pub product: ProductRequest,
    pub pickup_time: PickupTime,
    pub passengers: u32,
    #[serde(default)]
    pub bags: u32,
    #[serde(default)]
    pub extras: Extras,
}

/// What a line of the breakdown is. `quantity` on the line is in the unit named here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum FareLineKind {
    /// Base fare (quantity 1).
    Base,
    /// Road distance (quantity: metres).
    Distance,
    /// Driving time (quantity: seconds).
    Time,
    /// Booked hours of an hourly hire (quantity: hours).
    Hours,
    /// Top-up to the minimum fare (quantity 1).
    MinimumFare,
    /// Airport pickup fee (quantity 1).
    AirportPickup,
    /// Meet & greet (quantity 1).
    MeetAndGreet,
    /// Night surcharge, a percentage of the ride fare (quantity: basis points).
    Night,
    /// Child seats (quantity: seats).
    ChildSeats,
    /// Extra stops (quantity: stops).
    ExtraStops,
    /// Waiting beyond the free waiting time (quantity: charged minutes).
    Waiting,
    /// Kilometres beyond those included in an hourly hire (quantity: km).
    ExtraKm,
    /// Time beyond the booked hours (quantity: charged minutes, whole quarter hours).
    ExtraTime,
    /// Rounding up to the city's step (quantity 1).
    Rounding,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FareLine {
    pub kind: FareLineKind,
    pub quantity: u64,
    pub amount: Money,
}

/// Breakdown lines, stored inline: pricing does not touch the heap (a quote has at most 10
/// lines; a receipt with extras may spill to the heap, which is fine off the hot path).
pub type FareLines = SmallVec<[FareLine; 10]>;

/// A priced fare: its lines sum to `total`, and `net + vat == total`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Fare {
    pub lines: FareLines,
    pub total: Money,
    pub net: Money,
    pub vat: Money,
    pub vat_rate_bp: u32,
}

impl Fare {
    fn from_lines(
        lines: FareLines,
        city_step: i64,
        vat_rate_bp: u32,
        currency: crate::money::Currency,
    ) -> Result<Fare, CoreError> {
        let mut lines = lines;
        let subtotal = sum(currency, lines.iter().map(|l| l.amount))?;
        let total = subtotal.round_up_to_step(city_step)?;
        let rounding = total.checked_sub(subtotal)?;
        if rounding.amount_minor != 0 {
            lines.push(FareLine {
                kind: FareLineKind::Rounding,
                quantity: 1,
                amount: rounding,
            });
        }
        let (net, vat) = total.split_vat(vat_rate_bp)?;
        Ok(Fare {
            lines,
            total,
            net,
            vat,
            vat_rate_bp,
        })
    }

    pub fn line(&self, kind: FareLineKind) -> Option<&FareLine> {
        self.lines.iter().find(|l| l.kind == kind)
    }
}

/// The rates a booking keeps from its quote, so the receipt after the ride uses the tariff the
/// rider agreed to even if the catalog changes in between.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExtrasTariff {
    pub free_waiting_minutes: u32,
    pub waiting_per_minute: i64,
    /// Hourly hires: km included in the booked hours, and the rates beyond them.
    pub included_km: u32,
    pub extra_km: i64,
    pub extra_hour: i64,
    pub rounding_step: i64,
}

/// A quote for one vehicle class.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Quote {
    pub city_id: String,
    pub class: VehicleClass,
    pub product: ProductKind,
    /// Booked hours for hourly hires.
    pub hours: Option<u32>,
    pub passengers: u32,
    pub bags: u32,
    pub pickup: ResolvedPickup,
    pub pickup_place: PickupPlace,
    /// Where the ride starts, and (transfers) ends.
    pub pickup_point: LatLon,
    pub dropoff_point: Option<LatLon>,
    pub route: RouteEstimate,
    pub fare: Fare,
    pub extras_tariff: ExtrasTariff,
    pub catalog_version: String,
    pub quoted_at: DateTime<Utc>,
    pub valid_until: DateTime<Utc>,
}

impl Quote {
    pub fn total(&self) -> Money {
        self.fare.total
    }

    pub fn is_valid_at(&self, now: DateTime<Utc>) -> bool {
        now < self.valid_until
    }
}

/// The priced inputs of one class: what [`price`] needs besides the city.
#[derive(Debug, Clone, Copy)]
pub struct PriceInputs<'a> {
    pub product: &'a ProductRequest,
    pub extras: &'a Extras,
    pub class: VehicleClass,
    pub pickup: &'a ResolvedPickup,
    pub pickup_place: &'a PickupPlace,
    pub route: RouteEstimate,
}

/// Prices one class for already validated inputs. This is the fare engine proper: integer
/// arithmetic only, no allocation, no clock.
pub fn price(city: &City, inputs: &PriceInputs<'_>) -> Result<Fare, CoreError> {
    let offer = city.offer(inputs.class)?;
    let money = |minor: i64| city.money(minor);
    let mut lines = FareLines::new();
    let mut push = |kind, quantity: u64, amount: i64| {
        lines.push(FareLine {
            kind,
            quantity,
            amount: money(amount),
        })
    };
    let ride_fare: i64 = match inputs.product {
        ProductRequest::Transfer { .. } => {
            let t = &offer.transfer;
            let metres = i64::from(inputs.route.distance_m);
            let seconds = i64::from(inputs.route.duration_s);
            let distance = mul_div_ceil(t.per_km, metres, 1000)?;
            let time = mul_div_ceil(t.per_minute, seconds, 60)?;
            push(FareLineKind::Base, 1, t.base);
            push(FareLineKind::Distance, metres as u64, distance);
            push(FareLineKind::Time, seconds as u64, time);
            let metered = t
                .base
                .checked_add(distance)
                .and_then(|m| m.checked_add(time))
                .ok_or(CoreError::AmountOverflow)?;
            if metered < t.minimum {
                push(FareLineKind::MinimumFare, 1, t.minimum - metered);
            }
            metered.max(t.minimum)
        }
        ProductRequest::Hourly { hours } => {
            let amount = to_i64(i128::from(offer.hourly.per_hour) * i128::from(*hours))?;
            push(FareLineKind::Hours, u64::from(*hours), amount);
            amount
        }
    };
    let s = &city.surcharges;
    if matches!(inputs.pickup_place, PickupPlace::Airport { .. }) && s.airport_pickup > 0 {
        push(FareLineKind::AirportPickup, 1, s.airport_pickup);
    }
    if inputs.extras.meet_and_greet && s.meet_and_greet > 0 {
        push(FareLineKind::MeetAndGreet, 1, s.meet_and_greet);
    }
    let local = inputs.pickup.local.time();
    let minute_of_day = local.hour() * 60 + local.minute();
    if s.night.percent_bp > 0 && s.night.window().contains(minute_of_day) {
        let night = money(ride_fare).percent_bp_ceil(s.night.percent_bp)?;
        push(
            FareLineKind::Night,
            u64::from(s.night.percent_bp),
            night.amount_minor,
        );
    }
    if inputs.extras.child_seats > 0 {
        let seats = i64::from(inputs.extras.child_seats);
        push(FareLineKind::ChildSeats, seats as u64, s.child_seat * seats);
    }
    if let ProductRequest::Transfer { stops, .. } = inputs.product {
        if !stops.is_empty() {
            let n = stops.len() as i64;
            push(FareLineKind::ExtraStops, n as u64, s.extra_stop * n);
        }
    }
    Fare::from_lines(lines, city.rounding_step, city.vat_rate_bp, city.currency)
}

/// Checks everything about a request that does not depend on the vehicle class.
fn validate_request(city: &City, request: &QuoteRequest) -> Result<(), CoreError> {
    city.check_in_area(request.pickup, "pickup")?;
    match &request.product {
        ProductRequest::Transfer { dropoff, stops } => {
            city.check_in_area(*dropoff, "dropoff")?;
            if stops.len() > MAX_STOPS {
                return Err(CoreError::request(
                    "stops",
                    format!("at most {MAX_STOPS} stops"),
                ));
            }
            for (i, stop) in stops.iter().enumerate() {
                city.check_in_area(*stop, &format!("stops[{i}]"))?;
            }
        }
        ProductRequest::Hourly { .. } => {}
    }
    if request.passengers == 0 {
        return Err(CoreError::request("passengers", "must be at least 1"));
    }
    if request.extras.child_seats > request.passengers {
        return Err(CoreError::request(
            "extras.child_seats",
            "cannot exceed the number of passengers",
        ));
    }
    Ok(())
}

fn check_class(city: &City, request: &QuoteRequest, class: VehicleClass) -> Result<(), CoreError> {
    let offer = city.offer(class)?;
    if request.passengers > offer.passengers || request.bags > offer.bags {
        return Err(CoreError::CapacityExceeded {
            class: class.to_string(),
            passengers: request.passengers,
            bags: request.bags,
            max_passengers: offer.passengers,
            max_bags: offer.bags,
        });
    }
    if let ProductRequest::Hourly { hours } = request.product {
        let (min, max) = (offer.hourly.min_hours, offer.hourly.max_hours);
        if !(min..=max).contains(&hours) {
            return Err(CoreError::HoursOutOfRange { hours, min, max });
        }
    }
    Ok(())
}

/// Everything a quote needs that is the same for every class.
struct Prepared<'a> {
    city: &'a City,
    pickup: ResolvedPickup,
    pickup_place: PickupPlace,
    route: RouteEstimate,
}

fn prepare<'a>(
    catalog: &'a Catalog,
    router: &dyn Router,
    request: &QuoteRequest,
    now: DateTime<Utc>,
) -> Result<Prepared<'a>, CoreError> {
    let city = catalog.city(&request.city_id)?;
    validate_request(city, request)?;
    let pickup = resolve_pickup(city, &request.pickup_time, now)?;
    let route = match &request.product {
        ProductRequest::Transfer { dropoff, stops } => {
            let mut waypoints: SmallVec<[LatLon; 2 + MAX_STOPS]> = SmallVec::new();
            waypoints.push(request.pickup);
            waypoints.extend(stops.iter().copied());
            waypoints.push(*dropoff);
            router.route(city, &waypoints, pickup.at)?
        }
        ProductRequest::Hourly { .. } => RouteEstimate {
            distance_m: 0,
            duration_s: 0,
        },
    };
    Ok(Prepared {
        city,
        pickup_place: city.pickup_place(request.pickup),
        pickup,
        route,
    })
}

fn quote_prepared(
    catalog: &Catalog,
    prepared: &Prepared<'_>,
    request: &QuoteRequest,
    class: VehicleClass,
    now: DateTime<Utc>,
) -> Result<Quote, CoreError> {
    let city = prepared.city;
    check_class(city, request, class)?;
    let offer = city.offer(class)?;
    let (hours, route, included_km) = match request.product {
        ProductRequest::Hourly { hours } => {
            let included_km = hours * offer.hourly.included_km_per_hour;
            let route = RouteEstimate {
                distance_m: included_km.saturating_mul(1000),
                duration_s: hours.saturating_mul(3600),
            };
            (Some(hours), route, included_km)
        }
        ProductRequest::Transfer { .. } => (None, prepared.route, 0),
    };
    let fare = price(
        city,
        &PriceInputs {
            product: &request.product,
            extras: &request.extras,
            class,
            pickup: &prepared.pickup,
            pickup_place: &prepared.pickup_place,
            route,
        },
    )?;
    Ok(Quote {
        city_id: city.id.clone(),
        class,
        product: request.product.kind(),
        hours,
        passengers: request.passengers,
        bags: request.bags,
        pickup: prepared.pickup,
        pickup_place: prepared.pickup_place.clone(),
        pickup_point: request.pickup,
        dropoff_point: match &request.product {
            ProductRequest::Transfer { dropoff, .. } => Some(*dropoff),
            ProductRequest::Hourly { .. } => None,
        },
        route,
        fare,
        extras_tariff: ExtrasTariff {
            free_waiting_minutes: city.free_waiting_minutes(&prepared.pickup_place),
            waiting_per_minute: offer.transfer.waiting_per_minute,
            included_km,
            extra_km: offer.hourly.extra_km,
            extra_hour: offer.hourly.extra_hour,
            rounding_step: city.rounding_step,
        },
        catalog_version: catalog.version().to_owned(),
        quoted_at: now,
        valid_until: now + Duration::minutes(i64::from(city.quote_validity_minutes)),
    })
}

/// Quotes one class.
pub fn quote(
    catalog: &Catalog,
    router: &dyn Router,
    request: &QuoteRequest,
    class: VehicleClass,
    now: DateTime<Utc>,
) -> Result<Quote, CoreError> {
    let prepared = prepare(catalog, router, request, now)?;
    quote_prepared(catalog, &prepared, request, class, now)
}

/// Quotes every class the city offers that fits the party. If none fits, the error says why
/// for the roomiest class.
pub fn quote_all(
    catalog: &Catalog,
    router: &dyn Router,
    request: &QuoteRequest,
    now: DateTime<Utc>,
) -> Result<Vec<Quote>, CoreError> {
    let prepared = prepare(catalog, router, request, now)?;
    let mut quotes = Vec::new();
    let mut refusal = None;
    for &class in prepared.city.classes.keys() {
        match quote_prepared(catalog, &prepared, request, class, now) {
            Ok(q) => quotes.push(q),
            Err(e @ CoreError::CapacityExceeded { .. }) => refusal = Some(e),
            Err(e) => return Err(e),
        }
    }
    match (quotes.is_empty(), refusal) {
        (true, Some(e)) => Err(e),
        _ => Ok(quotes),
    }
}

/// What the chauffeur declares after the ride.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeclaredExtras {
    /// Minutes the chauffeur waited from the later of pickup time and arrival (transfers).
    #[serde(default)]
    pub waiting_minutes: u32,
    /// Kilometres driven (hourly hires).
    #[serde(default)]
    pub driven_km: u32,
    /// Minutes the hire actually lasted (hourly hires).
    #[serde(default)]
    pub hire_minutes: u32,
}

/// The final fare: the quoted lines, the declared extras, and their own rounding.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Receipt {
    pub quoted_total: Money,
    pub extras_total: Money,
    pub fare: Fare,
}

/// Computes the receipt. Transfers are fixed-price: only waiting beyond the free time counts
/// (km and duration are ignored). Hourly hires: km beyond the included ones and time beyond the
/// booked hours (per started quarter hour); waiting is part of the booked time.
pub fn final_fare(quote: &Quote, declared: &DeclaredExtras) -> Result<Receipt, CoreError> {
    let currency = quote.fare.total.currency;
    let t = &quote.extras_tariff;
    let mut extras = FareLines::new();
    match quote.product {
        ProductKind::Transfer => {
            let charged = declared
                .waiting_minutes
                .saturating_sub(t.free_waiting_minutes);
            if charged > 0 {
                let amount = to_i64(i128::from(t.waiting_per_minute) * i128::from(charged))?;
                extras.push(FareLine {
                    kind: FareLineKind::Waiting,
                    quantity: u64::from(charged),
                    amount: Money::new(amount, currency),
                });
            }
        }
        ProductKind::Hourly => {
            let extra_km = declared.driven_km.saturating_sub(t.included_km);
            if extra_km > 0 {
                let amount = to_i64(i128::from(t.extra_km) * i128::from(extra_km))?;
                extras.push(FareLine {
                    kind: FareLineKind::ExtraKm,
                    quantity: u64::from(extra_km),
                    amount: Money::new(amount, currency),
                });
            }
            let booked_minutes = quote.hours.unwrap_or(0).saturating_mul(60);
            let over = declared.hire_minutes.saturating_sub(booked_minutes);
            if over > 0 {
                let quarters = over.div_ceil(15);
                let amount = to_i64(ceil_div(i128::from(t.extra_hour) * i128::from(quarters), 4))?;
                extras.push(FareLine {
                    kind: FareLineKind::ExtraTime,
                    quantity: u64::from(quarters * 15),
                    amount: Money::new(amount, currency),
                });
            }
        }
    }
    let extras_raw = sum(currency, extras.iter().map(|l| l.amount))?;
    let extras_total = extras_raw.round_up_to_step(t.rounding_step)?;
    let rounding = extras_total.checked_sub(extras_raw)?;
    if rounding.amount_minor != 0 {
        extras.push(FareLine {
            kind: FareLineKind::Rounding,
            quantity: 1,
            amount: rounding,
        });
    }
    let total = quote.fare.total.checked_add(extras_total)?;
    let mut lines = quote.fare.lines.clone();
    lines.extend(extras);
    let (net, vat) = total.split_vat(quote.fare.vat_rate_bp)?;
    Ok(Receipt {
        quoted_total: quote.fare.total,
        extras_total,
        fare: Fare {
            lines,
            total,
            net,
            vat,
            vat_rate_bp: quote.fare.vat_rate_bp,
        },
    })
}
