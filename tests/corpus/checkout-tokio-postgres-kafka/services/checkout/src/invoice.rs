//! Invoice rendering. Synchronous on purpose: handlebars + the blocking client
//! are called from `spawn_blocking` by the saga.

use anyhow::Context;
use handlebars::Handlebars;
use serde_json::json;
use uuid::Uuid;

use crate::saga::PendingOrder;

pub fn render(template_url: &str, order: &PendingOrder, payment_id: Uuid) -> anyhow::Result<Vec<u8>> {
    let template = reqwest::blocking::get(template_url)
        .context("fetching invoice template")?
        .error_for_status()?
        .text()?;

    let mut hb = Handlebars::new();
    hb.register_template_string("invoice", template)?;
    let html = hb.render(
        "invoice",
        &json!({
            "order_id": order.id,
            "payment_id": payment_id,
            "email": order.customer_email,
            "lines": order.lines,
            "total": order.total_cents as f64 / 100.0,
            "currency": order.currency,
        }),
    )?;
    Ok(html.into_bytes())
}
