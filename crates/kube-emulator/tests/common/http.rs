//! A plain HTTP client for wire-level tests against a fresh emulator (no kube-rs).

use std::time::Duration;

use futures::StreamExt;
use kube_emulator::{EmulatorConfig, EmulatorHandle};
use serde_json::{Value, json};

pub const CRD: &str = r#"{"apiVersion":"apiextensions.k8s.io/v1","kind":"CustomResourceDefinition",
 "metadata":{"name":"gadgets.wire.example.com"},
 "spec":{"group":"wire.example.com","scope":"Namespaced","names":{"plural":"gadgets","kind":"Gadget","shortNames":["gd"]},
  "versions":[{"name":"v1","served":true,"storage":true,"subresources":{"status":{}},
   "additionalPrinterColumns":[{"name":"Size","type":"integer","jsonPath":".spec.size"}],
   "schema":{"openAPIV3Schema":{"type":"object","properties":{
     "spec":{"type":"object","properties":{"size":{"type":"integer","minimum":1,"default":1},"mode":{"type":"string","enum":["a","b"]}},
       "x-kubernetes-validations":[{"rule":"self.size < 100","message":"size must stay below 100"}]},
     "status":{"type":"object","x-kubernetes-preserve-unknown-fields":true}}}}}]}}"#;

pub const GADGETS: &str = "/apis/wire.example.com/v1/namespaces/default/gadgets";

pub struct W {
    pub emu: EmulatorHandle,
    pub http: reqwest::Client,
}

impl W {
    pub async fn new() -> W {
        Self::with(EmulatorConfig::default()).await
    }

    pub async fn with(cfg: EmulatorConfig) -> W {
        // one rustls crypto provider for the process (reqwest brings none of its own)
        let _ = rustls::crypto::ring::default_provider().install_default();
        let emu = kube_emulator::start(cfg).await.unwrap();
        W {
            emu,
            http: reqwest::Client::new(),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.emu.url())
    }

    pub async fn send(
        &self,
        method: &str,
        path: &str,
        ct: &str,
        body: Option<String>,
    ) -> (u16, Value) {
        let mut r = self.http.request(method.parse().unwrap(), self.url(path));
        if let Some(b) = body {
            r = r.header("content-type", ct).body(b);
        }
        let resp = r.send().await.unwrap();
        let code = resp.status().as_u16();
        let text = resp.text().await.unwrap();
        (
            code,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        self.send("GET", path, "", None).await
    }

    pub async fn post(&self, path: &str, body: &Value) -> (u16, Value) {
        self.send("POST", path, "application/json", Some(body.to_string()))
            .await
    }

    pub async fn patch(&self, path: &str, ct: &str, body: &Value) -> (u16, Value) {
        self.send("PATCH", path, ct, Some(body.to_string())).await
    }

    pub async fn with_crd(self) -> W {
        let crd: Value = serde_json::from_str(CRD).unwrap();
        let (code, _) = self
            .post(
                "/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
                &crd,
            )
            .await;
        assert_eq!(code, 201);
        self
    }

    /// Open a watch and return a line reader.
    pub async fn watch(&self, path_and_query: &str) -> Lines {
        let resp = self
            .http
            .get(self.url(path_and_query))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status().as_u16(), 200);
        Lines {
            stream: Box::pin(resp.bytes_stream()),
            buf: Vec::new(),
        }
    }
}

pub struct Lines {
    stream: std::pin::Pin<Box<dyn futures::Stream<Item = reqwest::Result<bytes::Bytes>> + Send>>,
    buf: Vec<u8>,
}

impl Lines {
    /// Next event, or None at end of stream.
    pub async fn next(&mut self) -> Option<Value> {
        loop {
            if let Some(i) = self.buf.iter().position(|b| *b == b'\n') {
                let line: Vec<u8> = self.buf.drain(..=i).collect();
                return Some(serde_json::from_slice(&line).expect("one JSON event per line"));
            }
            let chunk = tokio::time::timeout(Duration::from_secs(20), self.stream.next())
                .await
                .expect("event in time")?;
            self.buf.extend_from_slice(&chunk.unwrap());
        }
    }
}

pub fn gadget(name: &str, size: i64) -> Value {
    json!({"apiVersion":"wire.example.com/v1","kind":"Gadget","metadata":{"name": name},"spec":{"size": size}})
}
