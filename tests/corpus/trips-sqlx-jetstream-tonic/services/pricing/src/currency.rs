//! Currencies we can quote fares in.

pub const SUPPORTED_CURRENCIES: [&str; 10] = [
    "EUR", "USD", "GBP", "CHF", "SEK", "NOK", "DKK", "PLN", "CZK", "HUF",
];

pub fn is_supported(code: &str) -> bool {
    SUPPORTED_CURRENCIES.contains(&code)
}

/// Number of decimals shown for a currency on the fare page.
pub fn display_decimals(code: &str) -> u32 {
    match code {
        "JPY" | "KRW" => 0,
        _ => 2,
    }
}
