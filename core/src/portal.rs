//! The HTTP contract with an agency portal, as seen from the phone.
//!
//! Owns: the request and response types of portal endpoints and the calls that make them
//! (`docs/portal-api.yaml` is the written contract; `citizen-sandbox` implements the server side
//! from the same types). Does not own transport (see `net`) or what is stored about the answers.

use serde::{Deserialize, Serialize};

use crate::net::{HttpClient, NetError};

/// The current version of the portal API this SDK speaks.
pub const API_VERSION: u32 = 1;

/// `GET /v1/ping`: who the portal is and what it speaks. Public, no personal data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PingResponse {
    /// The portal's display name (an agency name, or the sandbox instance name).
    pub portal_name: String,
    pub api_version: u32,
    /// The portal's clock, in Unix seconds, so the app can warn about a wrong phone clock.
    pub server_time: i64,
}

pub async fn ping(http: &HttpClient) -> Result<PingResponse, NetError> {
    http.get_json("v1/ping").await
}
