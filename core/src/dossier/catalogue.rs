//! The procedure catalogue in the store: applying synced pages, and searching it offline.
//!
//! Owns: the `catalogue_procedures`, `catalogue_records` and `catalogue_terms` tables (migration
//! 11), the sync cursor
//! and ETag in `meta`, the search index (folded words with weights), ranking, filters and
//! paging. Does not own folding (`fold`, pure), the wire format (`wire`) nor the HTTP calls
//! (`Dossiers::sync_catalogue`). Every function here is plain SQL on a connection or
//! transaction the caller got from `Store::read`/`Store::write`.
//!
//! ## Search
//!
//! Each procedure's name, code, keywords and agency name are folded (`fold::tokens`) and each
//! distinct word is stored once per procedure with the weight of the best place it stands in
//! ([`NAME_WEIGHT`] over [`KEYWORD_WEIGHT`] over [`AGENCY_WEIGHT`]). Descriptions are not
//! indexed: they are long (about 50 distinct words each, which would triple the index and the
//! first sync's time) and the portal's keywords say what matters in them.
//!
//! A query is folded the same way; each of its words must equal a stored word, except the last,
//! which may also be the start of one (type-ahead), so "khai si" already finds "khai sinh". A procedure matches when it has every query word that the catalogue knows
//! (a word no procedure has, a typo or a stray word, is left out rather than emptying the
//! list). Matches rank, best first, by:
//! 1. the sum of their query words' weights (an exact word counts double, a prefix once), plus a
//!    phrase bonus when the folded name is the folded query ([`EXACT_NAME_BONUS`]), starts with
//!    it ([`NAME_PREFIX_BONUS`]) or contains it ([`NAME_PHRASE_BONUS`]);
//! 2. the shorter name (the plain procedure before its variants);
//! 3. its code, so equal ranks always come in the same order and pages never overlap.
//!
//! The plan: a last word that starts only one stored word is looked up as that word; each query
//! word's index rows are counted (up to a cap); the rarest word's rows are the candidates, and
//! every other word is one primary-key lookup per candidate (a prefix: one range on the
//! `(procedure_id, term)` index). Only the candidates reach the sort and the count. Measured with
//! 7,000 procedures: `catalogue.search_ms` in `cargo xtask bench`.

use std::collections::BTreeMap;

use rusqlite::types::Value;
use rusqlite::{Connection, OptionalExtension, Transaction, params, params_from_iter};

use super::fold;
use super::wire::{Agency, Level, Procedure};
use crate::store::{StoreError, meta};

/// The weight of a word of the procedure's name (and of its code).
pub const NAME_WEIGHT: i64 = 8;
/// The weight of a word of one of its keywords.
pub const KEYWORD_WEIGHT: i64 = 4;
/// The weight of a word of its agency's name.
pub const AGENCY_WEIGHT: i64 = 2;
/// Added when the folded name is the folded query.
pub const EXACT_NAME_BONUS: i64 = 100;
/// Added when the folded name starts with the folded query.
pub const NAME_PREFIX_BONUS: i64 = 50;
/// Added when the folded name contains the folded query.
pub const NAME_PHRASE_BONUS: i64 = 25;
/// Query words beyond this many are ignored.
pub const MAX_QUERY_WORDS: usize = 8;
/// Query words' index rows are counted up to this many to choose the rarest.
const POSTINGS_CAP: i64 = 1_000;
/// The largest page [`search`] returns.
pub const MAX_PAGE_SIZE: u32 = 100;

pub(crate) const CURSOR_KEY: &str = "catalogue.cursor";
pub(crate) const ETAG_KEY: &str = "catalogue.etag";
pub(crate) const SYNCED_AT_KEY: &str = "catalogue.synced_at";

/// What a search may be narrowed to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CatalogueFilter {
    /// Only this agency's procedures (its `code`).
    pub agency: Option<String>,
    /// Only procedures at this level.
    pub level: Option<Level>,
}

/// A procedure as a result list shows it; [`procedure`] gives the whole record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcedureSummary {
    pub code: String,
    pub name: String,
    pub agency: Agency,
    pub level: Level,
    /// The fee table's total in đồng; 0 when free.
    pub total_fee: u64,
}

/// One page of search results, best first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchPage {
    pub hits: Vec<ProcedureSummary>,
    /// How many procedures match in all.
    pub total: u64,
    /// The page number asked for (from 0).
    pub page: u32,
    /// Further pages exist.
    pub more: bool,
}

/// An agency and how many procedures it handles, for the search filter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgencySummary {
    pub agency: Agency,
    pub level: Level,
    pub procedures: u64,
}

/// What applying one page changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Applied {
    /// Procedures added or replaced by a newer version.
    pub updated: u32,
    /// Procedures deleted because the portal withdrew them.
    pub withdrawn: u32,
}

/// Applies one page of records in the caller's transaction: newer versions replace older ones,
/// withdrawn procedures are deleted, an older version than the one stored is ignored.
pub fn apply(tx: &Transaction<'_>, procedures: &[Procedure]) -> Result<Applied, StoreError> {
    let mut applied = Applied::default();
    for procedure in procedures {
        let stored: Option<(i64, i64)> = tx
            .prepare_cached("SELECT id, version FROM catalogue_procedures WHERE code = ?1")?
            .query_row([&procedure.code], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        let version = i64::try_from(procedure.version).unwrap_or(i64::MAX);
        if let Some((_, stored_version)) = stored
            && stored_version > version
        {
            continue;
        }
        if let Some((id, _)) = stored {
            tx.prepare_cached("DELETE FROM catalogue_terms WHERE procedure_id = ?1")?
                .execute([id])?;
        }
        if procedure.withdrawn {
            if let Some((id, _)) = stored {
                tx.prepare_cached("DELETE FROM catalogue_records WHERE procedure_id = ?1")?
                    .execute([id])?;
                tx.prepare_cached("DELETE FROM catalogue_procedures WHERE id = ?1")?
                    .execute([id])?;
                applied.withdrawn += 1;
            }
            continue;
        }
        let record = serde_json::to_string(procedure)
            .map_err(|_| StoreError::Sqlite(rusqlite::Error::InvalidQuery))?;
        let total_fee = i64::try_from(procedure.total_fee()).unwrap_or(i64::MAX);
        let id: i64 = tx
            .prepare_cached(
                "INSERT INTO catalogue_procedures
                     (code, version, name, name_folded, agency_code, agency_name, level,
                      total_fee)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
                 ON CONFLICT (code) DO UPDATE SET
                     version = excluded.version, name = excluded.name,
                     name_folded = excluded.name_folded, agency_code = excluded.agency_code,
                     agency_name = excluded.agency_name, level = excluded.level,
                     total_fee = excluded.total_fee
                 RETURNING id",
            )?
            .query_row(
                params![
                    procedure.code,
                    version,
                    procedure.name,
                    fold::fold(&procedure.name),
                    procedure.agency.code,
                    procedure.agency.name,
                    procedure.level.as_str(),
                    total_fee,
                ],
                |r| r.get(0),
            )?;
        tx.prepare_cached(
            "INSERT INTO catalogue_records (procedure_id, record) VALUES (?1, ?2)
             ON CONFLICT (procedure_id) DO UPDATE SET record = excluded.record",
        )?
        .execute(params![id, record])?;
        let mut insert = tx.prepare_cached(
            "INSERT INTO catalogue_terms (term, procedure_id, weight) VALUES (?1, ?2, ?3)",
        )?;
        for (term, weight) in terms(procedure) {
            insert.execute(params![term, id, weight])?;
        }
        applied.updated += 1;
    }
    Ok(applied)
}

/// Each distinct folded word of `procedure` with the weight of the best place it stands in.
pub fn terms(procedure: &Procedure) -> BTreeMap<String, i64> {
    let mut terms = BTreeMap::new();
    let mut add = |text: &str, weight: i64| {
        for word in fold::tokens(text) {
            let entry = terms.entry(word).or_insert(weight);
            *entry = (*entry).max(weight);
        }
    };
    add(&procedure.name, NAME_WEIGHT);
    add(&procedure.code, NAME_WEIGHT);
    for keyword in &procedure.keywords {
        add(keyword, KEYWORD_WEIGHT);
    }
    add(&procedure.agency.name, AGENCY_WEIGHT);
    terms
}

/// One folded query word and how it is looked up.
struct Word {
    text: String,
    /// The last word, from two letters on, also matches longer words it starts, unless the
    /// index holds only one such word: then it is looked up as that word (`term`), which spares
    /// grouping the range by procedure.
    prefix: bool,
    /// The one stored word it stands for (itself, or the only word it starts).
    term: String,
    /// How many index rows it matches.
    postings: i64,
}

impl Word {
    /// The exclusive upper bound of a prefix range: no folded word sorts above U+10FFFF.
    fn upper(&self) -> String {
        format!("{}\u{10FFFF}", self.text)
    }
}

/// Searches the stored catalogue (see the module's doc for the ranking). An empty query lists
/// every procedure that passes `filter`, by name. `page` counts from 0; `page_size` is
/// 1..=[`MAX_PAGE_SIZE`] (the caller checks it).
pub fn search(
    conn: &Connection,
    query: &str,
    filter: &CatalogueFilter,
    page: u32,
    page_size: u32,
) -> Result<SearchPage, StoreError> {
    let mut folded: Vec<String> = Vec::new();
    for word in fold::tokens(query) {
        if !folded.contains(&word) && folded.len() < MAX_QUERY_WORDS {
            folded.push(word);
        }
    }
    let phrase = folded.join(" ");
    let last = folded.len().saturating_sub(1);
    let mut words = Vec::new();
    for (index, text) in folded.into_iter().enumerate() {
        let mut word = Word {
            term: text.clone(),
            text,
            prefix: false,
            postings: 0,
        };
        if index == last && word.text.chars().count() >= 2 {
            let starting: Vec<String> = conn
                .prepare_cached(
                    "SELECT DISTINCT term FROM catalogue_terms
                     WHERE term >= ?1 AND term < ?2 LIMIT 2",
                )?
                .query_map(params![word.text, word.upper()], |r| r.get(0))?
                .collect::<Result<_, _>>()?;
            match <[String; 1]>::try_from(starting) {
                Ok([only]) => word.term = only,
                Err(_) => word.prefix = true,
            }
        }
        let prefix = word.prefix;
        // Counted up to a cap: past it, any word is as good a driver as another.
        word.postings = if prefix {
            conn.prepare_cached(
                "SELECT count(*) FROM (SELECT 1 FROM catalogue_terms
                 WHERE term >= ?1 AND term < ?2 LIMIT ?3)",
            )?
            .query_row(params![word.text, word.upper(), POSTINGS_CAP], |r| r.get(0))?
        } else {
            conn.prepare_cached(
                "SELECT count(*) FROM (SELECT 1 FROM catalogue_terms WHERE term = ?1 LIMIT ?2)",
            )?
            .query_row(params![word.term, POSTINGS_CAP], |r| r.get(0))?
        };
        words.push(word);
    }
    // A word no procedure has (a typo, a word of no procedure) does not empty the results.
    let had_words = !words.is_empty();
    words.retain(|w| w.postings > 0);
    if had_words && words.is_empty() {
        return Ok(SearchPage {
            hits: Vec::new(),
            total: 0,
            page,
            more: false,
        });
    }
    let mut args: Vec<Value> = vec![
        filter.agency.clone().map_or(Value::Null, Value::Text),
        filter
            .level
            .map_or(Value::Null, |l| Value::Text(l.as_str().into())),
        Value::Integer(page_size.into()),
        Value::Integer(i64::from(page) * i64::from(page_size)),
        Value::Text(phrase),
    ];
    let mut param = |value: String| {
        args.push(Value::Text(value));
        format!("?{}", args.len())
    };
    // The total is one uncorrelated count (SQLite runs it once): cheaper than a window
    // function, which would carry every candidate through another sort.
    let columns = "p.code, p.name, p.agency_code, p.agency_name, p.level, p.total_fee";
    let filters = "(?1 IS NULL OR p.agency_code = ?1) AND (?2 IS NULL OR p.level = ?2)";
    let sql = if words.is_empty() {
        args.pop(); // the phrase: a listing has no `?5`
        format!(
            "SELECT {columns}, (SELECT count(*) FROM catalogue_procedures p WHERE {filters})
             FROM catalogue_procedures p WHERE {filters}
             ORDER BY p.name_folded, p.code LIMIT ?3 OFFSET ?4"
        )
    } else {
        // The rarest word drives: its procedures are the candidates, and every other word is
        // one primary-key (or, for a prefix, `(procedure_id, term)` index) lookup per candidate.
        // A missing word makes the sum NULL, which drops the candidate.
        let driver = (0..words.len())
            .min_by_key(|&i| words[i].postings)
            .unwrap_or(0);
        let mut score = vec!["c.w".to_string()];
        let mut candidates = String::new();
        for (index, word) in words.iter().enumerate() {
            let lookup = if word.prefix {
                let at = param(word.text.clone());
                let upper = param(word.upper());
                let weight = format!("CASE WHEN term = {at} THEN weight * 2 ELSE weight END");
                if index == driver {
                    candidates = format!(
                        "SELECT procedure_id AS pid, max({weight}) AS w FROM catalogue_terms \
                         WHERE term >= {at} AND term < {upper} GROUP BY procedure_id"
                    );
                    continue;
                }
                format!(
                    "(SELECT max({weight}) FROM catalogue_terms \
                     WHERE procedure_id = c.pid AND term >= {at} AND term < {upper})"
                )
            } else {
                let at = param(word.term.clone());
                let weight = if word.term == word.text {
                    "weight * 2"
                } else {
                    "weight"
                };
                if index == driver {
                    candidates = format!(
                        "SELECT procedure_id AS pid, {weight} AS w FROM catalogue_terms \
                         WHERE term = {at}"
                    );
                    continue;
                }
                format!(
                    "(SELECT {weight} FROM catalogue_terms \
                     WHERE term = {at} AND procedure_id = c.pid)"
                )
            };
            score.push(lookup);
        }
        format!(
            "WITH s AS MATERIALIZED (SELECT c.pid AS pid, {} AS score FROM ({candidates}) c)
             SELECT {columns},
                 (SELECT count(*) FROM s JOIN catalogue_procedures p ON p.id = s.pid
                  WHERE s.score IS NOT NULL AND {filters})
             FROM s JOIN catalogue_procedures p ON p.id = s.pid
             WHERE s.score IS NOT NULL AND {filters}
             ORDER BY s.score + CASE
                     WHEN p.name_folded = ?5 THEN {EXACT_NAME_BONUS}
                     WHEN substr(p.name_folded, 1, length(?5)) = ?5 THEN {NAME_PREFIX_BONUS}
                     WHEN instr(p.name_folded, ?5) > 0 THEN {NAME_PHRASE_BONUS}
                     ELSE 0 END DESC,
                 length(p.name_folded), p.code
             LIMIT ?3 OFFSET ?4",
            score.join(" + ")
        )
    };
    let mut statement = conn.prepare_cached(&sql)?;
    let mut total = 0u64;
    let hits = statement
        .query_map(params_from_iter(args), |r| {
            let level: String = r.get(4)?;
            let total_fee: i64 = r.get(5)?;
            let count: i64 = r.get(6)?;
            Ok((
                ProcedureSummary {
                    code: r.get(0)?,
                    name: r.get(1)?,
                    agency: Agency {
                        code: r.get(2)?,
                        name: r.get(3)?,
                    },
                    level: Level::parse(&level).unwrap_or(Level::Commune),
                    total_fee: u64::try_from(total_fee).unwrap_or(0),
                },
                u64::try_from(count).unwrap_or(0),
            ))
        })?
        .map(|row| {
            row.map(|(hit, count)| {
                total = count;
                hit
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    if hits.is_empty() && page > 0 {
        // Past the end: no row carried the total.
        total = search(conn, query, filter, 0, 1)?.total;
    }
    let shown = u64::from(page) * u64::from(page_size) + hits.len() as u64;
    Ok(SearchPage {
        more: shown < total,
        hits,
        total,
        page,
    })
}

/// The whole record of the procedure `code`, if stored.
pub fn procedure(conn: &Connection, code: &str) -> Result<Option<Procedure>, StoreError> {
    let record: Option<String> = conn
        .prepare_cached(
            "SELECT r.record FROM catalogue_procedures p
             JOIN catalogue_records r ON r.procedure_id = p.id WHERE p.code = ?1",
        )?
        .query_row([code], |r| r.get(0))
        .optional()?;
    // A record this version cannot read is treated as absent; the next full sync rewrites it.
    Ok(record.and_then(|json| serde_json::from_str(&json).ok()))
}

/// Every agency with procedures in the catalogue (optionally at one level), by level then name.
pub fn agencies(conn: &Connection, level: Option<Level>) -> Result<Vec<AgencySummary>, StoreError> {
    let mut statement = conn.prepare_cached(
        "SELECT agency_code, agency_name, level, count(*) FROM catalogue_procedures
         WHERE ?1 IS NULL OR level = ?1
         GROUP BY agency_code
         ORDER BY CASE level WHEN 'central' THEN 0 WHEN 'province' THEN 1
                  WHEN 'district' THEN 2 ELSE 3 END, agency_name, agency_code",
    )?;
    let rows = statement.query_map([level.map(Level::as_str)], |r| {
        let level: String = r.get(2)?;
        let count: i64 = r.get(3)?;
        Ok(AgencySummary {
            agency: Agency {
                code: r.get(0)?,
                name: r.get(1)?,
            },
            level: Level::parse(&level).unwrap_or(Level::Commune),
            procedures: u64::try_from(count).unwrap_or(0),
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// How many procedures are stored.
pub fn count(conn: &Connection) -> Result<u64, StoreError> {
    let count: i64 = conn.query_row("SELECT count(*) FROM catalogue_procedures", [], |r| {
        r.get(0)
    })?;
    Ok(u64::try_from(count).unwrap_or(0))
}

/// The sync position as stored: the cursor, and the ETag of the last complete sync.
pub(crate) fn sync_position(
    conn: &Connection,
) -> Result<(Option<String>, Option<String>), StoreError> {
    let nonempty = |v: Option<String>| v.filter(|v| !v.is_empty());
    Ok((
        nonempty(meta::get(conn, CURSOR_KEY)?),
        nonempty(meta::get(conn, ETAG_KEY)?),
    ))
}

/// Records where the sync stands, in the transaction that applied the page it got there with.
/// `etag` is kept only once the last page arrived (it names the whole catalogue's revision);
/// `completed_at` is given then too.
pub(crate) fn set_sync_position(
    tx: &Transaction<'_>,
    cursor: &str,
    etag: Option<&str>,
    completed_at: Option<i64>,
) -> Result<(), StoreError> {
    meta::set(tx, CURSOR_KEY, cursor)?;
    meta::set(tx, ETAG_KEY, etag.unwrap_or(""))?;
    match completed_at {
        Some(at) => meta::set(tx, SYNCED_AT_KEY, &at.to_string()),
        None => Ok(()),
    }
}

/// When the catalogue was last synced to its end or confirmed unchanged (Unix seconds).
pub fn synced_at(conn: &Connection) -> Result<Option<i64>, StoreError> {
    Ok(meta::get(conn, SYNCED_AT_KEY)?.and_then(|t| t.parse().ok()))
}

#[cfg(test)]
mod tests;
