use async_nats::jetstream;
use proto::inventory::{
    inventory_server::Inventory, Availability, AvailabilityRequest, ReleaseSeatsRequest, ReleaseSeatsResponse,
    ReserveSeatsRequest, Reservation,
};
use sqlx::PgPool;
use tonic::{Request, Response, Status};
use uuid::Uuid;

use crate::events::SeatsReleased;

pub struct InventoryService {
    pub pool: PgPool,
    pub js: jetstream::Context,
}

fn parse_uuid(s: &str, field: &str) -> Result<Uuid, Status> {
    s.parse().map_err(|_| Status::invalid_argument(format!("{field} is not a uuid")))
}

trait SqlxStatus<T> {
    fn or_internal(self) -> Result<T, Status>;
}

impl<T> SqlxStatus<T> for Result<T, sqlx::Error> {
    fn or_internal(self) -> Result<T, Status> {
        self.map_err(|e| Status::internal(e.to_string()))
    }
}

#[tonic::async_trait]
impl Inventory for InventoryService {
    async fn reserve_seats(&self, req: Request<ReserveSeatsRequest>) -> Result<Response<Reservation>, Status> {
        let req = req.into_inner();
        let trip_id = parse_uuid(&req.trip_id, "trip_id")?;
        let booking_id = parse_uuid(&req.booking_id, "booking_id")?;

        let mut tx = self.pool.begin().await.or_internal()?;
        let free: i64 = sqlx::query_scalar("SELECT free FROM trip_availability WHERE trip_id = $1 FOR UPDATE")
            .bind(trip_id)
            .fetch_one(&mut *tx)
            .await
            .or_internal()?;
        if free < i64::from(req.seats) {
            return Err(Status::failed_precondition("not enough seats"));
        }
        let id: Uuid = sqlx::query_scalar(
            "INSERT INTO reservations (id, trip_id, booking_id, seats) VALUES ($1, $2, $3, $4)
             ON CONFLICT (trip_id, booking_id) DO UPDATE SET seats = EXCLUDED.seats
             RETURNING id",
        )
        .bind(Uuid::new_v4())
        .bind(trip_id)
        .bind(booking_id)
        .bind(req.seats as i32)
        .fetch_one(&mut *tx)
        .await
        .or_internal()?;
        tx.commit().await.or_internal()?;

        Ok(Response::new(Reservation { reservation_id: id.to_string(), status: "held".into() }))
    }

    async fn release_seats(&self, req: Request<ReleaseSeatsRequest>) -> Result<Response<ReleaseSeatsResponse>, Status> {
        let id = parse_uuid(&req.get_ref().reservation_id, "reservation_id")?;

        let released = sqlx::query_as::<_, (Uuid, i32)>(
            "UPDATE reservations SET status = 'released' WHERE id = $1 AND status = 'held' RETURNING trip_id, seats",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await
        .or_internal()?;

        if let Some((trip_id, seats)) = released {
            let evt = SeatsReleased { reservation_id: id, trip_id, seats };
            let body = serde_json::to_vec(&evt).map_err(|e| Status::internal(e.to_string()))?;
            self.js
                .publish(common::subjects::SEATS_RELEASED, body.into())
                .await
                .map_err(|e| Status::unavailable(e.to_string()))?;
        }
        Ok(Response::new(ReleaseSeatsResponse {}))
    }

    async fn get_availability(&self, req: Request<AvailabilityRequest>) -> Result<Response<Availability>, Status> {
        let trip_id = parse_uuid(&req.into_inner().trip_id, "trip_id")?;
        let free: i64 = sqlx::query_scalar("SELECT free FROM trip_availability WHERE trip_id = $1")
            .bind(trip_id)
            .fetch_one(&self.pool)
            .await
            .or_internal()?;
        Ok(Response::new(Availability { free: free.max(0) as u32 }))
    }
}
