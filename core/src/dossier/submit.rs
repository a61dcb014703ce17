//! Filing a dossier: the citizen's signature over its content, and the queue it waits in.
//!
//! Owns: building the [`Manifest`] from what the citizen filled in, signing it with the device
//! key after the PIN check ([`Dossiers::file_dossier`]), writing the submission with its outbox
//! entry in one transaction and waking the sender; and what the citizen does with a filed
//! dossier afterwards (read it, retry a parked one, discard one the portal never received).
//! Does not own drafts or their validation (`draft`, `validate`), nor sending (`sender`).

use std::collections::BTreeMap;

use crate::events::Event;
use crate::jose::base64url;
use crate::openid4vci::PID_VCT;
use crate::wallet::WalletError;
use crate::wallet::credentials;
use crate::wallet::device_key::DeviceKey;

use super::attachment::{self, AttachmentInfo};
use super::draft::{self, DraftId, DraftState};
use super::manifest::{self, AttachmentDigest, Manifest, ProcedureRef, SupplementRef};
use super::submission::{self, DeliveryState, NewFile, Submission};
use super::{DossierError, Dossiers};
use super::{supplement, validate};

/// One attachment to file, as stored on the phone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FiledAttachment {
    pub attachment_id: i64,
    pub kind: String,
    pub media_type: String,
    pub size: u64,
    pub sha256: [u8; 32],
}

impl Dossiers {
    /// Files draft `draft_id`: validates it against its procedure (refused with every field
    /// error when it does not pass), checks `pin`, signs the manifest (form values, procedure
    /// code and version, each attachment's SHA-256) with the device key, locks the draft and
    /// queues the submission in one transaction, and returns at once. Offline it simply waits in
    /// the outbox; `Event::DossierDeliveryChanged` follows it.
    pub async fn submit(&self, draft_id: DraftId, pin: &str) -> Result<Submission, DossierError> {
        let now = crate::unix_now();
        let (draft, procedure, attachments) = self
            .inner
            .store
            .read(move |conn| {
                let (draft, procedure) = draft::editable(conn, draft_id)?;
                let attachments = attachment::list(conn, draft_id)?;
                Ok::<_, DossierError>((draft, procedure, attachments))
            })
            .await?;
        let counts = count_by_kind(&attachments);
        let errors = validate::validate(&procedure, &draft.values, &counts, now);
        if !errors.is_empty() {
            return Err(DossierError::NotValid(errors));
        }
        // A supplement draft: the request it answers must still be open.
        let supplement = match draft.supplement_of {
            None => None,
            Some(_) => {
                let open = self
                    .inner
                    .store
                    .read(move |conn| supplement::check_still_open(conn, draft_id))
                    .await?;
                let (of, dossier_id, request_id) =
                    open.ok_or(DossierError::NoOpenSupplementRequest)?;
                Some((
                    of,
                    SupplementRef {
                        dossier_id,
                        request_id,
                    },
                ))
            }
        };
        let snapshot_values = draft.values.clone();
        let snapshot_files: Vec<_> = attachments.iter().map(|a| (a.id, a.sha256)).collect();
        let filed = attachments
            .iter()
            .map(|a| FiledAttachment {
                attachment_id: a.id.0,
                kind: a.kind.clone(),
                media_type: a.media_type.clone(),
                size: a.size,
                sha256: a.sha256,
            })
            .collect();
        self.file_dossier(
            Some(draft_id.0),
            ProcedureRef {
                code: draft.procedure_code.clone(),
                version: draft.procedure_version,
            },
            draft.values,
            filed,
            supplement,
            pin,
            move |tx| {
                // What was signed must be what is locked: the draft may have changed while the
                // PIN was checked.
                let (now_draft, _) = draft::editable(tx, draft_id)?;
                let now_files: Vec<_> = attachment::list(tx, draft_id)?
                    .iter()
                    .map(|a| (a.id, a.sha256))
                    .collect();
                if now_draft.values != snapshot_values || now_files != snapshot_files {
                    return Err(DossierError::DraftChanged);
                }
                if now_draft.supplement_of.is_some()
                    && supplement::check_still_open(tx, draft_id)?.is_none()
                {
                    return Err(DossierError::NoOpenSupplementRequest);
                }
                draft::set_state(tx, draft_id, DraftState::Submitted)?;
                Ok(())
            },
        )
        .await
    }

    /// Signs and queues a dossier: checks `pin` (with the wallet's lockout), signs the manifest
    /// with the device key of the citizen's PID, writes the submission and its outbox entry in
    /// one transaction (`before_commit` runs in it too, e.g. to lock the draft), and returns at
    /// once: the background sender delivers it when it can.
    // Each argument is one part of what is signed; a struct for them would only be unpacked here.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn file_dossier<F>(
        &self,
        draft_id: Option<i64>,
        procedure: ProcedureRef,
        form: BTreeMap<String, String>,
        attachments: Vec<FiledAttachment>,
        supplement: Option<(i64, SupplementRef)>,
        pin: &str,
        before_commit: F,
    ) -> Result<Submission, DossierError>
    where
        F: FnOnce(&rusqlite::Transaction<'_>) -> Result<(), DossierError> + Send + 'static,
    {
        let manifest = Manifest {
            jti: new_dossier_id()?,
            iat: crate::unix_now(),
            procedure,
            form,
            attachments: attachments
                .iter()
                .map(|a| AttachmentDigest {
                    kind: a.kind.clone(),
                    media_type: a.media_type.clone(),
                    size: a.size,
                    sha256: base64url::encode(a.sha256),
                })
                .collect(),
            supplement: supplement.as_ref().map(|(_, reference)| reference.clone()),
        };
        manifest.check()?;
        let to_sign = manifest.clone();
        let signed = self
            .sign_as_citizen(pin, move |device| manifest::sign(&to_sign, device))
            .await?;
        let files: Vec<NewFile> = manifest
            .attachments
            .iter()
            .zip(&attachments)
            .map(|(digest, attachment)| NewFile {
                attachment_id: attachment.attachment_id,
                sha256: digest.sha256.clone(),
                size: attachment.size,
            })
            .collect();
        let now = crate::unix_now();
        let submission = self
            .inner
            .store
            .write(move |tx| {
                before_commit(tx)?;
                let id = submission::insert(
                    tx,
                    &manifest.jti,
                    draft_id,
                    &manifest.procedure.code,
                    manifest.procedure.version,
                    &signed,
                    &files,
                    supplement
                        .as_ref()
                        .map(|(of, reference)| (*of, reference.request_id.as_str())),
                    now,
                )?;
                submission::get(tx, id)?.ok_or(DossierError::UnknownSubmission)
            })
            .await?;
        tracing::info!(attachments = submission.attachments, "dossier filed");
        self.inner.events.emit(Event::DossierDeliveryChanged {
            submission_id: submission.id,
            state: DeliveryState::Queued,
        });
        self.wake_sender();
        Ok(submission)
    }

    /// Checks `pin` (with the wallet's lockout) and signs with the device key of the citizen's
    /// PID, off the async threads: what every request the citizen signs (a dossier, a
    /// supplement, a withdrawal) goes through.
    pub(crate) async fn sign_as_citizen<F>(
        &self,
        pin: &str,
        sign: F,
    ) -> Result<String, DossierError>
    where
        F: FnOnce(&DeviceKey) -> Result<String, manifest::ManifestError> + Send + 'static,
    {
        let wallet = &self.inner.wallet;
        wallet.verify_pin(pin).await?;
        let key_alias = self
            .inner
            .store
            .read(|conn| credentials::usable_by_vct(conn, PID_VCT))
            .await?
            .ok_or(WalletError::NotActivated)?
            .key_alias;
        let keys = wallet.key_store()?;
        crate::blocking::run(move || {
            let device = DeviceKey::open(keys, &key_alias).map_err(WalletError::from)?;
            sign(&device).map_err(DossierError::from)
        })
        .await
    }

    /// Filed dossier `id`, with where it is on its way.
    pub async fn submission(&self, id: i64) -> Result<Option<Submission>, DossierError> {
        Ok(self
            .inner
            .store
            .read(move |conn| submission::get(conn, id))
            .await?)
    }

    /// The manifest the citizen signed for filed dossier `id` (a compact JWS): their proof of
    /// what they filed, and what the portal received.
    pub async fn signed_manifest(&self, id: i64) -> Result<Option<String>, DossierError> {
        Ok(self
            .inner
            .store
            .read(move |conn| submission::to_send(conn, id))
            .await?
            .map(|(manifest, _)| manifest))
    }

    /// Every filed dossier, newest first.
    pub async fn submissions(&self) -> Result<Vec<Submission>, DossierError> {
        Ok(self.inner.store.read(submission::list).await?)
    }

    /// Puts a parked dossier back in the queue (the citizen fixed what the portal objected to
    /// outside the dossier, e.g. renewed their wallet) and wakes the sender.
    pub async fn retry_submission(&self, id: i64) -> Result<(), DossierError> {
        let now = crate::unix_now();
        let unparked = self
            .inner
            .store
            .write(move |tx| submission::unpark(tx, id, now))
            .await?;
        if !unparked {
            return Err(DossierError::UnknownSubmission);
        }
        self.inner.events.emit(Event::DossierDeliveryChanged {
            submission_id: id,
            state: DeliveryState::Queued,
        });
        self.wake_sender();
        Ok(())
    }

    /// Deletes a filed dossier the portal never received (queued and not being sent right now,
    /// or parked). Returns the draft it came from, if that draft still exists, so the app can
    /// reopen it. Refused once the portal has it.
    pub async fn discard_submission(&self, id: i64) -> Result<Option<i64>, DossierError> {
        let _no_sending = self.inner.send_gate.lock().await;
        let discarded = self
            .inner
            .store
            .write(move |tx| submission::discard(tx, id))
            .await?;
        discarded.ok_or(DossierError::UnknownSubmission)
    }
}

fn count_by_kind(attachments: &[AttachmentInfo]) -> std::collections::BTreeMap<String, u32> {
    let mut counts = std::collections::BTreeMap::new();
    for attachment in attachments {
        *counts.entry(attachment.kind.clone()).or_insert(0) += 1;
    }
    counts
}

/// A new dossier id: 128 random bits, base64url (22 characters).
pub(crate) fn new_dossier_id() -> Result<String, DossierError> {
    let mut bytes = [0u8; 16];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut bytes)
        .map_err(|_| DossierError::Randomness)?;
    Ok(base64url::encode(bytes))
}
