//! Fault injection: the bad networks and busy portals a citizen's phone meets, on demand.
//!
//! Owns: the fault knobs ([`Faults`]: an error rate answered `503`, a throttle rate answered
//! `429` with `Retry-After`, added latency, and a drop rate that lets the portal do the work and
//! then cuts the connection before the answer is read, the case that makes exactly-once delivery
//! hard) and the middleware that applies them to the dossier and upload endpoints only
//! ([`FAULTY_PREFIXES`]). Set by tests through `RunningSandbox::set_faults` or
//! `POST /v1/test/faults`. Does not own any endpoint's behaviour.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Json;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::state::PortalState;

/// The paths faults apply to: what the outbox sends.
pub const FAULTY_PREFIXES: &[&str] = &["/v1/dossiers", "/v1/uploads"];

/// The fault knobs. All zero by default: a well-behaved portal.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Faults {
    /// Share of requests answered `503` without being processed (0 to 1).
    pub error_rate: f64,
    /// Share of requests answered `429` with `Retry-After: retry_after_secs`, not processed.
    pub throttle_rate: f64,
    pub retry_after_secs: u32,
    /// Share of requests that are processed and whose answer is then cut off mid-body.
    pub drop_rate: f64,
    /// Added to every request, in milliseconds.
    pub latency_ms: u32,
}

impl Faults {
    fn check(&self) -> Result<(), &'static str> {
        let rate = |r: f64| (0.0..=1.0).contains(&r);
        if !rate(self.error_rate) || !rate(self.throttle_rate) || !rate(self.drop_rate) {
            return Err("rate");
        }
        if self.error_rate + self.throttle_rate > 1.0 {
            return Err("rate");
        }
        if self.retry_after_secs > 3_600 || self.latency_ms > 60_000 {
            return Err("range");
        }
        Ok(())
    }
}

/// The knobs in force, shared by the server and the test handle.
#[derive(Clone, Default)]
pub(crate) struct FaultKnobs(Arc<Mutex<Faults>>);

impl FaultKnobs {
    pub(crate) fn get(&self) -> Faults {
        *self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn set(&self, faults: Faults) -> Result<(), &'static str> {
        faults.check()?;
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = faults;
        Ok(())
    }
}

/// A uniform draw in `[0, 1)`.
fn roll() -> f64 {
    use ring::rand::{SecureRandom, SystemRandom};
    let mut bytes = [0u8; 8];
    let _ = SystemRandom::new().fill(&mut bytes);
    (u64::from_le_bytes(bytes) >> 11) as f64 / (1u64 << 53) as f64
}

pub(crate) async fn inject(
    State(state): State<PortalState>,
    request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path();
    if !FAULTY_PREFIXES
        .iter()
        .any(|prefix| path.starts_with(prefix))
    {
        return next.run(request).await;
    }
    let faults = state.faults().get();
    if faults.latency_ms > 0 {
        tokio::time::sleep(Duration::from_millis(faults.latency_ms.into())).await;
    }
    let before = roll();
    if before < faults.error_rate {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({ "error": "unavailable" })),
        )
            .into_response();
    }
    if before < faults.error_rate + faults.throttle_rate {
        return (
            StatusCode::TOO_MANY_REQUESTS,
            [(header::RETRY_AFTER, faults.retry_after_secs.to_string())],
            Json(json!({ "error": "throttled" })),
        )
            .into_response();
    }
    let response = next.run(request).await;
    if roll() < faults.drop_rate {
        // The work is done; the answer never arrives whole. The status line goes out, then the
        // body fails, and hyper closes the connection: the client cannot know what happened.
        let (mut parts, _) = response.into_parts();
        parts.headers.remove(header::CONTENT_LENGTH);
        let failing = futures_util::stream::once(async {
            Err::<axum::body::Bytes, _>(std::io::Error::other("fault: connection dropped"))
        });
        return Response::from_parts(parts, Body::from_stream(failing));
    }
    response
}

/// `POST /v1/test/faults`: sets the knobs (the body is a [`Faults`]).
pub(crate) async fn set_handler(
    State(state): State<PortalState>,
    Json(faults): Json<Faults>,
) -> Response {
    match state.faults().set(faults) {
        Ok(()) => (StatusCode::OK, Json(faults)).into_response(),
        Err(field) => (
            StatusCode::BAD_REQUEST,
            Json(json!({ "error": "invalid_field", "field": field })),
        )
            .into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn knobs_out_of_range_are_refused() {
        let knobs = FaultKnobs::default();
        assert!(
            knobs
                .set(Faults {
                    error_rate: 1.5,
                    ..Faults::default()
                })
                .is_err()
        );
        assert!(
            knobs
                .set(Faults {
                    error_rate: 0.6,
                    throttle_rate: 0.6,
                    ..Faults::default()
                })
                .is_err()
        );
        assert_eq!(knobs.get(), Faults::default());
        let ok = Faults {
            error_rate: 0.3,
            drop_rate: 0.1,
            ..Faults::default()
        };
        knobs.set(ok).unwrap();
        assert_eq!(knobs.get(), ok);
    }

    #[test]
    fn rolls_stay_in_range() {
        for _ in 0..1_000 {
            let r = roll();
            assert!((0.0..1.0).contains(&r));
        }
    }
}
