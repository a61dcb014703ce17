//! Queue tickets at service counters: the two portal calls (`POST /v1/checkins/tickets` with the
//! entry's random `Idempotency-Key`, `GET /v1/checkins/tickets/{ticket_id}`) and the checks on
//! what the portal answers. Does not own storing the ticket (`diary`) nor the polling loop and
//! events (the `CheckIns` flows).

use super::error::CheckInError;
use super::venue_code::is_display_text;
use super::wire::{Ticket, TicketRequest};
use crate::net::{HttpClient, HttpRequest, NetError};

/// The portal path of ticket requests, below `portal_base_url`.
pub const TICKETS_PATH: &str = "v1/checkins/tickets";
/// The longest wait between two polls the SDK accepts from the portal (seconds).
pub const MAX_POLL_AFTER: u32 = 300;
/// The longest ticket number and counter name, in characters.
const MAX_NUMBER_CHARS: usize = 16;
const MAX_COUNTER_CHARS: usize = 64;

/// Asks the portal for the ticket of `request`; `idempotency_key` makes a repeat the same ticket.
pub async fn request(
    http: &HttpClient,
    request: &TicketRequest,
    idempotency_key: &str,
) -> Result<Ticket, CheckInError> {
    let mut http_request = HttpRequest::post_json(http.portal_url(TICKETS_PATH)?, request)?;
    http_request
        .headers
        .push(("idempotency-key", idempotency_key.to_owned()));
    decode(http.fetch(http_request).await?)
}

/// The ticket's state now.
pub async fn fetch(http: &HttpClient, ticket_id: &str) -> Result<Ticket, CheckInError> {
    if !is_ticket_id(ticket_id) {
        return Err(CheckInError::InvalidAnswer("ticket_id"));
    }
    let url = http.portal_url(&format!("{TICKETS_PATH}/{ticket_id}"))?;
    decode(http.fetch(HttpRequest::get(url)).await?)
}

fn decode(response: crate::net::HttpResponse) -> Result<Ticket, CheckInError> {
    if !response.is_success() {
        return Err(NetError::Status {
            status: response.status,
        }
        .into());
    }
    let ticket: Ticket = serde_json::from_slice(&response.body)
        .map_err(|_| CheckInError::InvalidAnswer("ticket"))?;
    check(&ticket)?;
    Ok(ticket)
}

/// The bounds the contract gives a ticket's members.
pub fn check(ticket: &Ticket) -> Result<(), CheckInError> {
    if !is_ticket_id(&ticket.ticket_id) {
        return Err(CheckInError::InvalidAnswer("ticket_id"));
    }
    if ticket.number.is_empty() || !is_display_text(&ticket.number, MAX_NUMBER_CHARS) {
        return Err(CheckInError::InvalidAnswer("number"));
    }
    if !(1..=MAX_POLL_AFTER).contains(&ticket.poll_after) {
        return Err(CheckInError::InvalidAnswer("poll_after"));
    }
    if let Some(counter) = &ticket.counter
        && !is_display_text(counter, MAX_COUNTER_CHARS)
    {
        return Err(CheckInError::InvalidAnswer("counter"));
    }
    Ok(())
}

/// At most 64 characters of `[A-Za-z0-9_-]`: safe as a path segment.
fn is_ticket_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checkin::wire::TicketState;

    #[test]
    fn ticket_answers_are_bounded() {
        let good = Ticket {
            ticket_id: "t_1-A".into(),
            number: "A023".into(),
            position: 3,
            state: TicketState::Waiting,
            counter: None,
            poll_after: 5,
        };
        assert!(check(&good).is_ok());
        for (bad, member) in [
            (
                Ticket {
                    ticket_id: "../admin".into(),
                    ..good.clone()
                },
                "ticket_id",
            ),
            (
                Ticket {
                    ticket_id: "x".repeat(65),
                    ..good.clone()
                },
                "ticket_id",
            ),
            (
                Ticket {
                    number: String::new(),
                    ..good.clone()
                },
                "number",
            ),
            (
                Ticket {
                    poll_after: 0,
                    ..good.clone()
                },
                "poll_after",
            ),
            (
                Ticket {
                    poll_after: 301,
                    ..good.clone()
                },
                "poll_after",
            ),
            (
                Ticket {
                    counter: Some("\u{7}".into()),
                    ..good.clone()
                },
                "counter",
            ),
        ] {
            assert!(
                matches!(check(&bad), Err(CheckInError::InvalidAnswer(m)) if m == member),
                "{member}"
            );
        }
    }
}
