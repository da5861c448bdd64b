//! The fare engine: one code path for the phone's offline estimate, the server's binding quote
//! and the receipt after the ride. Pure: inputs and a clock in, a priced quote out.
//!
//! Transfer: max(minimum, base + per-km × road km + per-minute × minutes) + surcharges, rounded
//! up to the city's step. Hourly: hours × hourly rate + surcharges, rounded the same way.
//! Every amount is an integer. Lines are computed exactly (in 1/[`EXACT_PER_MINOR`] of a minor
//! unit) and only their sum is rounded, once, up to the city's step; each line is shown rounded
//! down to the minor unit and a rounding line makes the shown lines add up to the total, as
//! net + VAT do.

use chrono::{DateTime, Duration, Timelike, Utc};
use serde::{Deserialize, Serialize};
use smallvec::SmallVec;

use crate::catalog::{Catalog, City, PickupPlace, VehicleClass};
use crate::distance::{LatLon, RouteEstimate, Router};
use crate::error::CoreError;
use crate::money::{round_up, sum, Currency, Money};
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

/// The receipt of a cancellation that costs a fee: one line, the fee, split into net and VAT
/// at the quote's rate. Nothing else of the quote is charged.
pub fn cancellation_receipt(quote: &Quote, fee: Money) -> Result<Receipt, CoreError> {
    let (net, vat) = fee.split_vat(quote.fare.vat_rate_bp)?;
    let mut lines = FareLines::new();
    lines.push(FareLine {
        kind: FareLineKind::CancellationFee,
        quantity: 1,
        amount: fee,
    });
    Ok(Receipt {
        quoted_total: quote.fare.total,
        extras_total: Money::new(0, fee.currency),
        fare: Fare {
            lines,
            total: fee,
            net,
            vat,
            vat_rate_bp: quote.fare.vat_rate_bp,
        },
    })
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
    /// Tolls the chauffeur paid on the rider's behalf, as declared (quantity 1).
    Tolls,
    /// Parking the chauffeur paid on the rider's behalf, as declared (quantity 1).
    Parking,
    /// Rounding up to the city's step (quantity 1).
    Rounding,
    /// The fee of a cancellation inside the fee window (quantity 1).
    CancellationFee,
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
    /// The fare from lines already shown in minor units and their exact sum: the total is the
    /// exact sum rounded up, once, to the city's step; a rounding line makes up the difference
    /// between the shown lines and the total.
    fn from_exact(
        mut lines: FareLines,
        exact: Exact,
        city_step: i64,
        vat_rate_bp: u32,
        currency: Currency,
    ) -> Result<Fare, CoreError> {
        let shown = sum(currency, lines.iter().map(|l| l.amount))?;
        let total = Money::new(round_up(exact.ceil_minor(), city_step)?, currency);
        let rounding = total.checked_sub(shown)?;
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

/// Exact amounts are counted in this fraction of a minor unit: per-km rates are per 1,000 m,
/// per-minute rates per 60 s and the night surcharge is in basis points of the ride fare, so
/// every line is a whole number of these units (3,000 × 10,000).
pub const EXACT_PER_MINOR: i64 = 30_000_000;

/// An amount counted exactly, in 1/[`EXACT_PER_MINOR`] of a minor unit. Fares fit in i64 with
/// a wide margin (up to ~3 × 10^11 minor units); beyond that pricing reports an overflow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
struct Exact(i64);

impl Exact {
    fn minor(amount: i64) -> Result<Exact, CoreError> {
        amount
            .checked_mul(EXACT_PER_MINOR)
            .map(Exact)
            .ok_or(CoreError::AmountOverflow)
    }

    /// `rate × quantity / per`, where `per` divides [`EXACT_PER_MINOR`].
    fn rate(rate: i64, quantity: i64, per: i64) -> Result<Exact, CoreError> {
        rate.checked_mul(quantity)
            .and_then(|q| q.checked_mul(EXACT_PER_MINOR / per))
            .map(Exact)
            .ok_or(CoreError::AmountOverflow)
    }

    /// `self × basis_points / 10 000`, still exact: a ride fare is a multiple of 10,000 units.
    fn percent_bp(self, basis_points: u32) -> Result<Exact, CoreError> {
        (self.0 / 10_000)
            .checked_mul(i64::from(basis_points))
            .map(Exact)
            .ok_or(CoreError::AmountOverflow)
    }

    fn plus(self, other: Exact) -> Result<Exact, CoreError> {
        self.0
            .checked_add(other.0)
            .map(Exact)
            .ok_or(CoreError::AmountOverflow)
    }

    /// Shown on a line: rounded down, so the rounding line is never negative.
    fn floor_minor(self) -> i64 {
        self.0.div_euclid(EXACT_PER_MINOR)
    }

    fn ceil_minor(self) -> i64 {
        -(-self.0).div_euclid(EXACT_PER_MINOR)
    }
}

/// Lines as shown (minor units, rounded down) and their exact sum.
struct ExactLines {
    lines: FareLines,
    exact: Exact,
    currency: Currency,
}

impl ExactLines {
    fn new(currency: Currency) -> ExactLines {
        ExactLines {
            lines: FareLines::new(),
            exact: Exact::default(),
            currency,
        }
    }

    fn push(&mut self, kind: FareLineKind, quantity: u64, amount: Exact) -> Result<(), CoreError> {
        self.exact = self.exact.plus(amount)?;
        self.lines.push(FareLine {
            kind,
            quantity,
            amount: Money::new(amount.floor_minor(), self.currency),
        });
        Ok(())
    }

    /// Adds a line that brings the exact sum up to `target` (a whole minor amount); shown as
    /// what the shown lines lack, so they add up to it.
    fn top_up_to(&mut self, kind: FareLineKind, target: Exact) -> Result<(), CoreError> {
        let shown = sum(self.currency, self.lines.iter().map(|l| l.amount))?;
        let lacking = target.ceil_minor() - shown.amount_minor;
        self.exact = target;
        self.lines.push(FareLine {
            kind,
            quantity: 1,
            amount: Money::new(lacking, self.currency),
        });
        Ok(())
    }
}

/// Prices one class for already validated inputs. This is the fare engine proper: integer
/// arithmetic only, no allocation, no clock.
pub fn price(city: &City, inputs: &PriceInputs<'_>) -> Result<Fare, CoreError> {
    let offer = city.offer(inputs.class)?;
    let mut lines = ExactLines::new(city.currency);
    let ride_fare = match inputs.product {
        ProductRequest::Transfer { .. } => {
            let t = &offer.transfer;
            let metres = i64::from(inputs.route.distance_m);
            let seconds = i64::from(inputs.route.duration_s);
            let base = Exact::minor(t.base)?;
            let distance = Exact::rate(t.per_km, metres, 1000)?;
            let time = Exact::rate(t.per_minute, seconds, 60)?;
            lines.push(FareLineKind::Base, 1, base)?;
            lines.push(FareLineKind::Distance, metres as u64, distance)?;
            lines.push(FareLineKind::Time, seconds as u64, time)?;
            let metered = base.plus(distance)?.plus(time)?;
            let minimum = Exact::minor(t.minimum)?;
            if metered < minimum {
                lines.top_up_to(FareLineKind::MinimumFare, minimum)?;
            }
            metered.max(minimum)
        }
        ProductRequest::Hourly { hours } => {
            let amount = Exact::rate(offer.hourly.per_hour, i64::from(*hours), 1)?;
            lines.push(FareLineKind::Hours, u64::from(*hours), amount)?;
            amount
        }
    };
    let s = &city.surcharges;
    if matches!(inputs.pickup_place, PickupPlace::Airport { .. }) && s.airport_pickup > 0 {
        lines.push(
            FareLineKind::AirportPickup,
            1,
            Exact::minor(s.airport_pickup)?,
        )?;
    }
    if inputs.extras.meet_and_greet && s.meet_and_greet > 0 {
        lines.push(
            FareLineKind::MeetAndGreet,
            1,
            Exact::minor(s.meet_and_greet)?,
        )?;
    }
    let local = inputs.pickup.local.time();
    let minute_of_day = local.hour() * 60 + local.minute();
    if s.night.percent_bp > 0 && s.night.window().contains(minute_of_day) {
        let night = ride_fare.percent_bp(s.night.percent_bp)?;
        lines.push(FareLineKind::Night, u64::from(s.night.percent_bp), night)?;
    }
    if inputs.extras.child_seats > 0 {
        let seats = i64::from(inputs.extras.child_seats);
        lines.push(
            FareLineKind::ChildSeats,
            seats as u64,
            Exact::rate(s.child_seat, seats, 1)?,
        )?;
    }
    if let ProductRequest::Transfer { stops, .. } = inputs.product {
        if !stops.is_empty() {
            let n = stops.len() as i64;
            lines.push(
                FareLineKind::ExtraStops,
                n as u64,
                Exact::rate(s.extra_stop, n, 1)?,
            )?;
        }
    }
    Fare::from_exact(
        lines.lines,
        lines.exact,
        city.rounding_step,
        city.vat_rate_bp,
        city.currency,
    )
}

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

/// What a ride added to its quote, for the receipt. Waiting and the hire's length are measured
/// by the server from the ride's reported times (see `booking::measured_waiting_minutes`);
/// kilometres and costs paid on the rider's behalf are declared by the chauffeur, the costs
/// bounded by [`MAX_DECLARED_COSTS_BP`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeclaredExtras {
    /// Minutes waited from the later of pickup time and arrival until on board (transfers).
    #[serde(default)]
    pub waiting_minutes: u32,
    /// Kilometres driven (hourly hires).
    #[serde(default)]
    pub driven_km: u32,
    /// Minutes the hire actually lasted (hourly hires).
    #[serde(default)]
    pub hire_minutes: u32,
    /// Tolls paid on the rider's behalf, in minor units.
    #[serde(default)]
    pub tolls_minor: i64,
    /// Parking paid on the rider's behalf, in minor units.
    #[serde(default)]
    pub parking_minor: i64,
}

/// Declared costs (tolls and parking together) may add at most this share of the quoted total,
/// in basis points: a bound a chauffeur cannot talk past, shown to the partner and the rider.
pub const MAX_DECLARED_COSTS_BP: u32 = 5_000;

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
    let mut extras = ExactLines::new(currency);
    match quote.product {
        ProductKind::Transfer => {
            let charged = declared
                .waiting_minutes
                .saturating_sub(t.free_waiting_minutes);
            if charged > 0 {
                let amount = Exact::rate(t.waiting_per_minute, i64::from(charged), 1)?;
                extras.push(FareLineKind::Waiting, u64::from(charged), amount)?;
            }
        }
        ProductKind::Hourly => {
            let extra_km = declared.driven_km.saturating_sub(t.included_km);
            if extra_km > 0 {
                let amount = Exact::rate(t.extra_km, i64::from(extra_km), 1)?;
                extras.push(FareLineKind::ExtraKm, u64::from(extra_km), amount)?;
            }
            let booked_minutes = quote.hours.unwrap_or(0).saturating_mul(60);
            let over = declared.hire_minutes.saturating_sub(booked_minutes);
            if over > 0 {
                let quarters = over.div_ceil(15);
                let amount = Exact::rate(t.extra_hour, i64::from(quarters), 4)?;
                extras.push(FareLineKind::ExtraTime, u64::from(quarters * 15), amount)?;
            }
        }
    }
    let costs = declared
        .tolls_minor
        .checked_add(declared.parking_minor)
        .ok_or(CoreError::AmountOverflow)?;
    let max_costs = quote.fare.total.percent_bp_ceil(MAX_DECLARED_COSTS_BP)?;
    if declared.tolls_minor < 0 || declared.parking_minor < 0 || costs > max_costs.amount_minor {
        return Err(CoreError::DeclaredCostsOutOfRange { max: max_costs });
    }
    for (kind, amount) in [
        (FareLineKind::Tolls, declared.tolls_minor),
        (FareLineKind::Parking, declared.parking_minor),
    ] {
        if amount > 0 {
            extras.push(kind, 1, Exact::minor(amount)?)?;
        }
    }
    // The extras are rounded once, on their own: the quoted total stays what the rider agreed.
    let shown = sum(currency, extras.lines.iter().map(|l| l.amount))?;
    let extras_total = Money::new(
        round_up(extras.exact.ceil_minor(), t.rounding_step)?,
        currency,
    );
    let mut extras = extras.lines;
    let rounding = extras_total.checked_sub(shown)?;
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
