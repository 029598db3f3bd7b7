use common::events::PaymentCaptured;
use lettre::{message::header::ContentType, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
}

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error(transparent)]
    Build(#[from] lettre::error::Error),
    #[error(transparent)]
    Smtp(#[from] lettre::transport::smtp::Error),
    #[error("bad address: {0}")]
    Address(#[from] lettre::address::AddressError),
}

impl Mailer {
    pub fn new(transport: AsyncSmtpTransport<Tokio1Executor>) -> Self {
        Self { transport }
    }

    pub async fn send_receipt(&self, to: &str, p: &PaymentCaptured, psp_ref: Option<&str>) -> Result<(), MailError> {
        let msg = Message::builder()
            .from("Trips <no-reply@trips.example>".parse()?)
            .to(to.parse()?)
            .subject("Your payment was received")
            .header(ContentType::TEXT_PLAIN)
            .body(format!(
                "We received {} {:?} for booking {} (reference {}).",
                p.amount.amount,
                p.amount.currency,
                p.booking_id,
                psp_ref.unwrap_or("n/a")
            ))?;
        self.transport.send(msg).await?;
        Ok(())
    }
}
