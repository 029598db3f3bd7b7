//! Idempotency-Key middleware: the first request with a key runs, its response is cached in
//! Redis for 24h, and replays get the cached response.

use actix_web::{
    body::{to_bytes, BoxBody, MessageBody},
    dev::{ServiceRequest, ServiceResponse},
    http::{header::HeaderValue, StatusCode},
    middleware::Next,
    web, Error, HttpResponse,
};
use redis::{aio::ConnectionManager, AsyncCommands};

const TTL_SECS: u64 = 24 * 3600;
const IN_FLIGHT: &str = "__in_flight__";

pub async fn require_idempotency_key(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let Some(key) = req
        .headers()
        .get("Idempotency-Key")
        .and_then(|v| v.to_str().ok())
        .map(|k| format!("idem:{}:{}", req.path(), k))
    else {
        let resp = HttpResponse::BadRequest().body("Idempotency-Key header required");
        return Ok(req.into_response(resp));
    };
    let mut redis = req
        .app_data::<web::Data<ConnectionManager>>()
        .expect("redis configured")
        .get_ref()
        .clone();

    let claimed: bool = redis::cmd("SET")
        .arg(&key)
        .arg(IN_FLIGHT)
        .arg("NX")
        .arg("EX")
        .arg(TTL_SECS)
        .query_async::<_, Option<String>>(&mut redis)
        .await
        .map_err(actix_web::error::ErrorServiceUnavailable)?
        .is_some();

    if !claimed {
        let cached: Option<String> = redis.get(&key).await.map_err(actix_web::error::ErrorServiceUnavailable)?;
        let resp = match cached.as_deref() {
            Some(IN_FLIGHT) | None => HttpResponse::Conflict().body("request with this key is in flight"),
            Some(body) => HttpResponse::Ok()
                .insert_header(("Idempotent-Replay", HeaderValue::from_static("true")))
                .content_type("application/json")
                .body(body.to_owned()),
        };
        return Ok(req.into_response(resp));
    }

    let res = next.call(req).await?;
    let status = res.status();
    let (req, resp) = res.into_parts();
    let body = to_bytes(resp.into_body()).await.map_err(|_| actix_web::error::ErrorInternalServerError("body"))?;
    if status.is_success() {
        let _: () = redis
            .set_ex(&key, String::from_utf8_lossy(&body).into_owned(), TTL_SECS)
            .await
            .map_err(actix_web::error::ErrorServiceUnavailable)?;
    } else if status != StatusCode::CONFLICT {
        let _: () = redis.del(&key).await.unwrap_or(());
    }
    let resp = HttpResponse::build(status).content_type("application/json").body(body);
    Ok(ServiceResponse::new(req, resp))
}
