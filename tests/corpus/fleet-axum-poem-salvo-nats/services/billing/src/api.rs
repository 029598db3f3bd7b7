use rust_decimal::Decimal;
use salvo::prelude::*;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Deserialize)]
struct AuthorizeRequest {
    customer_id: Uuid,
    amount: Decimal,
    currency: String,
}

#[derive(Serialize)]
struct AuthorizeResponse {
    authorization_id: Uuid,
}

#[handler]
async fn authorize(req: &mut Request, depot: &mut Depot, res: &mut Response) {
    let db = depot.obtain::<deadpool_postgres::Pool>().unwrap();
    let request_id = req
        .header::<String>("x-request-id")
        .unwrap_or_else(|| Uuid::new_v4().to_string());
    let body: AuthorizeRequest = match req.parse_json().await {
        Ok(b) => b,
        Err(_) => {
            res.status_code(StatusCode::BAD_REQUEST);
            return;
        }
    };
    let client = match db.get().await {
        Ok(c) => c,
        Err(_) => {
            res.status_code(StatusCode::SERVICE_UNAVAILABLE);
            return;
        }
    };
    let row = client
        .query_one(
            "INSERT INTO authorizations (id, customer_id, request_id, amount, currency) \
             VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (customer_id, request_id) DO UPDATE SET request_id = EXCLUDED.request_id \
             RETURNING id",
            &[&Uuid::new_v4(), &body.customer_id, &request_id, &body.amount, &body.currency],
        )
        .await;
    match row {
        Ok(r) => res.render(Json(AuthorizeResponse { authorization_id: r.get(0) })),
        Err(_) => res.status_code(StatusCode::INTERNAL_SERVER_ERROR),
    };
}

#[handler]
async fn void(req: &mut Request, depot: &mut Depot, res: &mut Response) {
    let db = depot.obtain::<deadpool_postgres::Pool>().unwrap();
    let id: Uuid = req.param("id").unwrap();
    let client = db.get().await.unwrap();
    let _ = client
        .execute(
            "UPDATE authorizations SET voided_at = COALESCE(voided_at, now()) WHERE id = $1",
            &[&id],
        )
        .await;
    res.status_code(StatusCode::NO_CONTENT);
}

pub async fn serve(db: deadpool_postgres::Pool, port: u16) -> anyhow::Result<()> {
    let router = Router::new()
        .hoop(affix_state::inject(db))
        .push(Router::with_path("authorizations").post(authorize))
        .push(Router::with_path("authorizations/<id>/void").post(void));
    let acceptor = TcpListener::new(("0.0.0.0", port)).bind().await;
    Server::new(acceptor).serve(router).await;
    Ok(())
}
