//! Twilio v2010 list paging: `PageSize` (1..=1000, default 50), `Page`, keyset `PageToken`
//! (`PA<sid>` = after that SID, `PB<sid>` = before it), and the `*_uri` fields repeating filters.

use super::Params;
use crate::error::ApiError;
use serde_json::{Map, Value, json};

/// A parsed page request.
#[derive(Debug, Clone)]
pub(crate) struct PageReq {
    pub size: usize,
    pub page: usize,
    pub token: Option<String>,
}

impl PageReq {
    pub fn parse(q: &Params) -> Result<Self, ApiError> {
        let size = match q.get("PageSize") {
            None => 50,
            Some(v) => {
                let n: i64 = v
                    .trim()
                    .parse()
                    .map_err(|_| ApiError::bad_request(20007, format!("Invalid PageSize '{v}'")))?;
                if !(1..=1000).contains(&n) {
                    return Err(ApiError::bad_request(
                        20007,
                        "PageSize must be between 1 and 1000",
                    ));
                }
                n as usize
            }
        };
        let page = match q.get("Page") {
            None => 0,
            Some(v) => v
                .trim()
                .parse()
                .map_err(|_| ApiError::bad_request(20001, format!("Invalid Page '{v}'")))?,
        };
        let token = q
            .get("PageToken")
            .filter(|t| !t.is_empty())
            .map(str::to_string);
        Ok(Self { size, page, token })
    }
}

/// Selects the page out of items sorted by SID. Returns (range, has_more_after, has_before).
pub(crate) fn select(
    sids: &[&str],
    req: &PageReq,
) -> Result<(std::ops::Range<usize>, bool, bool), ApiError> {
    let (start, end) = match req.token.as_deref() {
        Some(t) if t.starts_with("PA") => {
            let after = &t[2..];
            let s = sids.partition_point(|x| *x <= after);
            (s, (s + req.size).min(sids.len()))
        }
        Some(t) if t.starts_with("PB") => {
            let before = &t[2..];
            let e = sids.partition_point(|x| *x < before);
            (e.saturating_sub(req.size), e)
        }
        Some(t) => {
            return Err(ApiError::bad_request(
                20001,
                format!("Invalid PageToken '{t}'"),
            ));
        }
        None => {
            let s = req.page.saturating_mul(req.size).min(sids.len());
            (s, (s + req.size).min(sids.len()))
        }
    };
    Ok((start..end, end < sids.len(), start > 0))
}

fn query(filters: &[(String, String)], extra: &[(&str, String)]) -> String {
    let mut pairs: Vec<(String, String)> = filters.to_vec();
    pairs.extend(extra.iter().map(|(k, v)| ((*k).to_string(), v.clone())));
    serde_urlencoded::to_string(&pairs).unwrap_or_default()
}

/// Builds the list body: `key: items` plus the paging fields.
#[allow(clippy::too_many_arguments)]
pub(crate) fn body(
    key: &str,
    items: Vec<Value>,
    path: &str,
    filters: &[(String, String)],
    req: &PageReq,
    first_sid: Option<&str>,
    last_sid: Option<&str>,
    more_after: bool,
    has_before: bool,
) -> Value {
    let n = req.size.to_string();
    let page = req.page;
    let start = page * req.size;
    let end = if items.is_empty() {
        start
    } else {
        start + items.len() - 1
    };
    let mut uri_extra = vec![("PageSize", n.clone()), ("Page", page.to_string())];
    if let Some(t) = &req.token {
        uri_extra.push(("PageToken", t.clone()));
    }
    let next = match (more_after, last_sid) {
        (true, Some(l)) => Value::String(format!(
            "{path}?{}",
            query(
                filters,
                &[
                    ("PageSize", n.clone()),
                    ("Page", (page + 1).to_string()),
                    ("PageToken", format!("PA{l}"))
                ]
            )
        )),
        _ => Value::Null,
    };
    let prev = match (has_before, first_sid) {
        (true, Some(f)) => Value::String(format!(
            "{path}?{}",
            query(
                filters,
                &[
                    ("PageSize", n.clone()),
                    ("Page", page.saturating_sub(1).to_string()),
                    ("PageToken", format!("PB{f}"))
                ]
            )
        )),
        _ => Value::Null,
    };
    let mut m = Map::new();
    m.insert(key.to_string(), Value::Array(items));
    m.insert("end".into(), json!(end));
    m.insert(
        "first_page_uri".into(),
        json!(format!(
            "{path}?{}",
            query(filters, &[("PageSize", n.clone()), ("Page", "0".into())])
        )),
    );
    m.insert("next_page_uri".into(), next);
    m.insert("page".into(), json!(page));
    m.insert("page_size".into(), json!(req.size));
    m.insert("previous_page_uri".into(), prev);
    m.insert("start".into(), json!(start));
    m.insert(
        "uri".into(),
        json!(format!("{path}?{}", query(filters, &uri_extra))),
    );
    Value::Object(m)
}
