use uuid::Uuid;

/// Uploads the receipt to the document store. The store only offers a blocking SDK-less API,
/// so the call runs on the blocking pool.
pub async fn upload_receipt(booking_id: Uuid, email: String) {
    let res = tokio::task::spawn_blocking(move || {
        ureq::post("http://docstore.internal/receipts")
            .set("Content-Type", "application/json")
            .send_json(ureq::json!({ "booking_id": booking_id, "email": email }))
    })
    .await;
    if let Err(e) = res {
        tracing::warn!(%booking_id, error = %e, "receipt upload task panicked");
    }
}
