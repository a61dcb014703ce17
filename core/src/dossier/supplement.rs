//! Supplements: answering an agency's request for more, through the same drafts and outbox as
//! the dossier itself.
//!
//! Owns: making the supplement draft of an open request ([`Dossiers::start_supplement`]: a
//! draft whose procedure record holds only what the request asks for, every item required) and
//! what filing it adds to a dossier's filing (the manifest's `supplement` reference, checked
//! against the request still being open in the transaction that queues it). Does not own the
//! request itself (the status feed, `tracking`), validation, attachments or sending, which are
//! the draft's and the dossier's own (`validate`, `attachment`, `sender`): a supplement is
//! filled in, validated, signed behind the PIN and delivered exactly once as a dossier is.

use rusqlite::{Connection, OptionalExtension, params};

use super::draft::{self, Draft, DraftId};
use super::status_feed::{SupplementItem, SupplementRequest};
use super::submission;
use super::wire::{AttachmentRule, FieldKind, FormField, Procedure};
use super::{DossierError, Dossiers, catalogue};

/// Media types accepted for a requested document the procedure does not describe.
const DEFAULT_MEDIA_TYPES: [&str; 3] = ["application/pdf", "image/jpeg", "image/png"];
/// The largest requested document the procedure does not describe.
const DEFAULT_MAX_BYTES: u64 = 10 * 1024 * 1024;

/// The form a supplement request asks for, cut out of the dossier's procedure: the requested
/// fields (required) and attachment kinds (at least one each), in the request's order. An item
/// the procedure does not describe (the agency may ask for anything) becomes a text field or a
/// document of the common types.
pub(crate) fn supplement_procedure(base: &Procedure, request: &SupplementRequest) -> Procedure {
    let mut form = Vec::new();
    let mut attachments = Vec::new();
    for item in &request.items {
        match item {
            SupplementItem::Field { field_id, label } => {
                if form.iter().any(|f: &FormField| &f.id == field_id) {
                    continue;
                }
                let mut field = base
                    .form
                    .iter()
                    .find(|f| &f.id == field_id)
                    .cloned()
                    .unwrap_or_else(|| FormField {
                        id: field_id.clone(),
                        label: label.clone(),
                        kind: FieldKind::Text,
                        required: true,
                        pattern: None,
                        min: None,
                        max: None,
                        options: Vec::new(),
                    });
                field.required = true;
                form.push(field);
            }
            SupplementItem::Attachment {
                attachment_kind,
                label,
            } => {
                if attachments
                    .iter()
                    .any(|r: &AttachmentRule| &r.kind == attachment_kind)
                {
                    continue;
                }
                let mut rule = base
                    .attachments
                    .iter()
                    .find(|r| &r.kind == attachment_kind)
                    .cloned()
                    .unwrap_or_else(|| AttachmentRule {
                        kind: attachment_kind.clone(),
                        label: label.clone(),
                        media_types: DEFAULT_MEDIA_TYPES.iter().map(|t| t.to_string()).collect(),
                        max_bytes: DEFAULT_MAX_BYTES,
                        min_count: 1,
                        max_count: 5,
                    });
                rule.min_count = rule.min_count.max(1);
                rule.max_count = rule.max_count.max(rule.min_count);
                attachments.push(rule);
            }
        }
    }
    Procedure {
        form,
        attachments,
        fees: Vec::new(),
        ..base.clone()
    }
}

/// The open, unanswered request of dossier `submission_id` and the procedure record it was
/// filed against, or `NoOpenSupplementRequest`.
fn open_request(
    conn: &Connection,
    submission_id: i64,
) -> Result<(submission::Submission, SupplementRequest, Procedure), DossierError> {
    let dossier = submission::get(conn, submission_id)?.ok_or(DossierError::UnknownSubmission)?;
    let request = dossier
        .supplement_request
        .clone()
        .filter(|_| dossier.receipt_code.is_some())
        .ok_or(DossierError::NoOpenSupplementRequest)?;
    // The record the citizen filled in, kept by its draft; else the catalogue's (a deleted
    // draft), which the request's items are looked up in by id all the same.
    let from_draft = match dossier.draft_id {
        Some(id) => draft::procedure(conn, DraftId(id))?,
        None => None,
    };
    let procedure = match from_draft {
        Some(procedure) => procedure,
        None => catalogue::procedure(conn, &dossier.procedure_code)?
            .ok_or(DossierError::ProcedureNotFound)?,
    };
    Ok((dossier, request, procedure))
}

/// The original dossier and request a supplement draft answers, checked still open. Read before
/// signing, and again in the transaction that queues the supplement, so a request answered
/// twice (two drafts, two PINs) is filed once.
pub(crate) fn check_still_open(
    conn: &Connection,
    draft_id: DraftId,
) -> Result<Option<(i64, String, String)>, DossierError> {
    let row: Option<(Option<i64>, Option<String>)> = conn
        .query_row(
            "SELECT supplement_of, supplement_request FROM dossier_drafts WHERE id = ?1",
            [draft_id.0],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let Some((Some(of), Some(request_id))) = row else {
        return Ok(None);
    };
    let (dossier, request, _) = open_request(conn, of)?;
    if request.request_id != request_id {
        return Err(DossierError::NoOpenSupplementRequest);
    }
    Ok(Some((of, dossier.dossier_id, request_id)))
}

impl Dossiers {
    /// The draft that answers dossier `submission_id`'s open supplement request: made on the
    /// first call (its form is what the request asks for, each item required), the same draft
    /// on the next ones while it is being edited. Fill it in and add its documents like any
    /// draft, then [`Dossiers::submit`] it with the PIN: it goes to the portal as a supplement
    /// of the dossier, through the same outbox. `NoOpenSupplementRequest` when the dossier has
    /// none (or one was already filed).
    pub async fn start_supplement(&self, submission_id: i64) -> Result<Draft, DossierError> {
        let now = crate::unix_now();
        self.inner
            .store
            .write(move |tx| {
                let (_, request, procedure) = open_request(tx, submission_id)?;
                let existing: Option<i64> = tx
                    .query_row(
                        "SELECT id FROM dossier_drafts WHERE supplement_of = ?1
                             AND supplement_request = ?2 AND state = 'editing'",
                        params![submission_id, request.request_id],
                        |r| r.get(0),
                    )
                    .optional()?;
                let id = match existing {
                    Some(id) => DraftId(id),
                    None => {
                        let id =
                            draft::create(tx, &supplement_procedure(&procedure, &request), now)?;
                        tx.execute(
                            "UPDATE dossier_drafts SET supplement_of = ?2, supplement_request = ?3
                             WHERE id = ?1",
                            params![id.0, submission_id, request.request_id],
                        )?;
                        id
                    }
                };
                draft::get(tx, id)?.ok_or(DossierError::DraftNotFound)
            })
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dossier::wire::sample;

    #[test]
    fn the_supplement_form_holds_only_what_was_asked_each_required() {
        let base = sample("1.000100");
        let field = base
            .form
            .iter()
            .find(|f| !f.required)
            .unwrap_or(&base.form[0]);
        let rule = &base.attachments[0];
        let request = SupplementRequest {
            request_id: "SR-1".into(),
            reason: "Thiếu".into(),
            items: vec![
                SupplementItem::Attachment {
                    attachment_kind: rule.kind.clone(),
                    label: rule.label.clone(),
                },
                SupplementItem::Field {
                    field_id: field.id.clone(),
                    label: field.label.clone(),
                },
                SupplementItem::Field {
                    field_id: "ghi_chu_bo_sung".into(),
                    label: "Ghi chú".into(),
                },
                SupplementItem::Attachment {
                    attachment_kind: "van_ban_khac".into(),
                    label: "Văn bản khác".into(),
                },
            ],
            due_at: None,
        };
        let cut = supplement_procedure(&base, &request);
        assert_eq!(cut.code, base.code);
        assert_eq!(cut.version, base.version);
        assert!(cut.fees.is_empty());
        let ids: Vec<_> = cut.form.iter().map(|f| f.id.as_str()).collect();
        assert_eq!(ids, [field.id.as_str(), "ghi_chu_bo_sung"]);
        assert!(cut.form.iter().all(|f| f.required));
        assert_eq!(cut.form[0].kind, field.kind);
        assert_eq!(cut.form[1].kind, FieldKind::Text);
        let kinds: Vec<_> = cut.attachments.iter().map(|r| r.kind.as_str()).collect();
        assert_eq!(kinds, [rule.kind.as_str(), "van_ban_khac"]);
        assert!(cut.attachments.iter().all(|r| r.min_count >= 1));
        assert_eq!(cut.attachments[0].media_types, rule.media_types);
    }
}
