//! Dossier drafts in the store: a form being filled in for one procedure.
//!
//! Owns: the `dossier_drafts` table (migration 13) and its queries. A draft keeps the procedure
//! record it was made from (code, version and the whole record as JSON), so validation and
//! submission see the form the citizen filled in even after the catalogue changed or withdrew
//! the procedure. Field values are strings keyed by field id, kept as one JSON object in the
//! encrypted store; each change is one write transaction. Does not own validation (`validate`,
//! pure), attachments (`attachment`) nor the async API (`Dossiers`).
//!
//! Field values are personal data: [`Draft`]'s `Debug` shows field ids, never values.

use std::collections::BTreeMap;

use rusqlite::{Connection, OptionalExtension, Transaction, params};

use super::error::{DossierError, safe_name};
use super::wire::Procedure;
use crate::store::StoreError;

/// The longest field value accepted, in characters.
pub const MAX_VALUE_CHARS: usize = 4_000;

/// A draft's id in the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DraftId(pub i64);

/// Where a draft is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DraftState {
    /// Being filled in: fields and attachments may change.
    Editing,
    /// Handed to submission: locked (set by the submission increment).
    Submitted,
}

impl DraftState {
    pub fn as_str(self) -> &'static str {
        match self {
            DraftState::Editing => "editing",
            DraftState::Submitted => "submitted",
        }
    }

    fn parse(text: &str) -> Self {
        match text {
            "editing" => DraftState::Editing,
            _ => DraftState::Submitted,
        }
    }
}

/// A whole draft. `Debug` shows the ids of the filled fields, never their values.
#[derive(Clone, PartialEq, Eq)]
pub struct Draft {
    pub id: DraftId,
    pub procedure_code: String,
    pub procedure_version: u64,
    pub state: DraftState,
    /// Field id -> value. Only fields of the draft's procedure; an empty value is not stored.
    pub values: BTreeMap<String, String>,
    pub created_at: i64,
    pub updated_at: i64,
    /// For a supplement draft: the filed dossier (submission id) whose supplement request it
    /// answers. Its procedure record then holds only what the request asked for.
    pub supplement_of: Option<i64>,
}

impl std::fmt::Debug for Draft {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Draft")
            .field("id", &self.id)
            .field("procedure_code", &self.procedure_code)
            .field("procedure_version", &self.procedure_version)
            .field("state", &self.state)
            .field("filled", &self.values.keys().collect::<Vec<_>>())
            .field("created_at", &self.created_at)
            .field("updated_at", &self.updated_at)
            .field("supplement_of", &self.supplement_of)
            .finish()
    }
}

/// A draft as a list shows it: no values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DraftSummary {
    pub id: DraftId,
    pub procedure_code: String,
    pub procedure_version: u64,
    /// The procedure's name when the draft was made.
    pub procedure_name: String,
    pub state: DraftState,
    /// How many fields have a value.
    pub filled: u32,
    pub created_at: i64,
    pub updated_at: i64,
    /// For a supplement draft: the filed dossier it answers.
    pub supplement_of: Option<i64>,
}

fn to_json<T: serde::Serialize>(value: &T) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|_| StoreError::Sqlite(rusqlite::Error::InvalidQuery))
}

fn from_json<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, StoreError> {
    // A stored row that does not parse is damage, not input: report it as such.
    serde_json::from_str(text).map_err(|_| StoreError::Corrupt)
}

/// Field values as a JSON object. Built through `serde_json::Value`, whose (de)serialisers the
/// library already has: a `BTreeMap<String, String>` instantiation of its own cost 14 KB of the
/// phone library (docs/size.md).
fn values_to_json(values: &BTreeMap<String, String>) -> String {
    let object: serde_json::Map<String, serde_json::Value> = values
        .iter()
        .map(|(field, value)| (field.clone(), serde_json::Value::String(value.clone())))
        .collect();
    serde_json::Value::Object(object).to_string()
}

fn values_from_json(text: &str) -> Result<BTreeMap<String, String>, StoreError> {
    let Ok(serde_json::Value::Object(object)) = serde_json::from_str(text) else {
        return Err(StoreError::Corrupt);
    };
    object
        .into_iter()
        .map(|(field, value)| match value {
            serde_json::Value::String(value) => Ok((field, value)),
            _ => Err(StoreError::Corrupt),
        })
        .collect()
}

/// Makes an empty draft for `procedure` (as stored in the catalogue) and returns its id.
pub fn create(
    tx: &Transaction<'_>,
    procedure: &Procedure,
    now: i64,
) -> Result<DraftId, StoreError> {
    tx.execute(
        "INSERT INTO dossier_drafts
             (procedure_code, procedure_version, procedure_name, procedure, state, field_values,
              created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, 'editing', '{}', ?5, ?5)",
        params![
            procedure.code,
            i64::try_from(procedure.version).unwrap_or(i64::MAX),
            procedure.name,
            to_json(procedure)?,
            now
        ],
    )?;
    Ok(DraftId(tx.last_insert_rowid()))
}

/// The draft `id`, if it exists.
pub fn get(conn: &Connection, id: DraftId) -> Result<Option<Draft>, StoreError> {
    type Row = (String, i64, String, String, i64, i64, Option<i64>);
    let row: Option<Row> = conn
        .prepare_cached(
            "SELECT procedure_code, procedure_version, state, field_values, created_at, updated_at,
                    supplement_of
             FROM dossier_drafts WHERE id = ?1",
        )?
        .query_row([id.0], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
                r.get(6)?,
            ))
        })
        .optional()?;
    let Some((code, version, state, values, created_at, updated_at, supplement_of)) = row else {
        return Ok(None);
    };
    Ok(Some(Draft {
        id,
        procedure_code: code,
        procedure_version: u64::try_from(version).unwrap_or(0),
        state: DraftState::parse(&state),
        values: values_from_json(&values)?,
        created_at,
        updated_at,
        supplement_of,
    }))
}

/// The procedure record draft `id` was made from, if the draft exists.
pub fn procedure(conn: &Connection, id: DraftId) -> Result<Option<Procedure>, StoreError> {
    let record: Option<String> = conn
        .prepare_cached("SELECT procedure FROM dossier_drafts WHERE id = ?1")?
        .query_row([id.0], |r| r.get(0))
        .optional()?;
    record.map(|r| from_json(&r)).transpose()
}

/// Every draft, most recently changed first.
pub fn list(conn: &Connection) -> Result<Vec<DraftSummary>, StoreError> {
    let mut query = conn.prepare_cached(
        "SELECT id, procedure_code, procedure_version, procedure_name, state, field_values,
                created_at, updated_at, supplement_of
         FROM dossier_drafts ORDER BY updated_at DESC, id DESC",
    )?;
    let rows = query.query_map([], |r| {
        Ok((
            (
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, String>(3)?,
            ),
            r.get::<_, String>(4)?,
            r.get::<_, String>(5)?,
            r.get::<_, i64>(6)?,
            r.get::<_, i64>(7)?,
            r.get::<_, Option<i64>>(8)?,
        ))
    })?;
    let mut drafts = Vec::new();
    for row in rows {
        let ((id, code, version, name), state, values, created_at, updated_at, supplement_of) =
            row?;
        let values = values_from_json(&values)?;
        drafts.push(DraftSummary {
            id: DraftId(id),
            procedure_code: code,
            procedure_version: u64::try_from(version).unwrap_or(0),
            procedure_name: name,
            state: DraftState::parse(&state),
            filled: u32::try_from(values.len()).unwrap_or(u32::MAX),
            created_at,
            updated_at,
            supplement_of,
        });
    }
    Ok(drafts)
}

/// The draft `id` and its procedure, for a change: `DraftNotFound` if it does not exist,
/// `DraftLocked` if it is no longer being edited.
pub fn editable(conn: &Connection, id: DraftId) -> Result<(Draft, Procedure), DossierError> {
    let draft = get(conn, id)?.ok_or(DossierError::DraftNotFound)?;
    if draft.state != DraftState::Editing {
        return Err(DossierError::DraftLocked);
    }
    let procedure = procedure(conn, id)?.ok_or(DossierError::DraftNotFound)?;
    Ok((draft, procedure))
}

/// Moves draft `id` to `state` (submission locks it).
pub fn set_state(tx: &Transaction<'_>, id: DraftId, state: DraftState) -> Result<(), StoreError> {
    tx.execute(
        "UPDATE dossier_drafts SET state = ?2 WHERE id = ?1",
        params![id.0, state.as_str()],
    )?;
    Ok(())
}

/// Sets (or, with `None` or an empty string, clears) fields of draft `id`, all or none: every
/// field id must belong to the draft's procedure, every value be at most
/// [`MAX_VALUE_CHARS`]. Values are not validated here (`validate` does that, so a citizen can
/// save a half-typed value).
pub fn set_fields(
    tx: &Transaction<'_>,
    id: DraftId,
    changes: &[(String, Option<String>)],
    now: i64,
) -> Result<Draft, DossierError> {
    let (mut draft, procedure) = editable(tx, id)?;
    for (field, value) in changes {
        if !procedure.form.iter().any(|f| &f.id == field) {
            return Err(DossierError::UnknownField(safe_name(field)));
        }
        match value.as_deref() {
            None | Some("") => {
                draft.values.remove(field);
            }
            Some(value) if value.chars().count() > MAX_VALUE_CHARS => {
                return Err(DossierError::ValueTooLong(field.clone()));
            }
            Some(value) => {
                draft.values.insert(field.clone(), value.to_owned());
            }
        }
    }
    tx.prepare_cached(
        "UPDATE dossier_drafts SET field_values = ?2, updated_at = ?3 WHERE id = ?1",
    )?
    .execute(params![id.0, values_to_json(&draft.values), now])?;
    draft.updated_at = now;
    Ok(draft)
}

/// Marks draft `id` as changed now (an attachment was added or removed).
pub fn touch(tx: &Transaction<'_>, id: DraftId, now: i64) -> Result<(), StoreError> {
    tx.prepare_cached("UPDATE dossier_drafts SET updated_at = ?2 WHERE id = ?1")?
        .execute(params![id.0, now])?;
    Ok(())
}

/// Deletes draft `id` and its attachments (their rows and chunks go by cascade). `false` if
/// there was no such draft.
pub fn delete(tx: &Transaction<'_>, id: DraftId) -> Result<bool, StoreError> {
    Ok(tx
        .prepare_cached("DELETE FROM dossier_drafts WHERE id = ?1")?
        .execute([id.0])?
        > 0)
}

#[cfg(test)]
mod tests;
