//! Reading the booking history for the archive export, a page at a time.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::rows::HistoryRow;
use super::{HistoryEntry, Store, StoreError};

#[derive(sqlx::FromRow)]
pub struct ArchiveRow {
    id: i64,
    booking_id: Uuid,
    #[sqlx(flatten)]
    entry: HistoryRow,
    rider_id: Uuid,
    rider_name: Option<String>,
    rider_email: String,
    rider_erased_at: Option<DateTime<Utc>>,
    passenger_name: Option<String>,
    passenger_phone: Option<String>,
    flight_number: Option<String>,
}

/// One version of one booking, with who booked it as they are on record now.
#[derive(Debug, Clone, PartialEq)]
pub struct ArchivedVersion {
    /// The history entry's id: the export's position, to continue after.
    pub position: i64,
    pub booking_id: Uuid,
    pub entry: HistoryEntry,
    pub rider_id: Uuid,
    /// None once the rider erased their account.
    pub rider_name: Option<String>,
    pub rider_email: Option<String>,
    pub rider_erased_at: Option<DateTime<Utc>>,
    pub passenger_name: Option<String>,
    pub passenger_phone: Option<String>,
    pub flight_number: Option<String>,
}

impl TryFrom<ArchiveRow> for ArchivedVersion {
    type Error = StoreError;

    fn try_from(row: ArchiveRow) -> Result<ArchivedVersion, StoreError> {
        let erased = row.rider_erased_at.is_some();
        Ok(ArchivedVersion {
            position: row.id,
            booking_id: row.booking_id,
            entry: row.entry.try_into()?,
            rider_id: row.rider_id,
            rider_name: if erased { None } else { row.rider_name },
            // An erased account keeps a placeholder address; it is nobody's.
            rider_email: (!erased).then_some(row.rider_email),
            rider_erased_at: row.rider_erased_at,
            passenger_name: row.passenger_name,
            passenger_phone: row.passenger_phone,
            flight_number: row.flight_number,
        })
    }
}

impl Store {
    /// Up to `limit` versions written in `[from, to)` after position `after`, oldest first.
    pub async fn archive_page(
        &self,
        after: i64,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        limit: i64,
    ) -> Result<Vec<ArchivedVersion>, StoreError> {
        let rows = read!(self, archive::history_page(after, from, to, limit))?;
        rows.into_iter().map(ArchivedVersion::try_from).collect()
    }
}
