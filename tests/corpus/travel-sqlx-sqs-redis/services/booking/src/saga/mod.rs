//! A tiny saga runner: executes steps in order and, when one fails, runs the
//! compensations of the completed steps in reverse order.

mod steps;

use async_trait::async_trait;
use tracing::{error, info};
use uuid::Uuid;

pub use steps::{ChargeCardStep, HoldRoomStep, HoldSeatsStep};

#[derive(Debug, Default, Clone)]
pub struct BookingContext {
    pub booking_id: Uuid,
    pub customer_ref: String,
    pub hotel_id: i64,
    pub flight_id: i64,
    pub fare_class: String,
    pub seats: i32,
    pub check_in: chrono::NaiveDate,
    pub check_out: chrono::NaiveDate,
    pub amount_minor: i64,
    pub currency: String,
    pub card_token: String,
    // filled in by the steps
    pub flight_hold_id: Option<Uuid>,
    pub room_hold_id: Option<Uuid>,
    pub charge_id: Option<Uuid>,
}

#[async_trait]
pub trait SagaStep: Send + Sync {
    fn name(&self) -> &'static str;
    async fn execute(&self, ctx: &mut BookingContext) -> anyhow::Result<()>;
    async fn compensate(&self, ctx: &BookingContext) -> anyhow::Result<()>;
}

pub struct Saga {
    steps: Vec<Box<dyn SagaStep>>,
}

impl Saga {
    pub fn new() -> Self {
        Self { steps: Vec::new() }
    }

    pub fn step(mut self, step: impl SagaStep + 'static) -> Self {
        self.steps.push(Box::new(step));
        self
    }

    pub async fn run(&self, ctx: &mut BookingContext) -> anyhow::Result<()> {
        for (i, step) in self.steps.iter().enumerate() {
            info!(booking_id = %ctx.booking_id, step = step.name(), "executing");
            if let Err(e) = step.execute(ctx).await {
                error!(booking_id = %ctx.booking_id, step = step.name(), error = %e, "step failed, compensating");
                for done in self.steps[..i].iter().rev() {
                    if let Err(ce) = done.compensate(ctx).await {
                        error!(booking_id = %ctx.booking_id, step = done.name(), error = %ce, "compensation failed");
                    }
                }
                return Err(e);
            }
        }
        Ok(())
    }
}
