//! REST requests for snapshots and instrument lists (reqwest on the shared TLS
//! configuration).

use std::time::Duration;

use super::error::NetError;

#[derive(Clone)]
pub struct HttpClient {
    client: reqwest::Client,
}

impl HttpClient {
    pub fn new() -> Result<Self, NetError> {
        let tls = (*super::tls::client_config()).clone();
        let client = reqwest::Client::builder()
            .use_preconfigured_tls(tls)
            .user_agent(concat!("depthwatch/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(30))
            .build()
            .map_err(|e| NetError::Other(format!("HTTP client setup: {e}")))?;
        Ok(HttpClient { client })
    }

    /// GET a URL and return its body; non-2xx statuses are errors carrying
    /// `Retry-After` when the server sent one.
    pub async fn get(&self, url: &str) -> Result<String, NetError> {
        self.body_of(self.client.get(url)).await
    }

    /// POST a JSON body, as [`HttpClient::get`] otherwise.
    pub async fn post(&self, url: &str, json: &str) -> Result<String, NetError> {
        let req = self
            .client
            .post(url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(json.to_string());
        self.body_of(req).await
    }

    async fn body_of(&self, req: reqwest::RequestBuilder) -> Result<String, NetError> {
        let resp = req
            .send()
            .await
            .map_err(|e| NetError::classify(&error_chain(&e)))?;
        let status = resp.status();
        if !status.is_success() {
            let retry_after = resp
                .headers()
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|s| s.trim().parse::<u64>().ok())
                .map(Duration::from_secs);
            return Err(NetError::Http {
                status: status.as_u16(),
                retry_after,
            });
        }
        resp.text()
            .await
            .map_err(|e| NetError::classify(&error_chain(&e)))
    }
}

/// An error and its sources joined, so classification sees the root cause.
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}
