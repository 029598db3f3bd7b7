//! JetStream stream and subject names. Subjects carry the schema major version.

pub const STREAM_BOOKING: &str = "BOOKING";
pub const STREAM_INVENTORY: &str = "INVENTORY";

pub const BOOKING_CONFIRMED: &str = "booking.v1.confirmed";
pub const BOOKING_CANCELLED: &str = "booking.v1.cancelled";
pub const PAYMENT_CAPTURED: &str = "payments.v1.captured";

/// Legacy subject, still consumed by the ops dashboard.
pub const SEATS_RELEASED: &str = "inventory.seats_released";
