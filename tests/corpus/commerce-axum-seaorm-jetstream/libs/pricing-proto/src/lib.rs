pub mod v1 {
    tonic::include_proto!("pricing.v1");
}

pub use v1::pricing_client::PricingClient;
pub use v1::pricing_server::{Pricing, PricingServer};
