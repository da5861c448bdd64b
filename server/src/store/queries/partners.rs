//! Partners, their member accounts and vehicles, and what dispatch needs to rank them.

use chauffeur_core::catalog::VehicleClass;
use chauffeur_core::dispatch::PartnerRecord;
use chrono::{DateTime, Utc};
use sqlx::Pool;
use uuid::Uuid;

use super::{Db, BEGIN_WRITE};
use crate::store::rows::{
    ChauffeurAccountRow, EligiblePartnerRow, GiveBackRow, PartnerListRow, VehicleRow,
};
use crate::store::{
    is_unique_violation, ChauffeurAccount, GiveBack, PartnerSummary, StoreError, Vehicle,
};

pub async fn create_partner(
    pool: &Pool<Db>,
    name: &str,
    cities: &[String],
    classes: &[VehicleClass],
    now: DateTime<Utc>,
) -> Result<Uuid, StoreError> {
    let id = Uuid::now_v7();
    let mut tx = pool.begin_with(BEGIN_WRITE).await?;
    sqlx::query::<Db>(
        "INSERT INTO partners (id, name, active, created_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(id)
    .bind(name)
    .bind(true)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    for city in cities {
        sqlx::query::<Db>("INSERT INTO partner_cities (partner_id, city_id) VALUES ($1, $2)")
            .bind(id)
            .bind(city)
            .execute(&mut *tx)
            .await?;
    }
    for class in classes {
        sqlx::query::<Db>(
            "INSERT INTO partner_classes (partner_id, vehicle_class) VALUES ($1, $2)",
        )
        .bind(id)
        .bind(class.as_str())
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(id)
}

pub async fn add_partner_member(
    pool: &Pool<Db>,
    user_id: Uuid,
    partner_id: Uuid,
) -> Result<(), StoreError> {
    let result =
        sqlx::query::<Db>("INSERT INTO partner_members (user_id, partner_id) VALUES ($1, $2)")
            .bind(user_id)
            .bind(partner_id)
            .execute(pool)
            .await;
    match result {
        Err(e) if is_unique_violation(&e) => Err(StoreError::Conflict("membership")),
        Err(e) => Err(e.into()),
        Ok(_) => Ok(()),
    }
}

pub async fn add_vehicle(
    pool: &Pool<Db>,
    partner_id: Uuid,
    class: VehicleClass,
    plate: &str,
    seats: i64,
    bags: i64,
) -> Result<Uuid, StoreError> {
    let id = Uuid::now_v7();
    let result = sqlx::query::<Db>(
        "INSERT INTO vehicles (id, partner_id, vehicle_class, plate, seats, bags, active) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(id)
    .bind(partner_id)
    .bind(class.as_str())
    .bind(plate)
    .bind(seats)
    .bind(bags)
    .bind(true)
    .execute(pool)
    .await;
    match result {
        Err(e) if is_unique_violation(&e) => Err(StoreError::Conflict("vehicle plate")),
        Err(e) => Err(e.into()),
        Ok(_) => Ok(id),
    }
}

pub async fn partner_of(pool: &Pool<Db>, user_id: Uuid) -> Result<Option<Uuid>, StoreError> {
    let partner =
        sqlx::query_scalar::<Db, Uuid>("SELECT partner_id FROM partner_members WHERE user_id = $1")
            .bind(user_id)
            .fetch_optional(pool)
            .await?;
    Ok(partner)
}

pub async fn partners(pool: &Pool<Db>) -> Result<Vec<PartnerSummary>, StoreError> {
    let rows = sqlx::query_as::<Db, PartnerListRow>(
        "SELECT p.id, p.name, p.active, \
         (SELECT COUNT(*) FROM partner_members m WHERE m.partner_id = p.id) AS members, \
         (SELECT COUNT(*) FROM vehicles v WHERE v.partner_id = p.id) AS vehicles \
         FROM partners p ORDER BY p.name, p.id",
    )
    .fetch_all(pool)
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let cities = sqlx::query_scalar::<Db, String>(
            "SELECT city_id FROM partner_cities WHERE partner_id = $1 ORDER BY city_id",
        )
        .bind(row.id)
        .fetch_all(pool)
        .await?;
        let classes = sqlx::query_scalar::<Db, String>(
            "SELECT vehicle_class FROM partner_classes WHERE partner_id = $1 \
             ORDER BY vehicle_class",
        )
        .bind(row.id)
        .fetch_all(pool)
        .await?;
        out.push(PartnerSummary {
            id: row.id,
            name: row.name,
            active: row.active,
            cities,
            classes,
            members: row.members,
            vehicles: row.vehicles,
        });
    }
    Ok(out)
}

/// Active partners serving the city and class with a vehicle big enough, with their
/// offer record for ranking.
pub async fn eligible_partners(
    pool: &Pool<Db>,
    city_id: &str,
    class: VehicleClass,
    passengers: i64,
    bags: i64,
    give_backs_since: DateTime<Utc>,
) -> Result<Vec<(Uuid, PartnerRecord)>, StoreError> {
    let rows = sqlx::query_as::<Db, EligiblePartnerRow>(
        "SELECT p.id, \
         (SELECT COUNT(*) FROM offers o WHERE o.partner_id = p.id \
            AND o.state IN ('accepted', 'declined', 'expired')) AS offers, \
         (SELECT COUNT(*) FROM offers o WHERE o.partner_id = p.id \
            AND o.state = 'accepted') AS accepts, \
         (SELECT COUNT(*) FROM offers o WHERE o.partner_id = p.id \
            AND o.state = 'declined') AS declines, \
         (SELECT COUNT(*) FROM give_backs g WHERE g.partner_id = p.id AND g.at > $6) AS give_backs \
         FROM partners p \
         WHERE p.active = $1 \
         AND EXISTS (SELECT 1 FROM partner_cities c WHERE c.partner_id = p.id AND c.city_id = $2) \
         AND EXISTS (SELECT 1 FROM partner_classes k WHERE k.partner_id = p.id \
            AND k.vehicle_class = $3) \
         AND EXISTS (SELECT 1 FROM vehicles v WHERE v.partner_id = p.id AND v.active = $1 \
            AND v.vehicle_class = $3 AND v.seats >= $4 AND v.bags >= $5)",
    )
    .bind(true)
    .bind(city_id)
    .bind(class.as_str())
    .bind(passengers)
    .bind(bags)
    .bind(give_backs_since)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(<(Uuid, PartnerRecord)>::from)
        .collect())
}

/// Whether `user_id` is a chauffeur account of this partner.
pub async fn is_partner_chauffeur(
    pool: &Pool<Db>,
    partner_id: Uuid,
    user_id: Uuid,
) -> Result<bool, StoreError> {
    let row = sqlx::query::<Db>(
        "SELECT 1 FROM partner_members m JOIN users u ON u.id = m.user_id \
         WHERE m.partner_id = $1 AND m.user_id = $2 AND u.role = 'chauffeur' \
         AND u.erased_at IS NULL",
    )
    .bind(partner_id)
    .bind(user_id)
    .fetch_optional(pool)
    .await?;
    Ok(row.is_some())
}

/// A vehicle of this partner.
pub async fn vehicle_of(
    pool: &Pool<Db>,
    partner_id: Uuid,
    vehicle_id: Uuid,
) -> Result<Option<Vehicle>, StoreError> {
    let row = sqlx::query_as::<Db, VehicleRow>(
        "SELECT id, vehicle_class, plate, seats, bags, active FROM vehicles \
         WHERE id = $1 AND partner_id = $2",
    )
    .bind(vehicle_id)
    .bind(partner_id)
    .fetch_optional(pool)
    .await?;
    row.map(Vehicle::try_from).transpose()
}

/// Who gave this booking back, and when.
pub async fn give_backs_of(pool: &Pool<Db>, booking_id: Uuid) -> Result<Vec<GiveBack>, StoreError> {
    let rows = sqlx::query_as::<Db, GiveBackRow>(
        "SELECT partner_id, at FROM give_backs WHERE booking_id = $1 ORDER BY at",
    )
    .bind(booking_id)
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(GiveBack::from).collect())
}

/// The chauffeur accounts of a partner, by name.
pub async fn partner_chauffeurs(
    pool: &Pool<Db>,
    partner_id: Uuid,
) -> Result<Vec<ChauffeurAccount>, StoreError> {
    let rows = sqlx::query_as::<Db, ChauffeurAccountRow>(
        "SELECT u.id, u.name, u.email FROM partner_members m JOIN users u ON u.id = m.user_id \
         WHERE m.partner_id = $1 AND u.role = 'chauffeur' AND u.erased_at IS NULL \
         ORDER BY u.name, u.id",
    )
    .bind(partner_id)
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(ChauffeurAccount::from).collect())
}

/// The vehicles of a partner, by plate.
pub async fn partner_vehicles(
    pool: &Pool<Db>,
    partner_id: Uuid,
) -> Result<Vec<Vehicle>, StoreError> {
    let rows = sqlx::query_as::<Db, VehicleRow>(
        "SELECT id, vehicle_class, plate, seats, bags, active FROM vehicles \
         WHERE partner_id = $1 ORDER BY plate",
    )
    .bind(partner_id)
    .fetch_all(pool)
    .await?;
    rows.into_iter().map(Vehicle::try_from).collect()
}

/// Every account of a partner (dispatchers and chauffeurs), by role and name.
pub async fn partner_members(
    pool: &Pool<Db>,
    partner_id: Uuid,
) -> Result<Vec<(Uuid, Option<String>, String, String)>, StoreError> {
    Ok(
        sqlx::query_as::<Db, (Uuid, Option<String>, String, String)>(
            "SELECT u.id, u.name, u.email, u.role FROM partner_members m \
         JOIN users u ON u.id = m.user_id \
         WHERE m.partner_id = $1 AND u.erased_at IS NULL ORDER BY u.role, u.name, u.id",
        )
        .bind(partner_id)
        .fetch_all(pool)
        .await?,
    )
}
