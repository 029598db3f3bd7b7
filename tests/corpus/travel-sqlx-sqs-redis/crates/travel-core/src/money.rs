use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// Currencies we settle in. Anything else is converted by pricing at quote time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum SettlementCurrency {
    Eur,
    Usd,
    Gbp,
}

impl SettlementCurrency {
    pub fn code(self) -> &'static str {
        match self {
            SettlementCurrency::Eur => "EUR",
            SettlementCurrency::Usd => "USD",
            SettlementCurrency::Gbp => "GBP",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Money {
    pub amount: Decimal,
    pub currency: SettlementCurrency,
}

impl Money {
    pub fn minor_units(&self) -> i64 {
        (self.amount * Decimal::from(100)).trunc().try_into().unwrap_or(i64::MAX)
    }
}
