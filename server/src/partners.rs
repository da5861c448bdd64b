//! Managing partners, shared by the operator API and `chauffeur-server partner …`: the same
//! checks whichever way an operator works.

use chauffeur_core::{Catalog, VehicleClass};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::auth::{self, PasswordHashing};
use crate::error::ApiError;
use crate::store::{NewUser, Role, Store, StoreError};

fn class(name: &str) -> Result<VehicleClass, ApiError> {
    VehicleClass::parse(name.trim()).ok_or_else(|| {
        ApiError::unprocessable(
            "unknown_class",
            format!("unknown vehicle class {name:?} (business, first, van)"),
        )
    })
}

/// Creates a partner serving catalog cities with vehicle classes.
pub async fn create_partner(
    store: &Store,
    catalog: &Catalog,
    name: &str,
    cities: &[String],
    classes: &[String],
    now: DateTime<Utc>,
) -> Result<Uuid, ApiError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(ApiError::unprocessable(
            "invalid_body",
            "a partner needs a name of 1 to 200 characters",
        ));
    }
    if cities.is_empty() || classes.is_empty() {
        return Err(ApiError::unprocessable(
            "invalid_body",
            "a partner serves at least one city and one class",
        ));
    }
    for city in cities {
        catalog.city(city).map_err(|_| {
            ApiError::unprocessable("unknown_city", format!("unknown city {city:?}"))
        })?;
    }
    let mut parsed = classes
        .iter()
        .map(|c| class(c))
        .collect::<Result<Vec<_>, _>>()?;
    parsed.sort();
    parsed.dedup();
    let mut cities = cities.to_vec();
    cities.sort();
    cities.dedup();
    Ok(store.create_partner(name, &cities, &parsed, now).await?)
}

/// Creates a dispatcher (role partner) or chauffeur account of a partner.
#[allow(clippy::too_many_arguments)] // one per field of the new account
pub async fn add_member(
    store: &Store,
    hashing: &PasswordHashing,
    partner_id: Uuid,
    email: &str,
    password: &str,
    name: &str,
    role: &str,
    now: DateTime<Utc>,
) -> Result<Uuid, ApiError> {
    let role = match role.trim() {
        "partner" => Role::Partner,
        "chauffeur" => Role::Chauffeur,
        other => {
            return Err(ApiError::unprocessable(
                "invalid_role",
                format!("role is partner or chauffeur, not {other:?}"),
            ))
        }
    };
    if !store.partners().await?.iter().any(|p| p.id == partner_id) {
        return Err(ApiError::not_found("partner"));
    }
    let email = auth::normalise_email(email)?;
    auth::check_new_password(password)?;
    let hash = hashing.hash(password).await?;
    let user = store
        .create_user(
            &NewUser {
                email: &email,
                password_hash: &hash,
                role,
                name: Some(name.trim()),
                phone: None,
            },
            now,
        )
        .await
        .map_err(|e| match e {
            StoreError::Conflict(_) => {
                ApiError::conflict("email_taken", "an account with this e-mail already exists")
            }
            other => other.into(),
        })?;
    store.add_partner_member(user.id, partner_id).await?;
    Ok(user.id)
}

/// Registers a vehicle of a partner.
pub async fn add_vehicle(
    store: &Store,
    partner_id: Uuid,
    class_name: &str,
    plate: &str,
    seats: i64,
    bags: i64,
) -> Result<Uuid, ApiError> {
    let plate = plate.trim();
    if plate.is_empty()
        || plate.len() > 20
        || !(1..=60).contains(&seats)
        || !(0..=60).contains(&bags)
    {
        return Err(ApiError::unprocessable(
            "invalid_body",
            "give a plate (1 to 20 characters), 1 to 60 seats and 0 to 60 bags",
        ));
    }
    if !store.partners().await?.iter().any(|p| p.id == partner_id) {
        return Err(ApiError::not_found("partner"));
    }
    store
        .add_vehicle(partner_id, class(class_name)?, plate, seats, bags)
        .await
        .map_err(|e| match e {
            StoreError::Conflict(_) => ApiError::conflict(
                "plate_taken",
                "a vehicle with this plate is registered already",
            ),
            other => other.into(),
        })
}
