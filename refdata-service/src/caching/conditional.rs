//! Conditional request evaluation (RFC 9110 §13): `If-None-Match` and `If-Modified-Since`.

use std::time::SystemTime;

/// Whether an `If-None-Match` field value matches a representation whose strong ETag is
/// `"{base}{suffix}"`, for any content-coding suffix.
///
/// Uses the weak comparison function (the `W/` prefix is ignored), as required for
/// `If-None-Match`. All content-codings of one representation share the same base hash, so a
/// client that cached the gzip variant revalidates successfully when it now asks for brotli.
pub fn if_none_match_matches(field: &str, base: &str) -> bool {
    let field = field.trim();
    if field == "*" {
        return true;
    }
    entity_tags(field).any(|opaque| strip_coding_suffix(opaque) == base)
}

/// Whether an `If-Match` field value matches the representation with strong ETag `"{etag}"`,
/// using the strong comparison function: weak tags never match.
pub fn if_match_matches(field: &str, etag: &str) -> bool {
    let field = field.trim();
    if field == "*" {
        return true;
    }
    let mut rest = field;
    std::iter::from_fn(move || {
        rest = rest.trim_start_matches(|c: char| c == ',' || c.is_ascii_whitespace());
        if rest.is_empty() {
            return None;
        }
        let weak = rest.starts_with("W/");
        let quoted = rest.strip_prefix("W/").unwrap_or(rest).strip_prefix('"')?;
        let end = quoted.find('"')?;
        let opaque = &quoted[..end];
        rest = &quoted[end + 1..];
        Some((weak, opaque))
    })
    .any(|(weak, opaque)| !weak && opaque == etag)
}

/// Whether a representation last modified at `last_modified` was modified after the
/// `If-Unmodified-Since` date. An unparsable date is ignored.
pub fn modified_since(field: &str, last_modified: SystemTime) -> bool {
    match httpdate::parse_http_date(field.trim()) {
        Ok(since) => truncate_to_seconds(last_modified) > since,
        Err(_) => false,
    }
}

fn strip_coding_suffix(tag: &str) -> &str {
    tag.strip_suffix("-br")
        .or_else(|| tag.strip_suffix("-gzip"))
        .unwrap_or(tag)
}

/// Iterates the opaque parts (without quotes or `W/`) of a comma-separated entity-tag list.
/// Malformed members end the iteration: a broken list never matches by accident.
fn entity_tags(field: &str) -> impl Iterator<Item = &str> {
    let mut rest = field;
    std::iter::from_fn(move || {
        rest = rest.trim_start_matches(|c: char| c == ',' || c.is_ascii_whitespace());
        if rest.is_empty() {
            return None;
        }
        let after_weak = rest.strip_prefix("W/").unwrap_or(rest);
        let quoted = after_weak.strip_prefix('"')?;
        let end = quoted.find('"')?;
        let (opaque, tail) = quoted.split_at(end);
        rest = &tail[1..];
        Some(opaque)
    })
}

/// Whether a representation last modified at `last_modified` is unchanged since the
/// `If-Modified-Since` date. An unparsable date is ignored, as RFC 9110 §13.1.3 requires.
pub fn not_modified_since(field: &str, last_modified: SystemTime) -> bool {
    match httpdate::parse_http_date(field.trim()) {
        Ok(since) => truncate_to_seconds(last_modified) <= since,
        Err(_) => false,
    }
}

/// HTTP dates have one-second resolution; compare at that resolution.
pub fn truncate_to_seconds(time: SystemTime) -> SystemTime {
    match time.duration_since(SystemTime::UNIX_EPOCH) {
        Ok(since_epoch) => {
            SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(since_epoch.as_secs())
        }
        Err(_) => SystemTime::UNIX_EPOCH,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn matches_exact_weak_and_listed_tags() {
        assert!(if_none_match_matches("\"abc\"", "abc"));
        assert!(if_none_match_matches("W/\"abc\"", "abc"));
        assert!(if_none_match_matches("\"x\", \"abc-br\"", "abc"));
        assert!(if_none_match_matches("\"abc-gzip\"", "abc"));
        assert!(if_none_match_matches(" * ", "abc"));
    }

    #[test]
    fn rejects_other_and_malformed_tags() {
        assert!(!if_none_match_matches("\"abd\"", "abc"));
        assert!(!if_none_match_matches("abc", "abc"));
        assert!(!if_none_match_matches("\"abc", "abc"));
        assert!(!if_none_match_matches("", "abc"));
        assert!(!if_none_match_matches("\"abc-zstd\"", "abc"));
    }

    #[test]
    fn tags_may_contain_commas() {
        assert!(if_none_match_matches("\"a,b\", \"abc\"", "abc"));
        assert!(if_none_match_matches("\"a,b\"", "a,b"));
    }

    #[test]
    fn if_match_uses_strong_comparison() {
        assert!(if_match_matches("\"abc-br\"", "abc-br"));
        assert!(if_match_matches("\"x\", \"abc\"", "abc"));
        assert!(if_match_matches("*", "abc"));
        assert!(!if_match_matches("W/\"abc\"", "abc"));
        assert!(!if_match_matches("\"abc\"", "abc-br"));
        assert!(!if_match_matches("abc", "abc"));
    }

    #[test]
    fn if_unmodified_since_compares_whole_seconds() {
        let modified = SystemTime::UNIX_EPOCH + Duration::from_millis(1_704_153_600_500);
        assert!(!modified_since("Tue, 02 Jan 2024 00:00:00 GMT", modified));
        assert!(modified_since("Mon, 01 Jan 2024 23:59:59 GMT", modified));
        assert!(!modified_since("garbage", modified));
    }

    #[test]
    fn if_modified_since_compares_whole_seconds() {
        let modified = SystemTime::UNIX_EPOCH + Duration::from_millis(1_704_153_600_500);
        assert!(not_modified_since(
            "Tue, 02 Jan 2024 00:00:00 GMT",
            modified
        ));
        assert!(!not_modified_since(
            "Mon, 01 Jan 2024 23:59:59 GMT",
            modified
        ));
        assert!(!not_modified_since("yesterday", modified));
    }
}
