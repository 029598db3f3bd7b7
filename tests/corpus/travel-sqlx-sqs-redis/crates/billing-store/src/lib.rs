//! Billing's persistence layer. Owned by the billing team.

mod invoices;

pub use invoices::{InvoiceLine, InvoiceRepo, NewInvoice, RouteRevenue};

pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!();

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}
