//! Place search for riders: by text in a city (`?city=&q=`) or by coordinates (`?lat=&lon=`,
//! which also says which city serves the point). Built-in places always; a geocoder's addresses
//! too when `--geocoder-url` is set. The matching and ranking are the core's
//! (`chauffeur_core::places`); no account needed.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::Json;
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use chauffeur_core::places::{parse_limit, serving_city, PlaceQuery};
use chauffeur_core::wire::PlacesResponse;
use chauffeur_core::{City, LatLon};

use crate::error::{ApiError, Problem};
use crate::state::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(search_places))
}

/// The query string as sent: every value is checked here, so a bad one names its field.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PlacesParams {
    /// City id (e.g. `berlin`): keeps the search to its service area. Without `q` and
    /// coordinates: the city's airports, stations and centre.
    city: Option<String>,
    /// Text to match (at most 100 characters): case- and accent-insensitive, each word the
    /// beginning of a word of the name; ä = a = ae.
    q: Option<String>,
    /// Latitude, with `lon`: the places nearest to this point, and the city serving it.
    #[param(value_type = Option<f64>)]
    lat: Option<String>,
    /// Longitude, with `lat`.
    #[param(value_type = Option<f64>)]
    lon: Option<String>,
    /// Places in the answer, 1 to 50 (default 10).
    #[param(value_type = Option<u32>)]
    limit: Option<String>,
    /// Language of the geocoder's addresses (two letters, e.g. `de`); built-in names do not
    /// change.
    lang: Option<String>,
}

fn invalid(field: &str, reason: &str) -> ApiError {
    ApiError::unprocessable("invalid_request", format!("`{field}` {reason}")).with_field(field)
}

fn coordinate(raw: &str, field: &str, max: f64) -> Result<f64, ApiError> {
    raw.trim()
        .parse::<f64>()
        .ok()
        .filter(|v| v.is_finite() && v.abs() <= max)
        .ok_or_else(|| invalid(field, &format!("must be a number from -{max} to {max}")))
}

fn core_error(e: chauffeur_core::CoreError, field: &str) -> ApiError {
    ApiError::from(e).with_field(field)
}

/// Places by text or by coordinates.
#[utoipa::path(get, path = "/v1/places", tag = "places",
    params(PlacesParams),
    responses(
        (status = 200, description = "Places, best first: airports, stations and city centres before addresses, then by how well the name matches (text) or nearest first (coordinates); `city_id` is the requested city or the one serving the point", body = PlacesResponse),
        (status = 404, description = "No such city (not_found)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A parameter is missing or malformed (invalid_request; invalid_limit for `limit`), or the point lies outside the requested city (outside_service_area); `field` names it", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn search_places(
    State(state): State<AppState>,
    params: Result<Query<PlacesParams>, QueryRejection>,
) -> Result<Json<PlacesResponse>, ApiError> {
    let Query(params) = params.map_err(|e| invalid("query", &e.body_text()))?;
    // The paged lists' code for a bad limit, though this one's range is 1 to 50.
    let limit = parse_limit(params.limit.as_deref(), "limit")
        .map_err(|e| ApiError::unprocessable("invalid_limit", e.to_string()).with_field("limit"))?;
    let lang = match params.lang.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(l) if (2..=3).contains(&l.len()) && l.chars().all(|c| c.is_ascii_lowercase()) => {
            Some(l)
        }
        Some(_) => return Err(invalid("lang", "must be a two-letter language code")),
    };
    let city: Option<&City> = match params.city.as_deref() {
        None => None,
        Some(id) => Some(
            state
                .catalog
                .city(id.trim())
                .map_err(|_| ApiError::not_found("city").with_field("city"))?,
        ),
    };
    let text = params.q.as_deref().filter(|t| !t.trim().is_empty());
    let point = match (params.lat.as_deref(), params.lon.as_deref()) {
        (Some(lat), Some(lon)) => Some(LatLon {
            lat: coordinate(lat, "lat", 90.0)?,
            lon: coordinate(lon, "lon", 180.0)?,
        }),
        (Some(_), None) => return Err(invalid("lon", "is required with `lat`")),
        (None, Some(_)) => return Err(invalid("lat", "is required with `lon`")),
        (None, None) => None,
    };
    let geocoder = state.geocoder.as_deref();
    let catalog = state.catalog.as_ref();

    if let Some(point) = point {
        if text.is_some() {
            return Err(invalid("q", "cannot be combined with `lat` and `lon`"));
        }
        if let Some(city) = city {
            city.check_in_area(point, "lat")
                .map_err(|e| core_error(e, "lat"))?;
        }
        let serving = city.or_else(|| serving_city(catalog, point));
        let found = match (geocoder, serving) {
            (Some(g), Some(_)) => g.reverse(catalog, serving, point, lang).await,
            _ => Vec::new(),
        };
        return Ok(Json(PlacesResponse {
            places: state.places.nearest(point, serving, &found, limit),
            city_id: serving.map(|c| c.id.clone()),
            next_cursor: None,
        }));
    }

    let query = text
        .map(|t| PlaceQuery::parse(t, "q"))
        .transpose()
        .map_err(|e| core_error(e, "q"))?;
    if query.is_none() && city.is_none() {
        return Err(invalid(
            "q",
            "is required: give `q`, `city`, or `lat` and `lon`",
        ));
    }
    let found = match (geocoder, &query) {
        (Some(g), Some(q)) => g.search(catalog, city, q.text(), lang, limit).await,
        _ => Vec::new(),
    };
    Ok(Json(PlacesResponse {
        places: state.places.search(city, query.as_ref(), &found, limit),
        city_id: city.map(|c| c.id.clone()),
        next_cursor: None,
    }))
}
