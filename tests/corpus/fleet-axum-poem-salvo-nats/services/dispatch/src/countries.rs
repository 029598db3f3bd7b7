//! Lanes we currently operate. Ops asked for this to be "just a list" until the
//! expansion project lands.

pub const OPERATED_COUNTRIES: &[&str] = &[
    "AT", "BE", "CH", "CZ", "DE", "DK", "FR", "LU", "NL", "PL",
];

pub fn is_operated(country: &str) -> bool {
    OPERATED_COUNTRIES.contains(&country)
}

/// Vehicle classes accepted by fleet; not reference data, just our product tiers.
pub const VEHICLE_CLASSES: &[&str] = &["VAN", "BOX", "ART"];
