//! Tracking links for the carriers our warehouse uses.

pub fn tracking_url(carrier: &str, tracking_number: &str) -> Option<String> {
    let base = match carrier {
        "UPS" => "https://www.ups.com/track?tracknum=",
        "DHL" => "https://www.dhl.com/track?id=",
        "DPD" => "https://tracking.dpd.de/status/",
        "GLS" => "https://gls-group.com/track/",
        "TNT" => "https://www.tnt.com/express/track?cons=",
        "USPS" => "https://tools.usps.com/go/TrackConfirmAction?tLabels=",
        "FEDEX" => "https://www.fedex.com/fedextrack/?trknbr=",
        "ROYALMAIL" => "https://www.royalmail.com/track-your-item#/tracking-results/",
        "POSTNL" => "https://postnl.nl/tracktrace/?B=",
        _ => return None,
    };
    Some(format!("{base}{tracking_number}"))
}
