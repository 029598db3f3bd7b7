//! Shared vocabulary of the travel platform: money, commands between services,
//! queue and stream names.

pub mod commands;
pub mod money;

pub const FLIGHT_COMMANDS_QUEUE: &str = "flights-commands";
pub const BOOKING_EVENTS_STREAM: &str = "booking-events";
pub const HOTEL_EVENTS_STREAM: &str = "hotel-events";
