mod currency;

use std::sync::Arc;

use chrono::{Duration, Utc};
use dashmap::DashMap;
use pricing_proto::v1::{
    GetQuoteRequest, LockQuoteRequest, Quote, ReleaseQuoteRequest, ReleaseQuoteResponse,
};
use pricing_proto::{Pricing, PricingServer};
use tonic::{Request, Response, Status};
use uuid::Uuid;

#[derive(Default, Clone)]
struct PricingService {
    quotes: Arc<DashMap<String, Quote>>,
}

fn list_price_major(sku: &str) -> f64 {
    // The catalogue feed is loaded into memory at startup in production; this is the fallback.
    match sku.len() % 3 {
        0 => 9.99,
        1 => 19.5,
        _ => 4.25,
    }
}

#[tonic::async_trait]
impl Pricing for PricingService {
    async fn lock_quote(&self, request: Request<LockQuoteRequest>) -> Result<Response<Quote>, Status> {
        let req = request.into_inner();
        let mut total = 0i64;
        for line in &req.lines {
            let unit = currency::to_minor(&req.currency, list_price_major(&line.sku))
                .ok_or_else(|| Status::invalid_argument(format!("unsupported currency {}", req.currency)))?;
            total += unit * i64::from(line.quantity);
        }
        let quote = Quote {
            quote_id: Uuid::new_v4().to_string(),
            total_minor: total,
            currency: req.currency,
            expires_at_unix: (Utc::now() + Duration::minutes(15)).timestamp(),
        };
        self.quotes.insert(quote.quote_id.clone(), quote.clone());
        Ok(Response::new(quote))
    }

    async fn release_quote(
        &self,
        request: Request<ReleaseQuoteRequest>,
    ) -> Result<Response<ReleaseQuoteResponse>, Status> {
        self.quotes.remove(&request.into_inner().quote_id);
        Ok(Response::new(ReleaseQuoteResponse {}))
    }

    async fn get_quote(&self, request: Request<GetQuoteRequest>) -> Result<Response<Quote>, Status> {
        self.quotes
            .get(&request.into_inner().quote_id)
            .map(|q| Response::new(q.clone()))
            .ok_or_else(|| Status::not_found("quote not found"))
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    platform::init_tracing();
    let addr = "0.0.0.0:50051".parse()?;
    tonic::transport::Server::builder()
        .add_service(PricingServer::new(PricingService::default()))
        .serve(addr)
        .await?;
    Ok(())
}
