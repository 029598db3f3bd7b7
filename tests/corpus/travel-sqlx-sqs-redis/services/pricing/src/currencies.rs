//! Currencies we quote in.

pub const QUOTE_CURRENCIES: [&str; 12] = [
    "EUR", "USD", "GBP", "CHF", "JPY", "CAD", "AUD", "SEK", "NOK", "DKK", "PLN", "CZK",
];

pub fn minor_digits(code: &str) -> u32 {
    match code {
        "JPY" => 0,
        _ => 2,
    }
}

pub fn is_quotable(code: &str) -> bool {
    QUOTE_CURRENCIES.contains(&code)
}
