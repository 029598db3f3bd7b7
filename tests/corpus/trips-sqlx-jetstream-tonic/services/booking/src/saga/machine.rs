//! Booking saga as an explicit state machine. Each call to `step` performs one transition and
//! persists it to `saga_log`, so a crashed saga can be resumed from its last state.

use std::sync::Arc;

use rust_decimal::Decimal;
use serde_json::json;
use uuid::Uuid;

use crate::{
    error::BookingError,
    receipt,
    repo::{async_trait_free::BookingRepo, log_state, PgBookings},
    AppState,
};

#[derive(Debug, Clone, PartialEq)]
enum State {
    Started,
    SeatsReserved { reservation_id: String },
    Charged { reservation_id: String, payment_id: Uuid },
    Compensating { reservation_id: Option<String>, payment_id: Option<Uuid>, reason: String },
    Confirmed,
    Failed(String),
}

pub struct BookingSaga {
    booking_id: Uuid,
    app: Arc<AppState>,
    state: State,
}

impl BookingSaga {
    pub fn new(booking_id: Uuid, app: Arc<AppState>) -> Self {
        Self { booking_id, app, state: State::Started }
    }

    fn is_terminal(&self) -> bool {
        matches!(self.state, State::Confirmed | State::Failed(_))
    }

    pub async fn run(&mut self) -> Result<(), BookingError> {
        while !self.is_terminal() {
            self.step().await?;
            log_state(&self.app.db, self.booking_id, &format!("{:?}", self.state), json!({})).await?;
        }
        match &self.state {
            State::Failed(reason) => Err(BookingError::Declined(reason.clone())),
            _ => Ok(()),
        }
    }

    async fn step(&mut self) -> Result<(), BookingError> {
        let next = match std::mem::replace(&mut self.state, State::Started) {
            State::Started => self.reserve().await,
            State::SeatsReserved { reservation_id } => self.charge(reservation_id).await,
            State::Charged { reservation_id, payment_id } => self.confirm(reservation_id, payment_id).await,
            State::Compensating { reservation_id, payment_id, reason } => {
                self.compensate(reservation_id, payment_id, reason).await?
            }
            s @ (State::Confirmed | State::Failed(_)) => s,
        };
        self.state = next;
        Ok(())
    }

    async fn reserve(&mut self) -> State {
        let booking = match self.load().await {
            Ok(b) => b,
            Err(e) => return State::Failed(e.to_string()),
        };
        match self
            .app
            .inventory
            .reserve_seats(booking.trip_id, booking.seats as u32, booking.id)
            .await
        {
            Ok(reservation_id) => State::SeatsReserved { reservation_id },
            Err(status) => State::Failed(format!("no seats: {}", status.message())),
        }
    }

    async fn charge(&mut self, reservation_id: String) -> State {
        let booking = match self.load().await {
            Ok(b) => b,
            Err(e) => {
                return State::Compensating { reservation_id: Some(reservation_id), payment_id: None, reason: e.to_string() }
            }
        };
        let amount = Decimal::new(booking.total_minor, 2);
        match self.app.payments.charge(booking.id, amount, &booking.currency).await {
            Ok(resp) if resp.status == "captured" => State::Charged { reservation_id, payment_id: resp.payment_id },
            Ok(resp) => State::Compensating {
                reservation_id: Some(reservation_id),
                payment_id: None,
                reason: format!("payment {}", resp.status),
            },
            Err(e) => State::Compensating { reservation_id: Some(reservation_id), payment_id: None, reason: e.to_string() },
        }
    }

    async fn confirm(&mut self, reservation_id: String, payment_id: Uuid) -> State {
        let result: Result<(), BookingError> = async {
            let mut repo = PgBookings::begin(&self.app.db).await?;
            let booking = repo.find(self.booking_id).await?.ok_or(BookingError::NotFound(self.booking_id))?;
            repo.set_status(self.booking_id, "confirmed").await?;
            repo.enqueue_confirmed(&booking).await?;
            repo.commit().await?;
            receipt::upload_receipt(booking.id, booking.customer_email.clone()).await;
            Ok(())
        }
        .await;

        match result {
            Ok(()) => State::Confirmed,
            Err(e) => State::Compensating {
                reservation_id: Some(reservation_id),
                payment_id: Some(payment_id),
                reason: e.to_string(),
            },
        }
    }

    /// Undo in reverse order: refund first, then give the seats back.
    async fn compensate(
        &mut self,
        reservation_id: Option<String>,
        payment_id: Option<Uuid>,
        reason: String,
    ) -> Result<State, BookingError> {
        if let Some(payment_id) = payment_id {
            self.app.payments.refund(payment_id).await?;
        }
        if let Some(reservation_id) = reservation_id.as_deref() {
            self.app.inventory.release_seats(reservation_id).await?;
        }
        let mut repo = PgBookings::begin(&self.app.db).await?;
        repo.set_status(self.booking_id, "failed").await?;
        repo.commit().await?;
        Ok(State::Failed(reason))
    }

    async fn load(&self) -> Result<crate::repo::Booking, BookingError> {
        let mut repo = PgBookings::begin(&self.app.db).await?;
        repo.find(self.booking_id).await?.ok_or(BookingError::NotFound(self.booking_id))
    }
}
