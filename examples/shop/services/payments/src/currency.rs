//! Currencies the payment provider settles in, and how many decimals each has.

pub const SUPPORTED_CURRENCIES: &[&str] = &[
    "AED", "AUD", "BGN", "BHD", "BRL", "CAD", "CHF", "CLP", "CNY", "CZK", "DKK", "EUR", "GBP",
    "HKD", "HUF", "IDR", "ILS", "INR", "ISK", "JOD", "JPY", "KRW", "KWD", "MXN", "MYR", "NOK",
    "NZD", "OMR", "PHP", "PLN", "RON", "SAR", "SEK", "SGD", "THB", "TND", "TRY", "TWD", "USD",
    "VND", "ZAR",
];

pub fn is_supported(code: &str) -> bool {
    SUPPORTED_CURRENCIES.contains(&code)
}

/// Digits after the decimal separator, to turn an amount in cents into the provider's minor
/// units.
pub fn minor_units(code: &str) -> u32 {
    match code {
        "CLP" | "ISK" | "JPY" | "KRW" | "VND" | "IDR" => 0,
        "BHD" | "JOD" | "KWD" | "OMR" | "TND" => 3,
        _ => 2,
    }
}
