//! The procedure catalogue the sandbox portal publishes: `GET /v1/catalogue/procedures`, by
//! delta with a cursor and an `ETag`, and the test knob `POST /v1/test/catalogue/revise`.
//!
//! Owns: the `catalogue_procedures` table (each procedure's current record as JSON and `seq`,
//! the catalogue-wide sequence number of its last change, which is what cursors count), filling
//! it on first use from the seeded generator ([`generate`], at least 7,000 procedures), paging
//! changes after a cursor, the revision `ETag` (`"catalogue-<max seq>"`: a page's content
//! depends only on it), and revising: new versions, withdrawals, new procedures, and broken
//! answers for fault tests. Does not own the format or its checks
//! (`citizen_core::dossier::wire`).

pub mod generate;

use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use citizen_core::dossier::wire::{MAX_PAGE_LIMIT, Procedure, ReviseRequest, Revised};
use rusqlite::{Connection, OptionalExtension, params};
use serde::Deserialize;

use crate::state::PortalState;

/// The page size without `limit`.
pub const DEFAULT_LIMIT: u32 = 200;

pub(crate) fn create_tables(conn: &Connection) -> rusqlite::Result<()> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS catalogue_procedures (
             code TEXT PRIMARY KEY,
             seq INTEGER NOT NULL UNIQUE,
             withdrawn INTEGER NOT NULL DEFAULT 0,
             record TEXT NOT NULL
         );
         CREATE TABLE IF NOT EXISTS catalogue_faults (
             id INTEGER PRIMARY KEY CHECK (id = 1),
             broken_pages INTEGER NOT NULL
         );",
    )
}

pub(crate) fn routes() -> Router<PortalState> {
    Router::new()
        .route("/v1/catalogue/procedures", get(procedures))
        .route("/v1/test/catalogue/revise", post(revise_endpoint))
}

/// Fills the catalogue from the generator if it is empty.
pub(crate) fn seed(conn: &Connection) -> rusqlite::Result<()> {
    let count: i64 = conn.query_row("SELECT count(*) FROM catalogue_procedures", [], |r| {
        r.get(0)
    })?;
    if count > 0 {
        return Ok(());
    }
    let tx = conn.unchecked_transaction()?;
    {
        let mut insert = tx.prepare(
            "INSERT INTO catalogue_procedures (code, seq, withdrawn, record) VALUES (?1, ?2, 0, ?3)",
        )?;
        for (index, procedure) in generate::catalogue(generate::SEED).iter().enumerate() {
            insert.execute(params![
                procedure.code,
                index as i64 + 1,
                to_json(procedure)
            ])?;
        }
    }
    tx.commit()
}

fn to_json(procedure: &Procedure) -> String {
    serde_json::to_string(procedure).unwrap_or_default()
}

fn revision(conn: &Connection) -> rusqlite::Result<i64> {
    conn.query_row(
        "SELECT coalesce(max(seq), 0) FROM catalogue_procedures",
        [],
        |r| r.get(0),
    )
}

/// Publishes `procedure` (new, or replacing the one with its code) as the catalogue's latest
/// change, so the next delta sync fetches it. Sandbox only: benches and tests that need a
/// procedure the generated catalogue does not have (e.g. one accepting a 50 MB document).
pub(crate) fn publish(conn: &Connection, procedure: &Procedure) -> rusqlite::Result<()> {
    seed(conn)?;
    let tx = conn.unchecked_transaction()?;
    let next = revision(&tx)? + 1;
    tx.execute(
        "INSERT INTO catalogue_procedures (code, seq, withdrawn, record) VALUES (?1, ?2, 0, ?3)
         ON CONFLICT (code) DO UPDATE SET seq = excluded.seq, withdrawn = 0,
             record = excluded.record",
        params![procedure.code, next, to_json(procedure)],
    )?;
    tx.commit()
}

/// How many procedures the catalogue holds now (withdrawn ones not counted).
pub(crate) fn live_count(conn: &Connection) -> rusqlite::Result<u64> {
    seed(conn)?;
    let count: i64 = conn.query_row(
        "SELECT count(*) FROM catalogue_procedures WHERE withdrawn = 0",
        [],
        |r| r.get(0),
    )?;
    Ok(count as u64)
}

#[derive(Debug, Deserialize)]
struct PageQuery {
    since: Option<String>,
    limit: Option<u32>,
}

/// What one catalogue request gets.
enum Answer {
    NotModified(String),
    Broken(String),
    Page(String, String),
    BadRequest,
}

fn answer(
    conn: &Connection,
    query: &PageQuery,
    if_none_match: &[String],
) -> rusqlite::Result<Answer> {
    seed(conn)?;
    let etag = format!("\"catalogue-{}\"", revision(conn)?);
    if if_none_match
        .iter()
        .any(|value| crate::trust::matches_etag(value, &etag))
    {
        return Ok(Answer::NotModified(etag));
    }
    let broken: Option<i64> = conn
        .query_row(
            "UPDATE catalogue_faults SET broken_pages = broken_pages - 1
             WHERE id = 1 AND broken_pages > 0 RETURNING broken_pages",
            [],
            |r| r.get(0),
        )
        .optional()?;
    if broken.is_some() {
        return Ok(Answer::Broken(etag));
    }
    let since = match query.since.as_deref() {
        None => None,
        Some(text) => match text.parse::<i64>() {
            Ok(seq) if seq >= 0 => Some(seq),
            _ => return Ok(Answer::BadRequest),
        },
    };
    let limit = query
        .limit
        .unwrap_or(DEFAULT_LIMIT)
        .clamp(1, MAX_PAGE_LIMIT);
    // A first sync (no cursor) gets live procedures only: it has nothing to delete.
    let mut statement = conn.prepare_cached(
        "SELECT seq, record FROM catalogue_procedures
         WHERE seq > ?1 AND (?2 OR withdrawn = 0) ORDER BY seq LIMIT ?3",
    )?;
    let rows = statement
        .query_map(
            params![since.unwrap_or(0), since.is_some(), i64::from(limit) + 1],
            |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)),
        )?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let more = rows.len() > limit as usize;
    let page = &rows[..rows.len().min(limit as usize)];
    let cursor = page.last().map_or(since.unwrap_or(0), |(seq, _)| *seq);
    // The stored records are the JSON of `wire::Procedure` already: spliced, not re-encoded.
    let mut body = String::with_capacity(page.iter().map(|(_, r)| r.len() + 1).sum::<usize>() + 64);
    body.push_str("{\"procedures\":[");
    for (index, (_, record)) in page.iter().enumerate() {
        if index > 0 {
            body.push(',');
        }
        body.push_str(record);
    }
    body.push_str(&format!("],\"cursor\":\"{cursor}\",\"more\":{more}}}"));
    Ok(Answer::Page(etag, body))
}

async fn procedures(
    State(state): State<PortalState>,
    Query(query): Query<PageQuery>,
    headers: HeaderMap,
) -> Response {
    let if_none_match: Vec<String> = headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|value| value.to_str().ok().map(str::to_owned))
        .collect();
    let etag_header =
        |etag: &str| HeaderValue::from_str(etag).unwrap_or(HeaderValue::from_static("\"\""));
    match state.with_conn(|conn| answer(conn, &query, &if_none_match)) {
        Ok(Answer::NotModified(etag)) => (
            StatusCode::NOT_MODIFIED,
            [(header::ETAG, etag_header(&etag))],
        )
            .into_response(),
        Ok(Answer::Broken(etag)) => (
            StatusCode::OK,
            [
                (
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/json"),
                ),
                (header::ETAG, etag_header(&etag)),
            ],
            "{\"procedures\":[{\"code\":\"1.0",
        )
            .into_response(),
        Ok(Answer::Page(etag, body)) => (
            StatusCode::OK,
            [
                (
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/json"),
                ),
                (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
                (header::ETAG, etag_header(&etag)),
            ],
            body,
        )
            .into_response(),
        Ok(Answer::BadRequest) => (
            StatusCode::BAD_REQUEST,
            Json(serde_json::json!({ "error": "invalid_field", "field": "since" })),
        )
            .into_response(),
        Err(error) => internal(&error, "served"),
    }
}

/// Changes, withdraws and adds procedures (each change takes the next `seq`), and arms broken
/// answers. Which procedures change is drawn from the revision number, so a run of revisions is
/// reproducible.
pub(crate) fn revise(conn: &Connection, request: &ReviseRequest) -> rusqlite::Result<Revised> {
    seed(conn)?;
    let tx = conn.unchecked_transaction()?;
    let mut next = revision(&tx)?;
    let mut rng = generate::Rng::new(generate::SEED ^ next as u64);
    let live: Vec<(String, String)> = tx
        .prepare("SELECT code, record FROM catalogue_procedures WHERE withdrawn = 0 ORDER BY seq")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let wanted = (request.changed + request.withdrawn) as usize;
    let mut picked: Vec<usize> = Vec::new();
    while picked.len() < wanted.min(live.len()) {
        let index = rng.below(live.len() as u64) as usize;
        if !picked.contains(&index) {
            picked.push(index);
        }
    }
    let mut revised = Revised::default();
    let mut update = tx.prepare(
        "UPDATE catalogue_procedures SET seq = ?2, withdrawn = ?3, record = ?4 WHERE code = ?1",
    )?;
    for (n, index) in picked.into_iter().enumerate() {
        let (code, record) = &live[index];
        let Ok(mut procedure) = serde_json::from_str::<Procedure>(record) else {
            continue;
        };
        procedure.version += 1;
        next += 1;
        let withdraw = n >= request.changed as usize;
        if withdraw {
            procedure.withdrawn = true;
            revised.withdrawn.push(code.clone());
        } else {
            procedure.description = format!(
                "{} (Cập nhật phiên bản {}.)",
                procedure.description, procedure.version
            );
            for fee in &mut procedure.fees {
                fee.amount += 5_000;
            }
            revised.changed.push(code.clone());
        }
        update.execute(params![code, next, withdraw, to_json(&procedure)])?;
    }
    let serial: i64 = tx.query_row("SELECT count(*) FROM catalogue_procedures", [], |r| {
        r.get(0)
    })?;
    for n in 0..request.added as usize {
        next += 1;
        let procedure = generate::later(&mut rng, n, serial as usize + n);
        tx.execute(
            "INSERT INTO catalogue_procedures (code, seq, withdrawn, record) VALUES (?1, ?2, 0, ?3)",
            params![procedure.code, next, to_json(&procedure)],
        )?;
        revised.added.push(procedure.code);
    }
    if request.broken_pages > 0 {
        tx.execute(
            "INSERT INTO catalogue_faults (id, broken_pages) VALUES (1, ?1)
             ON CONFLICT (id) DO UPDATE SET broken_pages = excluded.broken_pages",
            [request.broken_pages],
        )?;
    }
    drop(update);
    tx.commit()?;
    Ok(revised)
}

/// Sandbox only: revise the catalogue (see [`revise`]).
async fn revise_endpoint(
    State(state): State<PortalState>,
    Json(request): Json<ReviseRequest>,
) -> Response {
    match state.with_conn(|conn| revise(conn, &request)) {
        Ok(revised) => Json(revised).into_response(),
        Err(error) => internal(&error, "revised"),
    }
}

fn internal(error: &rusqlite::Error, what: &str) -> Response {
    tracing::error!(%error, "the catalogue could not be {what}");
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        Json(serde_json::json!({ "error": "internal" })),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use citizen_core::dossier::wire::CataloguePage;

    fn conn() -> Connection {
        let conn = Connection::open_in_memory().unwrap();
        create_tables(&conn).unwrap();
        conn
    }

    fn page(conn: &Connection, since: Option<&str>, limit: u32) -> (String, CataloguePage) {
        let query = PageQuery {
            since: since.map(str::to_owned),
            limit: Some(limit),
        };
        match answer(conn, &query, &[]).unwrap() {
            Answer::Page(etag, body) => (etag, serde_json::from_str(&body).unwrap()),
            _ => panic!("not a page"),
        }
    }

    #[test]
    fn pages_walk_the_catalogue_and_deltas_carry_only_changes() {
        let conn = conn();
        let total = live_count(&conn).unwrap();
        assert!(total >= 7_000);
        let mut cursor: Option<String> = None;
        let mut seen = 0;
        let mut etag: String;
        loop {
            let (tag, page) = page(&conn, cursor.as_deref(), 500);
            page.check().unwrap();
            seen += page.procedures.len();
            cursor = Some(page.cursor.clone());
            etag = tag;
            if !page.more {
                break;
            }
        }
        assert_eq!(seen as u64, total);
        let query = PageQuery {
            since: cursor.clone(),
            limit: None,
        };
        assert!(matches!(
            answer(&conn, &query, &[etag.clone()]).unwrap(),
            Answer::NotModified(_)
        ));

        let revised = revise(
            &conn,
            &ReviseRequest {
                changed: 3,
                withdrawn: 2,
                added: 1,
                broken_pages: 0,
            },
        )
        .unwrap();
        assert_eq!(
            (
                revised.changed.len(),
                revised.withdrawn.len(),
                revised.added.len()
            ),
            (3, 2, 1)
        );
        let (new_etag, delta) = page(&conn, cursor.as_deref(), 500);
        assert_ne!(new_etag, etag);
        assert_eq!(delta.procedures.len(), 6);
        assert!(!delta.more);
        assert_eq!(delta.procedures.iter().filter(|p| p.withdrawn).count(), 2);
        assert_eq!(live_count(&conn).unwrap(), total - 2 + 1);
    }
}
