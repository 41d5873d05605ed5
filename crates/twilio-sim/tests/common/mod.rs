//! Shared test helpers: a simulator on 127.0.0.1:0 with one main account and a small HTTP client.
#![allow(dead_code)]

pub mod schema;

use serde_json::Value;
use twilio_sim::{SeedAccount, SimConfig, SimServer, Simulator};

pub struct Env {
    pub sim: Simulator,
    pub server: SimServer,
    pub acct: SeedAccount,
    pub http: reqwest::Client,
}

pub struct Resp {
    pub status: u16,
    pub body: Value,
    pub headers: reqwest::header::HeaderMap,
}

impl Env {
    pub async fn new() -> Self {
        Self::with(SimConfig::default()).await
    }

    pub async fn with(config: SimConfig) -> Self {
        let sim = Simulator::new(config);
        let acct = sim.add_account("Acme");
        let server = sim.serve("127.0.0.1:0".parse().unwrap()).await.unwrap();
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder().build().unwrap();
        Self {
            sim,
            server,
            acct,
            http,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.server.base_url(), path)
    }

    pub fn creds(&self) -> (String, String) {
        (self.acct.sid.clone(), self.acct.auth_token.clone())
    }

    pub fn numbers_path(&self, acct: &str) -> String {
        format!("/2010-04-01/Accounts/{acct}/IncomingPhoneNumbers.json")
    }

    async fn finish(r: reqwest::Response) -> Resp {
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        let text = r.text().await.unwrap();
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        Resp {
            status,
            body,
            headers,
        }
    }

    pub async fn try_get(&self, user: &str, pass: &str, path: &str) -> reqwest::Result<Resp> {
        let r = self
            .http
            .get(self.url(path))
            .basic_auth(user, Some(pass))
            .send()
            .await?;
        Ok(Self::finish(r).await)
    }

    pub async fn get_as(&self, user: &str, pass: &str, path: &str) -> Resp {
        self.try_get(user, pass, path).await.unwrap()
    }

    pub async fn get(&self, path: &str) -> Resp {
        let (u, p) = self.creds();
        self.get_as(&u, &p, path).await
    }

    pub async fn try_post(
        &self,
        user: &str,
        pass: &str,
        path: &str,
        form: &[(&str, &str)],
    ) -> reqwest::Result<Resp> {
        let r = self
            .http
            .post(self.url(path))
            .basic_auth(user, Some(pass))
            .form(form)
            .send()
            .await?;
        Ok(Self::finish(r).await)
    }

    pub async fn post_as(&self, user: &str, pass: &str, path: &str, form: &[(&str, &str)]) -> Resp {
        self.try_post(user, pass, path, form).await.unwrap()
    }

    pub async fn post(&self, path: &str, form: &[(&str, &str)]) -> Resp {
        let (u, p) = self.creds();
        self.post_as(&u, &p, path, form).await
    }

    pub async fn delete_as(&self, user: &str, pass: &str, path: &str) -> Resp {
        let r = self
            .http
            .delete(self.url(path))
            .basic_auth(user, Some(pass))
            .send()
            .await
            .unwrap();
        Self::finish(r).await
    }

    pub async fn delete(&self, path: &str) -> Resp {
        let (u, p) = self.creds();
        self.delete_as(&u, &p, path).await
    }

    /// Buys a number found by searching US local numbers in an area code.
    pub async fn buy_in(&self, area: &str) -> Value {
        let r = self
            .post(&self.numbers_path(&self.acct.sid), &[("AreaCode", area)])
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
        r.body
    }

    /// The first `n` search results.
    pub async fn search(&self, query: &str) -> Vec<Value> {
        let r = self
            .get(&format!(
                "/2010-04-01/Accounts/{}/AvailablePhoneNumbers/{query}",
                self.acct.sid
            ))
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        r.body["available_phone_numbers"]
            .as_array()
            .unwrap()
            .clone()
    }
}

/// Asserts a Twilio error body with the given HTTP status and code.
#[track_caller]
pub fn assert_error(r: &Resp, status: u16, code: u64) {
    assert_eq!(r.status, status, "body: {}", r.body);
    assert_eq!(r.body["code"].as_u64(), Some(code), "body: {}", r.body);
    assert_eq!(
        r.body["status"].as_u64(),
        Some(u64::from(status)),
        "body: {}",
        r.body
    );
    assert!(r.body["message"].as_str().is_some_and(|m| !m.is_empty()));
    assert!(
        r.body["more_info"]
            .as_str()
            .is_some_and(|m| m.starts_with("https://www.twilio.com/docs/errors/"))
    );
}
