//! The dossier capability's FFI surface: the [`Dossiers`] object (`citizen.dossiers()`) and its
//! records: the procedure catalogue (sync, offline search, records, agencies), drafts, their
//! validation, pre-filling from the PID, and attachments.
//!
//! Owns: shape only, like the rest of the bindings. Meaning lives on the core types
//! (`citizen_core::dossier`).

use std::collections::HashMap;
use std::sync::Arc;

use citizen_core::dossier;

use crate::error::CitizenError;
use crate::runtime;

/// The administrative level of the agency that handles a procedure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum ProcedureLevel {
    /// A ministry or national agency.
    Central,
    /// A province or centrally-run city.
    Province,
    /// A district, town or provincial city.
    District,
    /// A commune, ward or township.
    Commune,
}

impl From<dossier::Level> for ProcedureLevel {
    fn from(level: dossier::Level) -> Self {
        match level {
            dossier::Level::Central => ProcedureLevel::Central,
            dossier::Level::Province => ProcedureLevel::Province,
            dossier::Level::District => ProcedureLevel::District,
            dossier::Level::Commune => ProcedureLevel::Commune,
        }
    }
}

impl From<ProcedureLevel> for dossier::Level {
    fn from(level: ProcedureLevel) -> Self {
        match level {
            ProcedureLevel::Central => dossier::Level::Central,
            ProcedureLevel::Province => dossier::Level::Province,
            ProcedureLevel::District => dossier::Level::District,
            ProcedureLevel::Commune => dossier::Level::Commune,
        }
    }
}

/// The agency that receives a procedure's dossiers.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Agency {
    /// Stable identifier, e.g. `000.00.01.H26`; what `CatalogueFilter.agency` takes.
    pub code: String,
    /// Display name in Vietnamese.
    pub name: String,
}

impl From<dossier::Agency> for Agency {
    fn from(agency: dossier::Agency) -> Self {
        Self {
            code: agency.code,
            name: agency.name,
        }
    }
}

/// One line of a procedure's fee table.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Fee {
    /// What the fee is for, in Vietnamese.
    pub label: String,
    /// In đồng.
    pub amount: u64,
}

/// The kinds of form fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum FieldKind {
    /// Free text.
    Text,
    /// A whole number.
    Number,
    /// A day, `YYYY-MM-DD`.
    Date,
    /// One of the field's `options`.
    Select,
    /// A 12-digit citizen identity number.
    IdNumber,
    /// A phone number.
    Phone,
    /// An e-mail address.
    Email,
    /// A postal address.
    Address,
}

impl From<dossier::FieldKind> for FieldKind {
    fn from(kind: dossier::FieldKind) -> Self {
        match kind {
            dossier::FieldKind::Text => FieldKind::Text,
            dossier::FieldKind::Number => FieldKind::Number,
            dossier::FieldKind::Date => FieldKind::Date,
            dossier::FieldKind::Select => FieldKind::Select,
            dossier::FieldKind::IdNumber => FieldKind::IdNumber,
            dossier::FieldKind::Phone => FieldKind::Phone,
            dossier::FieldKind::Email => FieldKind::Email,
            dossier::FieldKind::Address => FieldKind::Address,
        }
    }
}

/// One choice of a `Select` field.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct SelectOption {
    /// What the form stores.
    pub value: String,
    /// What the citizen sees, in Vietnamese.
    pub label: String,
}

/// One field of a procedure's form. See `citizen_core::dossier::FormField`.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct FormField {
    /// Stable within the procedure.
    pub id: String,
    /// In Vietnamese.
    pub label: String,
    /// What kind of value it takes.
    pub kind: FieldKind,
    /// The field must be filled in.
    pub required: bool,
    /// A regular expression the whole value must match, when given.
    pub pattern: Option<String>,
    /// Number: the smallest value; text-like: the fewest characters; date: the earliest day, in
    /// days from today.
    pub min: Option<i64>,
    /// Number: the largest value; text-like: the most characters; date: the latest day, in days
    /// from today.
    pub max: Option<i64>,
    /// The choices of a `Select` field.
    pub options: Vec<SelectOption>,
}

/// A document to attach to a dossier.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct AttachmentRule {
    /// Stable within the procedure, e.g. `giay_chung_sinh`.
    pub kind: String,
    /// In Vietnamese.
    pub label: String,
    /// Accepted media types, e.g. `application/pdf`.
    pub media_types: Vec<String>,
    /// The largest file accepted, in bytes.
    pub max_bytes: u64,
    /// How many files of this kind at least (0: optional).
    pub min_count: u32,
    /// How many at most.
    pub max_count: u32,
}

/// A whole procedure record: what a dossier for it needs.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Procedure {
    /// Unique in the catalogue, e.g. `1.001193`.
    pub code: String,
    /// Grows with every change the portal publishes.
    pub version: u64,
    /// In Vietnamese.
    pub name: String,
    /// In Vietnamese, plain text.
    pub description: String,
    /// Other words it is found by.
    pub keywords: Vec<String>,
    /// Who handles it.
    pub agency: Agency,
    /// At which level.
    pub level: ProcedureLevel,
    /// Working days the agency takes; 0 means the same day.
    pub processing_days: u32,
    /// The fee table; empty when free.
    pub fees: Vec<Fee>,
    /// The fee table's total in đồng.
    pub total_fee: u64,
    /// The form to fill in.
    pub form: Vec<FormField>,
    /// The documents to attach.
    pub attachments: Vec<AttachmentRule>,
}

impl From<dossier::Procedure> for Procedure {
    fn from(p: dossier::Procedure) -> Self {
        let total_fee = p.total_fee();
        Self {
            code: p.code,
            version: p.version,
            name: p.name,
            description: p.description,
            keywords: p.keywords,
            agency: p.agency.into(),
            level: p.level.into(),
            processing_days: p.processing_days,
            fees: p
                .fees
                .into_iter()
                .map(|f| Fee {
                    label: f.label,
                    amount: f.amount,
                })
                .collect(),
            total_fee,
            form: p
                .form
                .into_iter()
                .map(|f| FormField {
                    id: f.id,
                    label: f.label,
                    kind: f.kind.into(),
                    required: f.required,
                    pattern: f.pattern,
                    min: f.min,
                    max: f.max,
                    options: f
                        .options
                        .into_iter()
                        .map(|o| SelectOption {
                            value: o.value,
                            label: o.label,
                        })
                        .collect(),
                })
                .collect(),
            attachments: p
                .attachments
                .into_iter()
                .map(|a| AttachmentRule {
                    kind: a.kind,
                    label: a.label,
                    media_types: a.media_types,
                    max_bytes: a.max_bytes,
                    min_count: a.min_count,
                    max_count: a.max_count,
                })
                .collect(),
        }
    }
}

/// A procedure as a result list shows it; `Dossiers.procedure` gives the whole record.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ProcedureSummary {
    /// Its code, for `Dossiers.procedure`.
    pub code: String,
    /// In Vietnamese.
    pub name: String,
    /// Who handles it.
    pub agency: Agency,
    /// At which level.
    pub level: ProcedureLevel,
    /// The fee table's total in đồng; 0 when free.
    pub total_fee: u64,
}

/// One page of search results, best first.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct SearchPage {
    /// The results of this page.
    pub hits: Vec<ProcedureSummary>,
    /// How many procedures match in all.
    pub total: u64,
    /// The page number asked for (from 0).
    pub page: u32,
    /// Further pages exist.
    pub more: bool,
}

impl From<dossier::SearchPage> for SearchPage {
    fn from(page: dossier::SearchPage) -> Self {
        Self {
            hits: page
                .hits
                .into_iter()
                .map(|h| ProcedureSummary {
                    code: h.code,
                    name: h.name,
                    agency: h.agency.into(),
                    level: h.level.into(),
                    total_fee: h.total_fee,
                })
                .collect(),
            total: page.total,
            page: page.page,
            more: page.more,
        }
    }
}

/// What a search may be narrowed to.
#[derive(Debug, Clone, Default, PartialEq, Eq, uniffi::Record)]
pub struct CatalogueFilter {
    /// Only this agency's procedures (its `code`).
    #[uniffi(default = None)]
    pub agency: Option<String>,
    /// Only procedures at this level.
    #[uniffi(default = None)]
    pub level: Option<ProcedureLevel>,
}

/// An agency and how many procedures it handles, for the search filter.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct AgencySummary {
    /// The agency.
    pub agency: Agency,
    /// Its level.
    pub level: ProcedureLevel,
    /// How many procedures of the stored catalogue it handles.
    pub procedures: u64,
}

/// What one catalogue sync did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Record)]
pub struct CatalogueSync {
    /// The portal said nothing changed since the last complete sync.
    pub not_modified: bool,
    /// Pages fetched with a body.
    pub pages: u32,
    /// Procedures added or replaced by a newer version.
    pub updated: u32,
    /// Procedures deleted because the portal withdrew them.
    pub withdrawn: u32,
    /// Procedures stored afterwards.
    pub procedures: u64,
    /// The sync reached the end of the catalogue; otherwise the next one resumes.
    pub complete: bool,
}

impl From<dossier::CatalogueSync> for CatalogueSync {
    fn from(sync: dossier::CatalogueSync) -> Self {
        Self {
            not_modified: sync.not_modified,
            pages: sync.pages,
            updated: sync.updated,
            withdrawn: sync.withdrawn,
            procedures: sync.procedures,
            complete: sync.complete,
        }
    }
}

/// Where a draft is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum DraftState {
    /// Being filled in: fields and attachments may change.
    Editing,
    /// Handed to submission: locked.
    Submitted,
}

impl From<dossier::DraftState> for DraftState {
    fn from(state: dossier::DraftState) -> Self {
        match state {
            dossier::DraftState::Editing => DraftState::Editing,
            dossier::DraftState::Submitted => DraftState::Submitted,
        }
    }
}

/// A dossier draft: a form being filled in for one procedure. `values` is personal data:
/// `Debug` shows only which fields are filled.
#[derive(Clone, PartialEq, Eq, uniffi::Record)]
pub struct Draft {
    /// Its id, for the other draft calls.
    pub id: i64,
    /// The procedure it is for (`Dossiers.draft_procedure` gives the record it was made from).
    pub procedure_code: String,
    /// The version of the procedure's record the draft was made from.
    pub procedure_version: u64,
    /// Editing, or locked once submitted.
    pub state: DraftState,
    /// Field id -> value, for the fields that have one.
    pub values: HashMap<String, String>,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds of the last change.
    pub updated_at: i64,
    /// For a supplement draft (`Dossiers.start_supplement`): the filed dossier whose supplement
    /// request it answers. Its form holds only what the agency asked for.
    pub supplement_of: Option<i64>,
}

impl std::fmt::Debug for Draft {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut filled: Vec<&String> = self.values.keys().collect();
        filled.sort();
        f.debug_struct("Draft")
            .field("id", &self.id)
            .field("procedure_code", &self.procedure_code)
            .field("state", &self.state)
            .field("filled", &filled)
            .finish_non_exhaustive()
    }
}

impl From<dossier::Draft> for Draft {
    fn from(d: dossier::Draft) -> Self {
        Self {
            id: d.id.0,
            procedure_code: d.procedure_code,
            procedure_version: d.procedure_version,
            state: d.state.into(),
            values: d.values.into_iter().collect(),
            created_at: d.created_at,
            updated_at: d.updated_at,
            supplement_of: d.supplement_of,
        }
    }
}

/// A draft as a list shows it (no values).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct DraftSummary {
    /// The draft's id.
    pub id: i64,
    /// The procedure it is for.
    pub procedure_code: String,
    /// The version of the procedure's record the draft was made from.
    pub procedure_version: u64,
    /// The procedure's name (Vietnamese) when the draft was made.
    pub procedure_name: String,
    /// Editing, or locked once submitted.
    pub state: DraftState,
    /// How many fields have a value.
    pub filled: u32,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds of the last change.
    pub updated_at: i64,
    /// For a supplement draft: the filed dossier it answers.
    pub supplement_of: Option<i64>,
}

impl From<dossier::DraftSummary> for DraftSummary {
    fn from(d: dossier::DraftSummary) -> Self {
        Self {
            id: d.id.0,
            procedure_code: d.procedure_code,
            procedure_version: d.procedure_version,
            procedure_name: d.procedure_name,
            state: d.state.into(),
            filled: d.filled,
            created_at: d.created_at,
            updated_at: d.updated_at,
            supplement_of: d.supplement_of,
        }
    }
}

/// One validation problem of a draft: a field (or an attachment kind) and why. No value.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct FieldError {
    /// The field id, or the attachment kind for the `attachment_*` codes.
    pub field: String,
    /// A stable machine code: `required`, `pattern`, `too_short`, `too_long`, `below_min`,
    /// `above_max`, `not_a_number`, `invalid_date`, `not_an_option`, `invalid_id_number`,
    /// `invalid_phone`, `invalid_email`, `unknown_field`, `attachment_missing`,
    /// `attachment_too_many`, `unknown_attachment_kind`.
    pub code: String,
    /// The key of the message to show, e.g. `dossier.field.required`.
    pub message_key: String,
}

impl From<dossier::FieldError> for FieldError {
    fn from(e: dossier::FieldError) -> Self {
        Self {
            field: e.field,
            code: e.code.as_str().into(),
            message_key: e.message_key.into(),
        }
    }
}

/// An offer to fill a field from the wallet's PID. `value` is personal data (shown to the
/// citizen to approve): `Debug` leaves it out.
#[derive(Clone, PartialEq, Eq, uniffi::Record)]
pub struct PrefillCandidate {
    /// The PID claim, e.g. `full_name`: what `apply_prefill` takes.
    pub claim: String,
    /// The field it would fill.
    pub field: String,
    /// The value the field would get.
    pub value: String,
    /// The field has another value now, which this would replace.
    pub replaces: bool,
}

impl std::fmt::Debug for PrefillCandidate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PrefillCandidate")
            .field("claim", &self.claim)
            .field("field", &self.field)
            .field("replaces", &self.replaces)
            .finish_non_exhaustive()
    }
}

impl From<dossier::PrefillCandidate> for PrefillCandidate {
    fn from(c: dossier::PrefillCandidate) -> Self {
        Self {
            claim: c.claim,
            field: c.field,
            value: c.value,
            replaces: c.replaces,
        }
    }
}

/// An attached document, stored encrypted in chunks. No content, no file name.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct AttachmentInfo {
    /// The attachment's id, for `remove_attachment` and `attachment_chunk`.
    pub id: i64,
    /// The draft it belongs to.
    pub draft_id: i64,
    /// The procedure's attachment kind.
    pub kind: String,
    /// Sniffed from the content: `application/pdf`, `image/jpeg` or `image/png`.
    pub media_type: String,
    /// Bytes.
    pub size: u64,
    /// SHA-256 of the whole content, 64 lower-case hex digits (a string rather than bytes, so
    /// records compare by value in Kotlin, where a `ByteArray` member compares by identity).
    pub sha256: String,
    /// Unix seconds.
    pub created_at: i64,
}

impl From<dossier::AttachmentInfo> for AttachmentInfo {
    fn from(a: dossier::AttachmentInfo) -> Self {
        Self {
            id: a.id.0,
            draft_id: a.draft_id.0,
            kind: a.kind,
            media_type: a.media_type,
            size: a.size,
            sha256: a.sha256.iter().map(|b| format!("{b:02x}")).collect(),
            created_at: a.created_at,
        }
    }
}

/// Dossiers: find the procedure a citizen needs among thousands, offline. Get it from
/// `citizen.dossiers()`; fill in drafts offline with attachments. (Submission and status
/// tracking come later.)
#[derive(uniffi::Object)]
pub struct Dossiers {
    inner: citizen_core::Dossiers,
}

impl Dossiers {
    pub(crate) fn new(inner: citizen_core::Dossiers) -> Arc<Self> {
        Arc::new(Self { inner })
    }

    pub(crate) fn core(&self) -> &citizen_core::Dossiers {
        &self.inner
    }
}

#[uniffi::export]
impl Dossiers {
    /// Brings the stored procedure catalogue up to date with the portal (only the changes since
    /// the last sync; the first sync downloads it all). Safe to interrupt: the next sync resumes.
    /// `sync_now` keeps a catalogue current once it was synced here a first time.
    pub async fn sync_catalogue(&self) -> Result<CatalogueSync, CitizenError> {
        let inner = self.inner.clone();
        Ok(runtime::run(async move { inner.sync_catalogue().await })
            .await??
            .into())
    }

    /// Searches the stored catalogue offline, best first: `query` in any spelling (with or
    /// without Vietnamese marks, `đ` or `d`, any case; the last word may be unfinished), narrowed
    /// by `filter`, `page` from 0, `page_size` 1 to 100. An empty query lists by name.
    pub async fn search(
        &self,
        query: String,
        filter: CatalogueFilter,
        page: u32,
        page_size: u32,
    ) -> Result<SearchPage, CitizenError> {
        let inner = self.inner.clone();
        let filter = dossier::CatalogueFilter {
            agency: filter.agency,
            level: filter.level.map(Into::into),
        };
        Ok(
            runtime::run(async move { inner.search(&query, filter, page, page_size).await })
                .await??
                .into(),
        )
    }

    /// The whole record of procedure `code` (form, fees, attachments); `None` if the stored
    /// catalogue has no such procedure.
    pub async fn procedure(&self, code: String) -> Result<Option<Procedure>, CitizenError> {
        let inner = self.inner.clone();
        Ok(runtime::run(async move { inner.procedure(&code).await })
            .await??
            .map(Into::into))
    }

    /// The agencies of the stored catalogue (at `level`, or all), for the search filter.
    pub async fn agencies(
        &self,
        level: Option<ProcedureLevel>,
    ) -> Result<Vec<AgencySummary>, CitizenError> {
        let inner = self.inner.clone();
        let level = level.map(Into::into);
        Ok(runtime::run(async move { inner.agencies(level).await })
            .await??
            .into_iter()
            .map(|a| AgencySummary {
                agency: a.agency.into(),
                level: a.level.into(),
                procedures: a.procedures,
            })
            .collect())
    }

    /// Makes an empty draft for procedure `procedure_code` of the stored catalogue.
    /// `NotFound` if the catalogue has no such procedure.
    pub async fn create_draft(&self, procedure_code: String) -> Result<Draft, CitizenError> {
        let inner = self.inner.clone();
        Ok(
            runtime::run(async move { inner.create_draft(&procedure_code).await })
                .await??
                .into(),
        )
    }

    /// Draft `id`, if it exists.
    pub async fn draft(&self, id: i64) -> Result<Option<Draft>, CitizenError> {
        let inner = self.inner.clone();
        Ok(
            runtime::run(async move { inner.draft(dossier::DraftId(id)).await })
                .await??
                .map(Into::into),
        )
    }

    /// The procedure record draft `id` was made from (its form and attachment rules), even if
    /// the catalogue changed or withdrew the procedure since.
    pub async fn draft_procedure(&self, id: i64) -> Result<Option<Procedure>, CitizenError> {
        let inner = self.inner.clone();
        Ok(
            runtime::run(async move { inner.draft_procedure(dossier::DraftId(id)).await })
                .await??
                .map(Into::into),
        )
    }

    /// Every draft, most recently changed first.
    pub async fn drafts(&self) -> Result<Vec<DraftSummary>, CitizenError> {
        let inner = self.inner.clone();
        Ok(runtime::run(async move { inner.drafts().await })
            .await??
            .into_iter()
            .map(Into::into)
            .collect())
    }

    /// Saves one field of draft `id` (an empty value clears it). Not validated here: call
    /// `validate_draft`. `InvalidInput` (`unknown_field`) for a field its procedure does not
    /// have; `InvalidState` (`draft_locked`) once submitted.
    pub async fn set_field(
        &self,
        id: i64,
        field: String,
        value: String,
    ) -> Result<Draft, CitizenError> {
        let inner = self.inner.clone();
        Ok(
            runtime::run(
                async move { inner.set_field(dossier::DraftId(id), &field, &value).await },
            )
            .await??
            .into(),
        )
    }

    /// `set_field` for several fields, all or none.
    pub async fn set_fields(
        &self,
        id: i64,
        values: HashMap<String, String>,
    ) -> Result<Draft, CitizenError> {
        let inner = self.inner.clone();
        let values: Vec<(String, String)> = values.into_iter().collect();
        Ok(
            runtime::run(async move { inner.set_fields(dossier::DraftId(id), values).await })
                .await??
                .into(),
        )
    }

    /// Checks draft `id` against its procedure's form and attachment rules: every problem by
    /// field and code; empty when it may be submitted.
    pub async fn validate_draft(&self, id: i64) -> Result<Vec<FieldError>, CitizenError> {
        let inner = self.inner.clone();
        Ok(
            runtime::run(async move { inner.validate_draft(dossier::DraftId(id)).await })
                .await??
                .into_iter()
                .map(Into::into)
                .collect(),
        )
    }

    /// Deletes draft `id` and its attachments. `false` if there was no such draft.
    pub async fn delete_draft(&self, id: i64) -> Result<bool, CitizenError> {
        let inner = self.inner.clone();
        Ok(runtime::run(async move { inner.delete_draft(dossier::DraftId(id)).await }).await??)
    }

    /// What the wallet's PID could fill in draft `id`, to show the citizen for approval.
    /// Changes nothing. `InvalidState` (`not_activated`) without a usable PID.
    pub async fn prefill_candidates(&self, id: i64) -> Result<Vec<PrefillCandidate>, CitizenError> {
        let inner = self.inner.clone();
        Ok(
            runtime::run(async move { inner.prefill_candidates(dossier::DraftId(id)).await })
                .await??
                .into_iter()
                .map(Into::into)
                .collect(),
        )
    }

    /// Fills draft `id` from the PID claims the citizen approved (claim names from
    /// `prefill_candidates`); the rest stay as they are.
    pub async fn apply_prefill(
        &self,
        id: i64,
        approved_claims: Vec<String>,
    ) -> Result<Draft, CitizenError> {
        let inner = self.inner.clone();
        Ok(runtime::run(async move {
            inner
                .apply_prefill(dossier::DraftId(id), &approved_claims)
                .await
        })
        .await??
        .into())
    }

    /// Attaches the file at `path` to draft `draft_id` as `kind`, streamed into encrypted
    /// storage (the file may be removed afterwards). Its type comes from its content.
    /// `InvalidInput` with field `attachment` and code `unrecognised_type`,
    /// `type_not_allowed`, `too_large`, `too_many` or `empty`; field `path`, code `not_found`.
    pub async fn add_attachment_file(
        &self,
        draft_id: i64,
        kind: String,
        path: String,
    ) -> Result<AttachmentInfo, CitizenError> {
        let inner = self.inner.clone();
        Ok(runtime::run(async move {
            inner
                .add_attachment_file(
                    dossier::DraftId(draft_id),
                    &kind,
                    std::path::Path::new(&path),
                )
                .await
        })
        .await??
        .into())
    }

    /// `add_attachment_file` for content in memory (a scan the app made).
    pub async fn add_attachment_bytes(
        &self,
        draft_id: i64,
        kind: String,
        bytes: Vec<u8>,
    ) -> Result<AttachmentInfo, CitizenError> {
        let inner = self.inner.clone();
        Ok(runtime::run(async move {
            inner
                .add_attachment_bytes(dossier::DraftId(draft_id), &kind, bytes)
                .await
        })
        .await??
        .into())
    }

    /// The attachments of draft `draft_id`, oldest first.
    pub async fn attachments(&self, draft_id: i64) -> Result<Vec<AttachmentInfo>, CitizenError> {
        let inner = self.inner.clone();
        Ok(
            runtime::run(async move { inner.attachments(dossier::DraftId(draft_id)).await })
                .await??
                .into_iter()
                .map(Into::into)
                .collect(),
        )
    }

    /// Removes attachment `id` from its draft. `false` if there was no such attachment.
    pub async fn remove_attachment(&self, id: i64) -> Result<bool, CitizenError> {
        let inner = self.inner.clone();
        Ok(
            runtime::run(async move { inner.remove_attachment(dossier::AttachmentId(id)).await })
                .await??,
        )
    }
}
