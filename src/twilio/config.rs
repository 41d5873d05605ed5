//! Client configuration and regional routing: which host a request goes to (notes §1) and how
//! hard the client may push one account (concurrency, rate, retries, timeouts).

use std::time::Duration;

use url::Url;

/// Default v2010 host.
pub const DEFAULT_API_HOST: &str = "api.twilio.com";
/// Default Pricing host.
pub const DEFAULT_PRICING_HOST: &str = "pricing.twilio.com";

/// Settings of a [`super::TwilioClient`].
#[derive(Clone, Debug)]
pub struct TwilioClientConfig {
    /// v2010 base URL (default `https://api.twilio.com`); the simulator's URL in tests.
    pub api_base: Url,
    /// Pricing base URL (default `https://pricing.twilio.com`).
    pub pricing_base: Url,
    /// Timeout of one HTTP request (connect + response).
    pub timeout: Duration,
    /// Retries after the first attempt for retryable failures.
    pub max_retries: u32,
    /// Backoff base: attempt n waits random(0, min(cap, base × 2^n)).
    pub backoff_base: Duration,
    /// Backoff cap.
    pub backoff_cap: Duration,
    /// Requests in flight at once per account.
    pub per_account_concurrency: usize,
    /// Requests started per second per account (token bucket); 0 = unlimited.
    pub per_account_rate_per_sec: f64,
    /// `User-Agent` header.
    pub user_agent: String,
}

impl Default for TwilioClientConfig {
    fn default() -> Self {
        TwilioClientConfig {
            api_base: default_url(DEFAULT_API_HOST),
            pricing_base: default_url(DEFAULT_PRICING_HOST),
            timeout: Duration::from_secs(30),
            max_retries: 3,
            backoff_base: Duration::from_millis(100),
            backoff_cap: Duration::from_secs(3),
            per_account_concurrency: 20,
            per_account_rate_per_sec: 0.0,
            user_agent: format!("telephony-operator/{}", env!("CARGO_PKG_VERSION")),
        }
    }
}

fn default_url(host: &str) -> Url {
    // A constant `https://<dns name>/` always parses.
    Url::parse(&format!("https://{host}/")).expect("constant URL parses")
}

/// Twilio regional routing. Only applied when the base URL is Twilio's default host.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Routing {
    /// Region, e.g. `us1`, `ie1`, `au1`.
    pub region: Option<String>,
    /// Edge location, e.g. `dublin`, `sydney`.
    pub edge: Option<String>,
}

/// The edge used when only a region is given (the region-only hostname is retired, notes §1).
fn default_edge(region: &str) -> Option<&'static str> {
    Some(match region {
        "us1" => "ashburn",
        "us2" => "umatilla",
        "ie1" => "dublin",
        "de1" => "frankfurt",
        "au1" => "sydney",
        "jp1" => "tokyo",
        "sg1" => "singapore",
        "br1" => "sao-paulo",
        _ => return None,
    })
}

/// The base URL for `routing`: unchanged for a custom base (simulator) or no routing; otherwise
/// `{product}.{edge}.{region}.twilio.com` (edge without region → `us1`; region without edge → the
/// region's usual edge, or the legacy `{product}.{region}.twilio.com` for unknown regions;
/// `us1` alone → the default host).
pub fn routed_base(base: &Url, default_host: &str, routing: &Routing) -> Url {
    if base.host_str() != Some(default_host) {
        return base.clone();
    }
    let clean = |s: &Option<String>| {
        s.as_deref()
            .map(|s| s.trim().to_ascii_lowercase())
            .filter(|s| !s.is_empty())
    };
    let (region, edge) = (clean(&routing.region), clean(&routing.edge));
    let product = default_host.split('.').next().unwrap_or("api");
    let host = match (region, edge) {
        (None, None) => return base.clone(),
        (Some(r), None) if r == "us1" => return base.clone(),
        (r, Some(e)) => format!("{product}.{e}.{}.twilio.com", r.as_deref().unwrap_or("us1")),
        (Some(r), None) => match default_edge(&r) {
            Some(e) => format!("{product}.{e}.{r}.twilio.com"),
            None => format!("{product}.{r}.twilio.com"),
        },
    };
    let mut u = base.clone();
    if u.set_host(Some(&host)).is_err() {
        return base.clone();
    }
    u
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(region: Option<&str>, edge: Option<&str>) -> Routing {
        Routing {
            region: region.map(str::to_owned),
            edge: edge.map(str::to_owned),
        }
    }

    #[test]
    fn host_rules() {
        let c = TwilioClientConfig::default();
        let host = |routing: Routing| {
            routed_base(&c.api_base, DEFAULT_API_HOST, &routing)
                .host_str()
                .unwrap()
                .to_owned()
        };
        assert_eq!(c.api_base.as_str(), "https://api.twilio.com/");
        assert_eq!(host(r(None, None)), "api.twilio.com");
        assert_eq!(host(r(Some("us1"), None)), "api.twilio.com");
        assert_eq!(
            host(r(Some("au1"), Some("sydney"))),
            "api.sydney.au1.twilio.com"
        );
        assert_eq!(host(r(None, Some("dublin"))), "api.dublin.us1.twilio.com");
        assert_eq!(host(r(Some("ie1"), None)), "api.dublin.ie1.twilio.com");
        assert_eq!(host(r(Some("xx9"), None)), "api.xx9.twilio.com");
        let p = routed_base(
            &c.pricing_base,
            DEFAULT_PRICING_HOST,
            &r(Some("ie1"), Some("dublin")),
        );
        assert_eq!(p.host_str(), Some("pricing.dublin.ie1.twilio.com"));
        let custom = Url::parse("http://127.0.0.1:4000/").unwrap();
        assert_eq!(
            routed_base(&custom, DEFAULT_API_HOST, &r(Some("ie1"), Some("dublin"))),
            custom
        );
    }
}
