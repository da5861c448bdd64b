//! Operators' partner management: list and register partners, their members and vehicles.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::error::{ApiError, Problem};
use crate::http::extract::{ApiJson, IdPath, Operator};
use crate::http::paging::{PageParams, Paging};
use crate::state::AppState;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(operator_partners, operator_create_partner))
        .routes(routes!(operator_partner_members, operator_add_member))
        .routes(routes!(operator_partner_vehicles, operator_add_vehicle))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPartnerRequest {
    pub name: String,
    /// Catalog city ids.
    pub cities: Vec<String>,
    /// business, first, van.
    pub classes: Vec<String>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewMemberRequest {
    pub email: String,
    pub password: String,
    pub name: String,
    /// partner (a dispatcher) or chauffeur.
    pub role: String,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewVehicleRequest {
    pub class: String,
    pub plate: String,
    pub seats: i64,
    pub bags: i64,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CreatedId {
    pub id: Uuid,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PartnerSummaryView {
    pub id: Uuid,
    pub name: String,
    pub active: bool,
    pub cities: Vec<String>,
    pub classes: Vec<String>,
    pub members: i64,
    pub vehicles: i64,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PartnerList {
    pub partners: Vec<PartnerSummaryView>,
    /// Pass as `?cursor=` for the next page; none on the last page.
    pub next_cursor: Option<String>,
}

/// All partners, by name.
#[utoipa::path(get, path = "/v1/operator/partners", tag = "operators", security(("bearer" = [])),
    params(PageParams),
    responses(
        (status = 200, body = PartnerList),
        (status = 401, description = "No valid bearer token (unauthenticated)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an operator account (not_an_operator)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A limit out of 1–200 (invalid_limit) or a cursor this list did not give out (invalid_cursor)", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Storage busy or unreachable, or the request timed out; retry (Retry-After)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn operator_partners(
    State(state): State<AppState>,
    _op: Operator,
    paging: Paging,
) -> Result<Json<PartnerList>, ApiError> {
    // Partners are limousine companies: hundreds, not millions; paged in memory.
    let mut partners = state.store.partners().await?;
    partners.sort_by(|a, b| (&a.name, a.id).cmp(&(&b.name, b.id)));
    let (partners, next_cursor) = paging.in_memory(partners, |p| (p.name.clone(), p.id), false)?;
    Ok(Json(PartnerList {
        partners: partners
            .into_iter()
            .map(|p| PartnerSummaryView {
                id: p.id,
                name: p.name,
                active: p.active,
                cities: p.cities,
                classes: p.classes,
                members: p.members,
                vehicles: p.vehicles,
            })
            .collect(),
        next_cursor,
    }))
}

/// Register a partner.
#[utoipa::path(post, path = "/v1/operator/partners", tag = "operators", security(("bearer" = [])),
    request_body = NewPartnerRequest,
    responses(
        (status = 201, body = CreatedId),
        (status = 400, description = "Malformed JSON body (malformed_body)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid bearer token (unauthenticated)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an operator account (not_an_operator)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "A partner of that name exists", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large (body_too_large)", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Body not sent as application/json (unsupported_media_type)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Unknown city or class, or invalid body", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Storage busy or unreachable, or the request timed out; retry (Retry-After)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn operator_create_partner(
    State(state): State<AppState>,
    _op: Operator,
    ApiJson(body): ApiJson<NewPartnerRequest>,
) -> Result<(StatusCode, Json<CreatedId>), ApiError> {
    let id = crate::partners::create_partner(
        &state.store,
        &state.catalog,
        &body.name,
        &body.cities,
        &body.classes,
        state.now(),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(CreatedId { id })))
}

/// Create a dispatcher or chauffeur account of a partner.
#[utoipa::path(post, path = "/v1/operator/partners/{id}/members", tag = "operators", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Partner id")),
    request_body = NewMemberRequest,
    responses(
        (status = 201, body = CreatedId),
        (status = 400, description = "Malformed JSON body (malformed_body)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid bearer token (unauthenticated)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an operator account (not_an_operator)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such partner, or not yours (not_found)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "E-mail already registered (email_taken)", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large (body_too_large)", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Body not sent as application/json (unsupported_media_type)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid e-mail, password, role or body", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Storage busy or unreachable, or the request timed out; retry (Retry-After)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn operator_add_member(
    State(state): State<AppState>,
    _op: Operator,
    IdPath(id): IdPath,
    ApiJson(body): ApiJson<NewMemberRequest>,
) -> Result<(StatusCode, Json<CreatedId>), ApiError> {
    let id = crate::partners::add_member(
        &state.store,
        &state.hashing,
        id,
        &body.email,
        &body.password,
        &body.name,
        &body.role,
        state.now(),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(CreatedId { id })))
}

/// Register a vehicle of a partner.
#[utoipa::path(post, path = "/v1/operator/partners/{id}/vehicles", tag = "operators", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Partner id")),
    request_body = NewVehicleRequest,
    responses(
        (status = 201, body = CreatedId),
        (status = 400, description = "Malformed JSON body (malformed_body)", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid bearer token (unauthenticated)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an operator account (not_an_operator)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such partner, or not yours (not_found)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "A vehicle with this plate exists", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large (body_too_large)", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Body not sent as application/json (unsupported_media_type)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Unknown class, or invalid seats, bags or body", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Storage busy or unreachable, or the request timed out; retry (Retry-After)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn operator_add_vehicle(
    State(state): State<AppState>,
    _op: Operator,
    IdPath(id): IdPath,
    ApiJson(body): ApiJson<NewVehicleRequest>,
) -> Result<(StatusCode, Json<CreatedId>), ApiError> {
    let id = crate::partners::add_vehicle(
        &state.store,
        id,
        &body.class,
        &body.plate,
        body.seats,
        body.bags,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(CreatedId { id })))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MemberView {
    pub id: Uuid,
    pub name: Option<String>,
    pub email: String,
    /// partner (a dispatcher) or chauffeur.
    pub role: chauffeur_core::wire::Role,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MemberList {
    pub members: Vec<MemberView>,
    /// Pass as `?cursor=` for the next page; none on the last page.
    pub next_cursor: Option<String>,
}

/// A partner the operator asks about; 404 if there is none.
async fn known_partner(state: &AppState, id: Uuid) -> Result<(), ApiError> {
    if state.store.partners().await?.iter().any(|p| p.id == id) {
        Ok(())
    } else {
        Err(ApiError::not_found("partner"))
    }
}

/// A partner's accounts: its dispatchers and chauffeurs.
#[utoipa::path(get, path = "/v1/operator/partners/{id}/members", tag = "operators", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Partner id"), PageParams),
    responses(
        (status = 200, body = MemberList),
        (status = 401, description = "No valid bearer token (unauthenticated)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an operator account (not_an_operator)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such partner (not_found)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A limit out of 1–200 (invalid_limit) or a cursor this list did not give out (invalid_cursor)", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Storage busy or unreachable, or the request timed out; retry (Retry-After)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn operator_partner_members(
    State(state): State<AppState>,
    _op: Operator,
    IdPath(id): IdPath,
    paging: Paging,
) -> Result<Json<MemberList>, ApiError> {
    known_partner(&state, id).await?;
    let mut members = state.store.partner_members(id).await?;
    members.sort_by_key(|m| m.id);
    let (members, next_cursor) = paging.in_memory(members, |m| m.id, false)?;
    Ok(Json(MemberList {
        members: members
            .into_iter()
            .map(|m| MemberView {
                id: m.id,
                name: m.name,
                email: m.email,
                role: m.role,
            })
            .collect(),
        next_cursor,
    }))
}

/// A partner's vehicles.
#[utoipa::path(get, path = "/v1/operator/partners/{id}/vehicles", tag = "operators", security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "Partner id"), PageParams),
    responses(
        (status = 200, body = crate::http::partner::VehicleList),
        (status = 401, description = "No valid bearer token (unauthenticated)", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not an operator account (not_an_operator)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such partner (not_found)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A limit out of 1–200 (invalid_limit) or a cursor this list did not give out (invalid_cursor)", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Storage busy or unreachable, or the request timed out; retry (Retry-After)", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn operator_partner_vehicles(
    State(state): State<AppState>,
    _op: Operator,
    IdPath(id): IdPath,
    paging: Paging,
) -> Result<Json<crate::http::partner::VehicleList>, ApiError> {
    known_partner(&state, id).await?;
    crate::http::partner::vehicle_list(&state, id, &paging).await
}
