//! Destinations our carriers accept.

/// ISO 3166-1 alpha-2 codes we ship to.
pub const SHIPPABLE_COUNTRIES: &[&str] = &[
    "US", "CA", "MX", "GB", "IE", "FR", "DE", "NL", "BE", "LU", "ES", "PT", "IT", "AT", "CH", "DK",
    "SE", "NO", "FI", "PL",
];

pub fn is_shippable(country: &str) -> bool {
    SHIPPABLE_COUNTRIES.iter().any(|c| c.eq_ignore_ascii_case(country))
}

/// Default carrier per destination.
pub fn carrier_for(country: &str) -> &'static str {
    match country {
        "US" | "CA" | "MX" => "ups",
        "GB" | "IE" => "royal-mail",
        _ => "dhl",
    }
}
