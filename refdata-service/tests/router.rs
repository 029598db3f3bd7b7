//! The router without a network: cache policies attached per dataset, readiness before load.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use refdata::app::{router, AppState};
use refdata::caching::CachePolicy;
use refdata::store::{EmbeddedSource, SnapshotSource};
use tower::ServiceExt;

async fn policy_of(state: &AppState, uri: &str) -> Option<CachePolicy> {
    let response = router(state.clone())
        .oneshot(Request::get(uri).body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK, "{uri}");
    response.extensions().get::<CachePolicy>().cloned()
}

#[tokio::test]
async fn cache_policies_follow_the_dataset() {
    let state = AppState::new(EmbeddedSource.load().unwrap());
    let day = std::time::Duration::from_secs(86_400);

    let country = policy_of(&state, "/v1/countries/DE").await.unwrap();
    assert_eq!(country.max_age, day);
    assert!(!country.immutable);
    assert!(country.dataset_version.starts_with("countries@"));

    let historic = policy_of(&state, "/v1/exchange-rates?date=2024-01-02")
        .await
        .unwrap();
    assert!(historic.immutable);
    let historic_path = policy_of(&state, "/v1/exchange-rates/2024-01-06")
        .await
        .unwrap();
    assert!(historic_path.immutable);

    let latest = policy_of(&state, "/v1/exchange-rates").await.unwrap();
    assert!(!latest.immutable);
    assert!(latest.max_age <= std::time::Duration::from_secs(3600));
    let future = policy_of(&state, "/v1/exchange-rates?date=2099-01-01")
        .await
        .unwrap();
    assert!(!future.immutable, "a later publication may still come");

    let conversion = policy_of(
        &state,
        "/v1/convert?from=USD&to=JPY&amount=1&date=2020-01-02",
    )
    .await
    .unwrap();
    assert!(conversion.immutable);
    assert!(conversion.dataset_version.contains("currencies@"));

    let tax = policy_of(&state, "/v1/tax-rates?country=DE").await.unwrap();
    assert_eq!(tax.max_age, day);
    assert!(tax.dataset_version.starts_with("tax_rates@"));

    assert!(policy_of(&state, "/healthz").await.is_none());
}

#[tokio::test]
async fn not_ready_until_a_snapshot_is_installed() {
    let state = AppState::loading();
    let response = router(state.clone())
        .oneshot(Request::get("/readyz").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    let data = router(state.clone())
        .oneshot(Request::get("/v1/countries").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(data.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(data.headers()["content-type"], "application/problem+json");

    let before = state.generation().current();
    state.replace_snapshot(EmbeddedSource.load().unwrap());
    assert_eq!(state.generation().current(), before + 1);
    let ready = router(state)
        .oneshot(Request::get("/readyz").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(ready.status(), StatusCode::OK);
}
