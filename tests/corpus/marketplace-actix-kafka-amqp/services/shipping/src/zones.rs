//! Courier zones by destination country.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Zone {
    Domestic,
    EuNear,
    EuFar,
    World,
}

impl Zone {
    pub fn for_country(iso2: &str) -> Zone {
        match iso2 {
            "DE" => Zone::Domestic,
            "AT" | "NL" | "BE" | "LU" | "DK" | "CZ" | "PL" | "FR" | "CH" => Zone::EuNear,
            "IT" | "ES" | "PT" | "SE" | "FI" | "IE" | "GR" => Zone::EuFar,
            _ => Zone::World,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Zone::Domestic => "domestic",
            Zone::EuNear => "eu-near",
            Zone::EuFar => "eu-far",
            Zone::World => "world",
        }
    }
}
