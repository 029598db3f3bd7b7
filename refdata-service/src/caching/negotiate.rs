//! `Accept-Encoding` negotiation (RFC 9110 §12.5.3) over the encodings a cached entry holds.

/// A content-coding the cache can serve.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Encoding {
    Identity,
    Gzip,
    Brotli,
}

impl Encoding {
    /// The `Content-Encoding` token, `None` for identity.
    pub fn content_coding(self) -> Option<&'static str> {
        match self {
            Encoding::Identity => None,
            Encoding::Gzip => Some("gzip"),
            Encoding::Brotli => Some("br"),
        }
    }

    /// Suffix that makes a strong ETag differ per content-coding.
    pub(crate) fn etag_suffix(self) -> &'static str {
        match self {
            Encoding::Identity => "",
            Encoding::Gzip => "-gzip",
            Encoding::Brotli => "-br",
        }
    }
}

/// Server preference among equal q-values: smallest representation first.
const PREFERENCE: [Encoding; 3] = [Encoding::Brotli, Encoding::Gzip, Encoding::Identity];

/// Picks the encoding to send among `available`, or `None` when the client accepts none of them
/// (which only happens when it explicitly refuses identity, e.g. `identity;q=0` or `*;q=0`).
///
/// `accept_encoding` is `None` when the request has no `Accept-Encoding` header, in which case
/// any coding is acceptable but identity is the safe choice.
pub fn negotiate(accept_encoding: Option<&str>, available: &[Encoding]) -> Option<Encoding> {
    let Some(header) = accept_encoding else {
        return Some(Encoding::Identity);
    };
    let mut explicit: [Option<f32>; 3] = [None; 3];
    let mut wildcard: Option<f32> = None;
    for item in header.split(',') {
        let mut params = item.split(';');
        let coding = params.next().unwrap_or("").trim();
        if coding.is_empty() {
            continue;
        }
        let mut q = 1.0_f32;
        let mut malformed = false;
        for param in params {
            let Some((name, value)) = param.split_once('=') else {
                continue;
            };
            if name.trim().eq_ignore_ascii_case("q") {
                match parse_qvalue(value.trim()) {
                    Some(v) => q = v,
                    None => malformed = true,
                }
            }
        }
        if malformed {
            continue;
        }
        let slot = if coding.eq_ignore_ascii_case("br") {
            Some(2)
        } else if coding.eq_ignore_ascii_case("gzip") || coding.eq_ignore_ascii_case("x-gzip") {
            Some(1)
        } else if coding.eq_ignore_ascii_case("identity") {
            Some(0)
        } else if coding == "*" {
            wildcard = Some(wildcard.map_or(q, |w: f32| w.max(q)));
            None
        } else {
            None
        };
        if let Some(slot) = slot {
            explicit[slot] = Some(explicit[slot].map_or(q, |e: f32| e.max(q)));
        }
    }

    let weight = |encoding: Encoding| -> f32 {
        let slot = match encoding {
            Encoding::Identity => 0,
            Encoding::Gzip => 1,
            Encoding::Brotli => 2,
        };
        match (explicit[slot], wildcard) {
            (Some(q), _) => q,
            (None, Some(q)) => q,
            // Identity is acceptable unless refused explicitly or by `*;q=0`, but a coding the
            // client names is preferred over it: weigh it below the smallest qvalue.
            (None, None) if encoding == Encoding::Identity => 0.0001,
            (None, None) => 0.0,
        }
    };

    let mut best: Option<(Encoding, f32)> = None;
    for encoding in PREFERENCE {
        if !available.contains(&encoding) {
            continue;
        }
        let q = weight(encoding);
        if q <= 0.0 {
            continue;
        }
        if best.is_none_or(|(_, best_q)| q > best_q) {
            best = Some((encoding, q));
        }
    }
    best.map(|(encoding, _)| encoding)
}

/// `qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] )`
fn parse_qvalue(value: &str) -> Option<f32> {
    let (int, frac) = value.split_once('.').unwrap_or((value, ""));
    if frac.len() > 3 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    match int {
        "0" => {
            let digits: String = format!("{frac:0<3}");
            digits.parse::<u16>().ok().map(|d| f32::from(d) / 1000.0)
        }
        "1" if frac.bytes().all(|b| b == b'0') => Some(1.0),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Encoding::*;

    const ALL: &[Encoding] = &[Identity, Gzip, Brotli];

    #[test]
    fn no_header_means_identity() {
        assert_eq!(negotiate(None, ALL), Some(Identity));
    }

    #[test]
    fn prefers_brotli_on_equal_weights() {
        assert_eq!(negotiate(Some("gzip, deflate, br"), ALL), Some(Brotli));
        assert_eq!(
            negotiate(Some("gzip, br, zstd"), &[Identity, Gzip]),
            Some(Gzip)
        );
    }

    #[test]
    fn honours_q_values() {
        assert_eq!(negotiate(Some("br;q=0.5, gzip;q=0.8"), ALL), Some(Gzip));
        assert_eq!(negotiate(Some("br;q=0, gzip"), ALL), Some(Gzip));
        assert_eq!(negotiate(Some("gzip;q=0.001"), ALL), Some(Gzip));
        assert_eq!(negotiate(Some("gzip;q=0.5, identity"), ALL), Some(Identity));
    }

    #[test]
    fn wildcard_and_identity_refusal() {
        assert_eq!(negotiate(Some("*"), ALL), Some(Brotli));
        assert_eq!(negotiate(Some("*;q=0"), ALL), None);
        assert_eq!(negotiate(Some("identity;q=0"), &[Identity]), None);
        assert_eq!(negotiate(Some("identity;q=0"), ALL), None);
        assert_eq!(negotiate(Some("identity;q=0, gzip"), ALL), Some(Gzip));
        assert_eq!(negotiate(Some("*;q=0, identity"), ALL), Some(Identity));
    }

    #[test]
    fn empty_and_unknown_codings_fall_back_to_identity() {
        assert_eq!(negotiate(Some(""), ALL), Some(Identity));
        assert_eq!(negotiate(Some("zstd, deflate"), ALL), Some(Identity));
    }

    #[test]
    fn malformed_q_values_are_ignored() {
        assert_eq!(negotiate(Some("br;q=2, gzip"), ALL), Some(Gzip));
        assert_eq!(negotiate(Some("br;q=abc"), ALL), Some(Identity));
        assert_eq!(negotiate(Some("GZIP;Q=0.9"), ALL), Some(Gzip));
    }
}
