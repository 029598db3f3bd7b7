//! `limit`/`offset` or `page`/`per_page` pagination with totals and an RFC 8288 `Link` header.

use axum::http::{HeaderMap, HeaderValue, Uri};
use serde::Serialize;

use super::extract::parse_count;
use super::problem::Problem;

pub const DEFAULT_LIMIT: usize = 250;
pub const MAX_LIMIT: usize = 1000;
/// Largest `page` accepted (far past the end of every list; `offset` takes any `usize`).
pub const MAX_PAGE: usize = 1_000_000;

/// The raw pagination parameters of a list query.
#[derive(Debug, Clone, Copy)]
pub struct PageParams<'a> {
    pub limit: &'a Option<String>,
    pub offset: &'a Option<String>,
    pub page: &'a Option<String>,
    pub per_page: &'a Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Style {
    LimitOffset,
    PagePerPage,
}

/// A validated window into a list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    pub limit: usize,
    pub offset: usize,
    style: Style,
}

impl PageRequest {
    pub fn parse(params: PageParams<'_>) -> Result<Self, Problem> {
        let limit = parse_count("limit", params.limit)?;
        let offset = parse_count("offset", params.offset)?;
        let page = parse_count("page", params.page)?;
        let per_page = parse_count("per_page", params.per_page)?;
        let check_size = |name: &str, size: usize| {
            if (1..=MAX_LIMIT).contains(&size) {
                Ok(size)
            } else {
                Err(Problem::invalid_parameter(format!(
                    "{name} must be between 1 and {MAX_LIMIT}, not {size}"
                )))
            }
        };
        if page.is_some_and(|v| v > MAX_PAGE) {
            return Err(Problem::invalid_parameter(format!(
                "page must be at most {MAX_PAGE}"
            )));
        }
        if (limit.is_some() || offset.is_some()) && (page.is_some() || per_page.is_some()) {
            return Err(Problem::invalid_parameter(
                "use either limit/offset or page/per_page, not both",
            ));
        }
        if page.is_some() || per_page.is_some() {
            let per_page = check_size("per_page", per_page.unwrap_or(DEFAULT_LIMIT))?;
            let page = page.unwrap_or(1);
            if page == 0 {
                return Err(Problem::invalid_parameter("page starts at 1"));
            }
            let offset = (page - 1).checked_mul(per_page).ok_or_else(|| {
                Problem::invalid_parameter(format!("page {page} is out of range"))
            })?;
            return Ok(Self {
                limit: per_page,
                offset,
                style: Style::PagePerPage,
            });
        }
        Ok(Self {
            limit: check_size("limit", limit.unwrap_or(DEFAULT_LIMIT))?,
            offset: offset.unwrap_or(0),
            style: Style::LimitOffset,
        })
    }

    /// Query pairs selecting the window starting at `offset`.
    fn pairs(&self, offset: usize) -> String {
        match self.style {
            Style::LimitOffset => format!("limit={}&offset={offset}", self.limit),
            Style::PagePerPage => {
                format!("page={}&per_page={}", offset / self.limit + 1, self.limit)
            }
        }
    }
}

/// One page of a list.
#[derive(Debug, Serialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Number of items matching the filters, over all pages.
    pub total: usize,
    pub limit: usize,
    pub offset: usize,
}

pub fn paginate<T>(items: Vec<T>, request: PageRequest) -> Page<T> {
    let total = items.len();
    let items = items
        .into_iter()
        .skip(request.offset)
        .take(request.limit)
        .collect();
    Page {
        items,
        total,
        limit: request.limit,
        offset: request.offset,
    }
}

/// `X-Total-Count` and `Link` (first, prev, next, last) for a page of `uri`.
pub fn headers(uri: &Uri, request: PageRequest, total: usize) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert("x-total-count", HeaderValue::from(total));
    let kept: Vec<&str> = uri
        .query()
        .unwrap_or_default()
        .split('&')
        .filter(|pair| {
            let key = pair.split('=').next().unwrap_or_default();
            !pair.is_empty() && !matches!(key, "limit" | "offset" | "page" | "per_page")
        })
        .collect();
    let link = |offset: usize, rel: &str| {
        let mut query = kept.join("&");
        if !query.is_empty() {
            query.push('&');
        }
        query.push_str(&request.pairs(offset));
        format!("<{}?{query}>; rel=\"{rel}\"", uri.path())
    };
    let limit = request.limit;
    let last = if total == 0 {
        0
    } else {
        (total - 1) / limit * limit
    };
    let mut links = vec![link(0, "first")];
    if request.offset > 0 {
        links.push(link(request.offset.saturating_sub(limit).min(last), "prev"));
    }
    if request.offset.saturating_add(limit) < total {
        links.push(link(request.offset + limit, "next"));
    }
    links.push(link(last, "last"));
    if let Ok(value) = HeaderValue::from_str(&links.join(", ")) {
        headers.insert("link", value);
    }
    headers
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(
        limit: Option<&str>,
        offset: Option<&str>,
        page: Option<&str>,
        per_page: Option<&str>,
    ) -> Result<PageRequest, Problem> {
        let own = |v: Option<&str>| v.map(str::to_owned);
        let (limit, offset, page, per_page) = (own(limit), own(offset), own(page), own(per_page));
        PageRequest::parse(PageParams {
            limit: &limit,
            offset: &offset,
            page: &page,
            per_page: &per_page,
        })
    }

    #[test]
    fn parses_both_styles() {
        let by_page = request(None, None, Some("3"), Some("10")).unwrap();
        assert_eq!((by_page.limit, by_page.offset), (10, 20));
        let by_offset = request(Some("5"), Some("7"), None, None).unwrap();
        assert_eq!((by_offset.limit, by_offset.offset), (5, 7));
        let default = request(None, None, None, None).unwrap();
        assert_eq!((default.limit, default.offset), (DEFAULT_LIMIT, 0));
    }

    #[test]
    fn rejects_bad_windows() {
        assert!(request(Some("0"), None, None, None).is_err());
        assert!(request(Some("1001"), None, None, None).is_err());
        assert!(request(Some("-1"), None, None, None).is_err());
        assert!(request(None, None, Some("0"), None).is_err());
        assert!(request(Some("5"), None, Some("1"), None).is_err());
    }

    #[test]
    fn links_keep_filters_and_move_the_window() {
        let uri: Uri = "/v1/countries?region=Europe&limit=10&offset=10"
            .parse()
            .unwrap();
        let request = request(Some("10"), Some("10"), None, None).unwrap();
        let headers = headers(&uri, request, 25);
        assert_eq!(headers["x-total-count"], "25");
        let link = headers["link"].to_str().unwrap();
        assert!(link.contains("</v1/countries?region=Europe&limit=10&offset=0>; rel=\"first\""));
        assert!(link.contains("</v1/countries?region=Europe&limit=10&offset=0>; rel=\"prev\""));
        assert!(link.contains("</v1/countries?region=Europe&limit=10&offset=20>; rel=\"next\""));
        assert!(link.contains("</v1/countries?region=Europe&limit=10&offset=20>; rel=\"last\""));
    }

    #[test]
    fn paginate_slices_and_counts() {
        let page = paginate(
            (0..25).collect(),
            request(Some("10"), Some("20"), None, None).unwrap(),
        );
        assert_eq!(page.items, (20..25).collect::<Vec<_>>());
        assert_eq!(page.total, 25);
    }
}
