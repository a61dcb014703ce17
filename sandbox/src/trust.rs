//! The trust list the sandbox portal publishes (placeholder; the trust-list increment fills it).

use axum::Router;
use rusqlite::Connection;

use crate::state::PortalState;

pub(crate) fn create_tables(_conn: &Connection) -> rusqlite::Result<()> {
    Ok(())
}

pub(crate) fn routes() -> Router<PortalState> {
    Router::new()
}
