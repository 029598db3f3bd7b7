//! ISO 4217 minor units for the currencies we price in.

pub fn minor_units(code: &str) -> Option<u32> {
    Some(match code {
        "USD" => 2,
        "EUR" => 2,
        "GBP" => 2,
        "CHF" => 2,
        "SEK" => 2,
        "NOK" => 2,
        "DKK" => 2,
        "PLN" => 2,
        "CZK" => 2,
        "JPY" => 0,
        "KRW" => 0,
        "BHD" => 3,
        "KWD" => 3,
        _ => return None,
    })
}

/// Rounds an amount in major units to the currency's minor units.
pub fn to_minor(code: &str, major: f64) -> Option<i64> {
    let units = minor_units(code)?;
    Some((major * 10f64.powi(units as i32)).round() as i64)
}
