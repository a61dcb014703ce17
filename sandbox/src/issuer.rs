//! The sandbox's OpenID4VCI credential issuer (placeholder; the issuance increment fills it).

use axum::Router;
use rusqlite::Connection;

use crate::state::PortalState;

pub(crate) fn create_tables(_conn: &Connection) -> rusqlite::Result<()> {
    Ok(())
}

pub(crate) fn routes() -> Router<PortalState> {
    Router::new()
}
