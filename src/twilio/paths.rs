//! URL building for Twilio paths: percent-encoded path segments (a `+` becomes `%2B`), query
//! strings, and resolution of `next_page_uri` against the configured base — never towards another
//! host, so credentials cannot follow a link elsewhere.

use url::Url;

/// Percent-encodes one path segment (everything but unreserved characters, so `+` → `%2B`).
pub(crate) fn seg(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `base` with `path` (already encoded, starting with `/`) appended to its path and `query`.
pub(crate) fn build_url(base: &Url, path: &str, query: &[(&str, String)]) -> Url {
    let mut u = base.clone();
    let prefix = base.path().trim_end_matches('/').to_owned();
    u.set_path(&format!("{prefix}{path}"));
    u.set_query(None);
    u.set_fragment(None);
    if !query.is_empty() {
        let mut q = u.query_pairs_mut();
        for (k, v) in query {
            q.append_pair(k, v);
        }
    }
    u
}

/// Resolves a `next_page_uri` (relative to the API host, notes §4) against `base`. An absolute
/// URI is accepted only for `base`'s own origin. A base with a path prefix (a proxy) keeps it.
pub(crate) fn page_url(base: &Url, uri: &str) -> Option<Url> {
    if uri.starts_with("http://") || uri.starts_with("https://") {
        let u = Url::parse(uri).ok()?;
        return (u.origin() == base.origin()).then_some(u);
    }
    if !uri.starts_with('/') {
        return None;
    }
    let (path, query) = match uri.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (uri, None),
    };
    let prefix = base.path().trim_end_matches('/');
    let full = if !prefix.is_empty() && path.starts_with(&format!("{prefix}/")) {
        path.to_owned()
    } else {
        format!("{prefix}{path}")
    };
    let mut u = base.clone();
    u.set_path(&full);
    u.set_fragment(None);
    u.set_query(query);
    Some(u)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_and_queries_encode_plus() {
        assert_eq!(seg("+14155551234"), "%2B14155551234");
        assert_eq!(seg("AC0123abc"), "AC0123abc");
        let base = Url::parse("http://127.0.0.1:9/").unwrap();
        let u = build_url(
            &base,
            "/v2/Voice/Numbers/%2B1415",
            &[("OriginationNumber", "+1 415".into())],
        );
        assert_eq!(
            u.as_str(),
            "http://127.0.0.1:9/v2/Voice/Numbers/%2B1415?OriginationNumber=%2B1+415"
        );
        let proxied = Url::parse("https://proxy.example/twilio/").unwrap();
        assert_eq!(
            build_url(&proxied, "/2010-04-01/Accounts.json", &[]).as_str(),
            "https://proxy.example/twilio/2010-04-01/Accounts.json"
        );
    }

    #[test]
    fn next_page_uri_stays_on_our_host() {
        let base = Url::parse("http://127.0.0.1:9/").unwrap();
        let next =
            "/2010-04-01/Accounts/AC1/IncomingPhoneNumbers.json?PageSize=3&Page=1&PageToken=PAPN1";
        assert_eq!(
            page_url(&base, next).unwrap().as_str(),
            format!("http://127.0.0.1:9{next}")
        );
        assert_eq!(page_url(&base, "https://evil.example/x"), None);
        assert_eq!(page_url(&base, "relative/path"), None);
        assert!(page_url(&base, "http://127.0.0.1:9/2010-04-01/x.json").is_some());
        let proxied = Url::parse("https://proxy.example/twilio/").unwrap();
        assert_eq!(
            page_url(&proxied, "/2010-04-01/A.json?Page=1")
                .unwrap()
                .as_str(),
            "https://proxy.example/twilio/2010-04-01/A.json?Page=1"
        );
    }
}
