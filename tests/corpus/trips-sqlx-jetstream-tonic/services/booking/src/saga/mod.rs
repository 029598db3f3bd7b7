mod machine;
pub mod rebook;
mod retry;

pub use machine::BookingSaga;
