//! The errors that cross the FFI: one [`CitizenError`] for apps, one [`PlatformError`] for the
//! shells' platform services.
//!
//! Owns: the mapping from the core's detailed per-module errors to the kinds an app can act on,
//! and each kind's stable machine-readable code. Each kind's `detail` is for developers' logs, in
//! English, and carries no personal data (it comes from the core's error texts, which carry none).
//! The field is not called `message`: in Kotlin that would clash with `Throwable.message`
//! (uniffi-rs #1434).

use citizen_core::DossierError;
use citizen_core::checkin::{CheckInError, VenueCodeError};
use citizen_core::dossier::AttachmentError;
use citizen_core::verifier::IdentityQrError;
use citizen_core::wallet::pin::{PinError, WeakPin};
use citizen_core::{ConfigError, NetError, StoreError, TrustError, TrustListError, WalletError};

/// What went wrong, by what the app should do about it.
#[derive(Debug, thiserror::Error, uniffi::Error)]
pub enum CitizenError {
    /// Offline, unreachable or timed out. Retry later; queued work is kept.
    #[error("network: {detail}")]
    Network { detail: String },
    /// The portal's certificate did not match the pinned keys. Do not retry on this network.
    #[error("pin mismatch: {detail}")]
    PinMismatch { detail: String },
    /// The TLS handshake failed or the certificate is not trusted.
    #[error("tls: {detail}")]
    Tls { detail: String },
    /// The portal answered with an error status.
    #[error("server ({status}): {detail}")]
    Server { status: u16, detail: String },
    /// An argument or setting is not acceptable. `field` names it, `code` says why.
    #[error("invalid input {field} ({code}): {detail}")]
    InvalidInput {
        field: String,
        code: String,
        detail: String,
    },
    /// The thing asked for does not exist (a credential, a history record, ...).
    #[error("not found: {detail}")]
    NotFound { detail: String },
    /// Too many failed attempts; wait or use the recovery path.
    #[error("locked: {detail}")]
    Locked { detail: String },
    /// The PIN was wrong. After `attempts_before_lockout` more wrong PINs the wallet locks.
    #[error("wrong PIN: {detail}")]
    WrongPin {
        attempts_before_lockout: u32,
        detail: String,
    },
    /// The operation does not fit the wallet's state. `code`: `not_activated`,
    /// `already_activated`, `blocked` (too many wrong PINs: activate again),
    /// `choose_another_pin` (activation kept the credential; call `complete_activation`),
    /// `no_pending_activation`, `no_key_store`, `revoked`, `suspended`, `draft_locked` (a
    /// submitted dossier draft cannot change), `closed` (the `Citizen` this object came from was
    /// closed: open a new one and take the object from it).
    #[error("invalid state ({code}): {detail}")]
    InvalidState { code: String, detail: String },
    /// Something the SDK was given is not trusted: a credential or list whose issuer, signature or
    /// binding did not check out, or no verified trust list is available yet (`code`:
    /// `no_trust_list`; refresh it online). A trust list the portal served that was refused
    /// (`trust_list_unknown_anchor`, `trust_list_expired`, `trust_list_rollback`,
    /// `trust_list_rejected`) leaves the list in use as it was. A health certificate that did not
    /// verify has a `dcc_` code (`dcc_unknown_signer`, `dcc_signature_invalid`, `dcc_expired`,
    /// `dcc_not_yet_valid`, `dcc_signer_not_valid`, `dcc_key_usage`). Do not retry unchanged.
    #[error("untrusted ({code}): {detail}")]
    Untrusted { code: String, detail: String },
    /// The platform wants the user to authenticate (biometrics / device credential) first.
    #[error("authentication required: {detail}")]
    AuthenticationRequired { detail: String },
    /// The platform's secure hardware could not be used just now. Nothing was changed or lost:
    /// retry later. Never a reason to wipe.
    #[error("temporarily unavailable: {detail}")]
    TemporarilyUnavailable { detail: String },
    /// Another open `Citizen` uses this data directory (this process or another). Close it first.
    #[error("in use: {detail}")]
    InUse { detail: String },
    /// The store cannot be decrypted with the key available (the sealing key was invalidated, the
    /// key file is missing or damaged). Nothing was changed; the app may offer `wipe_data_dir`.
    #[error("wrong key: {detail}")]
    WrongKey { detail: String },
    /// The store or the file system failed.
    #[error("storage: {detail}")]
    Storage { detail: String },
    /// A cryptographic or platform key operation failed.
    #[error("crypto: {detail}")]
    Crypto { detail: String },
    /// The portal or the stored data needs a newer SDK.
    #[error("unsupported: {detail}")]
    Unsupported { detail: String },
    /// The SDK task doing the work was cancelled before it finished; retry.
    #[error("cancelled: {detail}")]
    Cancelled { detail: String },
    /// A bug in the SDK. Report it.
    #[error("internal: {detail}")]
    Internal { detail: String },
}

#[uniffi::export]
impl CitizenError {
    /// A stable, machine-readable code for this kind of error (e.g. `pin_mismatch`). Codes are
    /// never renamed; new ones may be added.
    pub fn code(&self) -> String {
        match self {
            CitizenError::Network { .. } => "network",
            CitizenError::PinMismatch { .. } => "pin_mismatch",
            CitizenError::Tls { .. } => "tls",
            CitizenError::Server { .. } => "server",
            CitizenError::InvalidInput { .. } => "invalid_input",
            CitizenError::NotFound { .. } => "not_found",
            CitizenError::Locked { .. } => "locked",
            CitizenError::WrongPin { .. } => "wrong_pin",
            CitizenError::InvalidState { .. } => "invalid_state",
            CitizenError::Untrusted { .. } => "untrusted",
            CitizenError::AuthenticationRequired { .. } => "authentication_required",
            CitizenError::TemporarilyUnavailable { .. } => "temporarily_unavailable",
            CitizenError::InUse { .. } => "in_use",
            CitizenError::WrongKey { .. } => "wrong_key",
            CitizenError::Storage { .. } => "storage",
            CitizenError::Crypto { .. } => "crypto",
            CitizenError::Unsupported { .. } => "unsupported",
            CitizenError::Cancelled { .. } => "cancelled",
            CitizenError::Internal { .. } => "internal",
        }
        .to_string()
    }
}

impl From<citizen_core::Error> for CitizenError {
    fn from(error: citizen_core::Error) -> Self {
        let detail = error.to_string();
        match error {
            citizen_core::Error::Config(ConfigError::HttpClientSetup) => {
                CitizenError::Internal { detail }
            }
            citizen_core::Error::Config(config) => {
                let (field, code) = config_field_and_code(&config);
                CitizenError::InvalidInput {
                    field,
                    code: code.into(),
                    detail,
                }
            }
            citizen_core::Error::Store(store) => from_store(store, detail),
            citizen_core::Error::Net(net) => from_net(net, detail),
            citizen_core::Error::Wallet(wallet) => wallet.into(),
            citizen_core::Error::CheckIn(checkin) => checkin.into(),
            citizen_core::Error::UnsupportedPortalVersion { .. } => {
                CitizenError::Unsupported { detail }
            }
            citizen_core::Error::TrustList(trust) => from_trust(trust, detail),
            _ => CitizenError::Internal { detail },
        }
    }
}

impl From<WalletError> for CitizenError {
    fn from(error: WalletError) -> Self {
        let detail = error.to_string();
        let state = |code: &str| CitizenError::InvalidState {
            code: code.into(),
            detail: detail.clone(),
        };
        let input = |field: &str, code: &str| CitizenError::InvalidInput {
            field: field.into(),
            code: code.into(),
            detail: detail.clone(),
        };
        match error {
            WalletError::NotActivated => state("not_activated"),
            WalletError::AlreadyActivated => state("already_activated"),
            WalletError::NoPendingActivation => state("no_pending_activation"),
            WalletError::NoKeyStore => state("no_key_store"),
            WalletError::ChooseAnotherPin(_) => state("choose_another_pin"),
            WalletError::Revoked => state("revoked"),
            WalletError::Suspended => state("suspended"),
            WalletError::InvalidInput(field) => input(field, "invalid"),
            WalletError::ActivationCodeRejected => input("activation_code", "rejected"),
            WalletError::NoTrustList => CitizenError::Untrusted {
                code: "no_trust_list".into(),
                detail,
            },
            WalletError::CredentialRejected(_) => CitizenError::Untrusted {
                code: "credential_rejected".into(),
                detail,
            },
            WalletError::Issuer(_) => CitizenError::Server { status: 0, detail },
            WalletError::RequestRefused(refusal) => {
                use citizen_core::openid4vp::Openid4vpError as E;
                let code = match refusal {
                    E::Expired | E::IssuedInFuture => return state("request_expired"),
                    E::NotAnAuthorizationRequest => return input("link", "not_a_request"),
                    E::ClaimNotAllowed(_) => "claim_not_allowed",
                    E::Jws(_) | E::NoValidKey => "request_signature",
                    E::ResponseUriNotAllowed | E::RequestUriNotAllowed => "uri_not_allowed",
                    _ => "request_invalid",
                };
                CitizenError::Untrusted {
                    code: code.into(),
                    detail,
                }
            }
            WalletError::UnknownRelyingParty => CitizenError::Untrusted {
                code: "unknown_relying_party".into(),
                detail,
            },
            WalletError::RequestReplayed => CitizenError::Untrusted {
                code: "request_replayed".into(),
                detail,
            },
            WalletError::CannotSatisfy(_) => state("cannot_satisfy"),
            WalletError::UnknownDisclosure => CitizenError::NotFound { detail },
            WalletError::ClaimChoiceNotOffered => input("optional_claims", "not_offered"),
            WalletError::RelyingParty { status } => CitizenError::Server { status, detail },
            WalletError::HealthCertificateRejected(rejected) => match rejected.code() {
                code @ ("dcc_malformed" | "dcc_content_invalid") => {
                    input("health_certificate", code)
                }
                code => CitizenError::Untrusted {
                    code: code.into(),
                    detail,
                },
            },
            WalletError::Pin(pin) => from_pin(pin, detail),
            WalletError::Platform(platform) => from_platform(platform, detail),
            WalletError::Net(net) => from_net(net, detail),
            WalletError::Store(store) => from_store(store, detail),
            _ => CitizenError::Internal { detail },
        }
    }
}

/// A refused code or notice is `Untrusted` with a code per check; an unreadable scan is
/// `InvalidInput` on `text`.
impl From<CheckInError> for CitizenError {
    fn from(error: CheckInError) -> Self {
        let detail = error.to_string();
        let untrusted = |code: &str| CitizenError::Untrusted {
            code: code.into(),
            detail: detail.clone(),
        };
        let state = |code: &str| CitizenError::InvalidState {
            code: code.into(),
            detail: detail.clone(),
        };
        match error {
            CheckInError::Code(code) => match code {
                VenueCodeError::Unreadable(_) => CitizenError::InvalidInput {
                    field: "text".into(),
                    code: "unreadable".into(),
                    detail,
                },
                VenueCodeError::UnknownKey => untrusted("venue_unknown_key"),
                VenueCodeError::KeyNotValid => untrusted("venue_key_not_valid"),
                VenueCodeError::BadSignature => untrusted("venue_bad_signature"),
                VenueCodeError::WrongAgency => untrusted("venue_wrong_agency"),
                VenueCodeError::Expired => untrusted("venue_code_expired"),
                VenueCodeError::NotYetValid => untrusted("venue_code_not_yet_valid"),
                _ => untrusted("venue_code_invalid"),
            },
            CheckInError::NoTrustList => untrusted("no_trust_list"),
            CheckInError::NotFound => CitizenError::NotFound { detail },
            CheckInError::NotACounter => state("not_a_counter"),
            CheckInError::CheckedOut => state("checked_out"),
            CheckInError::InvalidInput(field) => CitizenError::InvalidInput {
                field: field.into(),
                code: "invalid".into(),
                detail,
            },
            CheckInError::NoticesRefused(_) => untrusted("notices_refused"),
            CheckInError::InvalidAnswer(_) => CitizenError::Server { status: 0, detail },
            CheckInError::Net(net) => from_net(net, detail),
            CheckInError::Store(store) => from_store(store, detail),
            _ => CitizenError::Internal { detail },
        }
    }
}

impl From<IdentityQrError> for CitizenError {
    fn from(error: IdentityQrError) -> Self {
        let detail = error.to_string();
        let code = match &error {
            IdentityQrError::Store(_) => return CitizenError::Storage { detail },
            IdentityQrError::Unreadable(_) => "unreadable",
            IdentityQrError::NoTrustList => "no_trust_list",
            IdentityQrError::UntrustedIssuer => "untrusted_issuer",
            IdentityQrError::WrongType => "wrong_type",
            IdentityQrError::NoKeyBinding => "no_key_binding",
            IdentityQrError::Expired => "expired",
            IdentityQrError::AudienceMismatch => "audience_mismatch",
            IdentityQrError::NonceMismatch => "nonce_mismatch",
            IdentityQrError::Replayed => "replayed",
            IdentityQrError::Revoked => "revoked",
            IdentityQrError::Suspended => "suspended",
            _ => "invalid",
        };
        CitizenError::Untrusted {
            code: code.into(),
            detail,
        }
    }
}

/// A catalogue answer the SDK could not use is `Server` with status 0 (nothing stored was lost;
/// retry later); a search argument out of range is `InvalidInput` naming it.
impl From<DossierError> for CitizenError {
    fn from(error: DossierError) -> Self {
        let detail = error.to_string();
        let input = |field: &str, code: &str| CitizenError::InvalidInput {
            field: field.into(),
            code: code.into(),
            detail: detail.clone(),
        };
        match error {
            DossierError::InvalidCatalogue(_) => CitizenError::Server { status: 0, detail },
            DossierError::InvalidArgument(field) => input(field, "out_of_range"),
            DossierError::ProcedureNotFound
            | DossierError::DraftNotFound
            | DossierError::AttachmentNotFound => CitizenError::NotFound { detail },
            DossierError::DraftLocked => CitizenError::InvalidState {
                code: "draft_locked".into(),
                detail,
            },
            DossierError::NoIdentityCredential => CitizenError::InvalidState {
                code: "not_activated".into(),
                detail,
            },
            DossierError::UnknownField(field) => input(&field, "unknown_field"),
            DossierError::ValueTooLong(field) => input(&field, "too_long"),
            DossierError::ClaimNotOffered(_) => input("approved_claims", "not_offered"),
            DossierError::Attachment(refused) => match refused {
                AttachmentError::UnknownKind(_) => input("kind", "unknown_attachment_kind"),
                AttachmentError::UnrecognisedType => input("attachment", "unrecognised_type"),
                AttachmentError::TypeNotAllowed { .. } => input("attachment", "type_not_allowed"),
                AttachmentError::TooLarge { .. } => input("attachment", "too_large"),
                AttachmentError::TooMany { .. } => input("attachment", "too_many"),
                AttachmentError::Empty => input("attachment", "empty"),
                AttachmentError::FileNotFound => input("path", "not_found"),
                _ => CitizenError::Storage { detail },
            },
            DossierError::Net(net) => from_net(net, detail),
            DossierError::Store(store) => from_store(store, detail),
            DossierError::Wallet(wallet) => wallet.into(),
            DossierError::UnknownSubmission => CitizenError::NotFound { detail },
            DossierError::Manifest(citizen_core::dossier::manifest::ManifestError::TooLarge) => {
                input("dossier", "too_large")
            }
            DossierError::Manifest(_) => input("dossier", "invalid"),
            // The field errors themselves come from `validate_draft`; the first names the field.
            DossierError::NotValid(errors) => CitizenError::InvalidInput {
                field: errors.first().map(|e| e.field.clone()).unwrap_or_default(),
                code: "not_valid".into(),
                detail,
            },
            DossierError::DraftChanged => CitizenError::InvalidState {
                code: "draft_changed".into(),
                detail,
            },
            DossierError::DraftInFlight => CitizenError::InvalidState {
                code: "dossier_in_flight".into(),
                detail,
            },
            DossierError::InvalidStatusFeed(_) => CitizenError::Server { status: 0, detail },
            DossierError::NoOpenSupplementRequest => CitizenError::InvalidState {
                code: "no_open_supplement_request".into(),
                detail,
            },
            DossierError::NotWithdrawable => CitizenError::InvalidState {
                code: "not_withdrawable".into(),
                detail,
            },
            DossierError::FeeNotFound => CitizenError::NotFound { detail },
            DossierError::FeeQr(_) => CitizenError::Server { status: 0, detail },
            _ => CitizenError::Internal { detail },
        }
    }
}

fn from_pin(error: PinError, detail: String) -> CitizenError {
    match error {
        PinError::Format => CitizenError::InvalidInput {
            field: "pin".into(),
            code: "format".into(),
            detail,
        },
        PinError::Weak(weak) => CitizenError::InvalidInput {
            field: "pin".into(),
            code: match weak {
                WeakPin::AllSame => "weak_all_same",
                WeakPin::Sequence => "weak_sequence",
                WeakPin::BirthDate => "weak_birth_date",
            }
            .into(),
            detail,
        },
        PinError::Wrong {
            attempts_before_lockout,
        } => CitizenError::WrongPin {
            attempts_before_lockout,
            detail,
        },
        PinError::Locked { .. } => CitizenError::Locked { detail },
        PinError::Blocked => CitizenError::InvalidState {
            code: "blocked".into(),
            detail,
        },
        PinError::NotSet => CitizenError::InvalidState {
            code: "not_activated".into(),
            detail,
        },
        PinError::Store(store) => from_store(store, detail),
        _ => CitizenError::Internal { detail },
    }
}

fn from_platform(error: citizen_core::PlatformError, detail: String) -> CitizenError {
    use citizen_core::PlatformError as P;
    match error {
        P::AuthenticationRequired => CitizenError::AuthenticationRequired { detail },
        P::TemporarilyUnavailable => CitizenError::TemporarilyUnavailable { detail },
        _ => CitizenError::Crypto { detail },
    }
}

fn config_field_and_code(error: &ConfigError) -> (String, &'static str) {
    match error {
        ConfigError::InvalidPortalUrl => ("portal_base_url".into(), "invalid_url"),
        ConfigError::InsecurePortalUrl => ("portal_base_url".into(), "not_https"),
        ConfigError::InvalidRootCertificate { index } => {
            (format!("trusted_roots_pem[{index}]"), "invalid_certificate")
        }
        ConfigError::InvalidPin { index } => (format!("portal_spki_pins[{index}]"), "invalid_pin"),
        ConfigError::PortalPinsRequired => ("portal_spki_pins".into(), "pins_required"),
        ConfigError::InvalidOrigin { index } => {
            (format!("origin_pins[{index}].origin"), "invalid_origin")
        }
        ConfigError::DuplicateOrigin { index } => {
            (format!("origin_pins[{index}].origin"), "duplicate_origin")
        }
        ConfigError::InvalidOriginPin { index, pin } => (
            format!("origin_pins[{index}].spki_pins[{pin}]"),
            "invalid_pin",
        ),
        ConfigError::OriginPinsRequired { index } => {
            (format!("origin_pins[{index}].spki_pins"), "pins_required")
        }
        ConfigError::InvalidTimeout => ("request_timeout_ms".into(), "out_of_range"),
        ConfigError::InvalidCheckinRetention => ("checkin_retention_days".into(), "out_of_range"),
        ConfigError::InvalidTrustAnchor { index } => {
            (format!("trust_anchors[{index}]"), "invalid_trust_anchor")
        }
        ConfigError::DuplicateTrustAnchor { index } => {
            (format!("trust_anchors[{index}].kid"), "duplicate_kid")
        }
        _ => ("config".into(), "invalid"),
    }
}

/// A refused trust list is `Untrusted` (the list in use stays); the codes say why without
/// quoting anything from the list.
fn from_trust(error: TrustError, detail: String) -> CitizenError {
    let code = match error {
        TrustError::Net(net) => return from_net(net, detail),
        TrustError::Store(store) => return from_store(store, detail),
        TrustError::List(TrustListError::NoAnchors) => {
            return CitizenError::InvalidInput {
                field: "trust_anchors".into(),
                code: "required".into(),
                detail,
            };
        }
        TrustError::Missing => "no_trust_list",
        TrustError::List(TrustListError::Expired) => "trust_list_expired",
        TrustError::List(TrustListError::Rollback { .. }) => "trust_list_rollback",
        TrustError::List(TrustListError::UnknownAnchor) => "trust_list_unknown_anchor",
        _ => "trust_list_rejected",
    };
    CitizenError::Untrusted {
        code: code.into(),
        detail,
    }
}

fn from_store(error: StoreError, detail: String) -> CitizenError {
    use citizen_core::PlatformError as P;
    match error {
        StoreError::KeyRejected
        | StoreError::KeyMissing
        | StoreError::KeyFileCorrupt
        | StoreError::Unseal(P::KeyUnavailable) => CitizenError::WrongKey { detail },
        StoreError::Unseal(P::AuthenticationRequired)
        | StoreError::Seal(P::AuthenticationRequired) => {
            CitizenError::AuthenticationRequired { detail }
        }
        StoreError::Unseal(P::TemporarilyUnavailable)
        | StoreError::Seal(P::TemporarilyUnavailable)
        | StoreError::DeleteSealingKey(P::TemporarilyUnavailable) => {
            CitizenError::TemporarilyUnavailable { detail }
        }
        StoreError::InUse => CitizenError::InUse { detail },
        StoreError::Closed => CitizenError::InvalidState {
            code: "closed".into(),
            detail,
        },
        StoreError::Unseal(_)
        | StoreError::Seal(_)
        | StoreError::DeleteSealingKey(_)
        | StoreError::Randomness => CitizenError::Crypto { detail },
        StoreError::SchemaTooNew { .. } => CitizenError::Unsupported { detail },
        StoreError::Panicked => CitizenError::Internal { detail },
        _ => CitizenError::Storage { detail },
    }
}

fn from_net(error: NetError, detail: String) -> CitizenError {
    match error {
        NetError::PinMismatch => CitizenError::PinMismatch { detail },
        NetError::UntrustedCertificate | NetError::Tls => CitizenError::Tls { detail },
        NetError::Timeout | NetError::Unreachable => CitizenError::Network { detail },
        NetError::Status { status: 404 } => CitizenError::NotFound { detail },
        NetError::Status { status } => CitizenError::Server { status, detail },
        NetError::OriginNotAllowed => CitizenError::InvalidInput {
            field: "url".into(),
            code: "origin_not_allowed".into(),
            detail,
        },
        NetError::InvalidPath => CitizenError::Internal { detail },
        _ => CitizenError::Server { status: 0, detail },
    }
}

/// What a shell's platform service reports when it fails.
#[derive(Debug, thiserror::Error, uniffi::Error)]
pub enum PlatformError {
    /// The key is gone or permanently invalidated; what it sealed cannot come back.
    #[error("key unavailable")]
    KeyUnavailable,
    /// The user must authenticate before the key can be used.
    #[error("authentication required")]
    AuthenticationRequired,
    /// The key could not be used just now (keystore daemon restarting, device locked after boot);
    /// the SDK reports it as retryable and never treats it as a lost key.
    #[error("temporarily unavailable")]
    TemporarilyUnavailable,
    /// Anything else. `detail` must not contain personal data.
    #[error("platform failure: {detail}")]
    Failure { detail: String },
}

impl From<uniffi::UnexpectedUniFFICallbackError> for PlatformError {
    fn from(_: uniffi::UnexpectedUniFFICallbackError) -> Self {
        // The reason is the foreign exception's text and stack trace, which may hold anything;
        // it must not travel on into error messages and logs.
        PlatformError::Failure {
            detail: "the platform service threw an unexpected exception".into(),
        }
    }
}

impl From<PlatformError> for citizen_core::PlatformError {
    fn from(error: PlatformError) -> Self {
        match error {
            PlatformError::KeyUnavailable => citizen_core::PlatformError::KeyUnavailable,
            PlatformError::AuthenticationRequired => {
                citizen_core::PlatformError::AuthenticationRequired
            }
            PlatformError::TemporarilyUnavailable => {
                citizen_core::PlatformError::TemporarilyUnavailable
            }
            PlatformError::Failure { detail } => {
                citizen_core::PlatformError::Failure(sanitize_platform_detail(&detail))
            }
        }
    }
}

/// The most of a shell's failure text that travels on into errors and logs.
const MAX_PLATFORM_DETAIL: usize = 120;

/// A shell's failure text, made safe to pass on. The shells are asked for fixed texts, but a
/// platform exception message may quote anything (an account name, a file path, an ID number),
/// and this text reaches `CitizenError.detail` and log lines. So only plain wording passes: ASCII
/// letters, spaces and simple punctuation, at most 120 characters. Anything else (a digit, an
/// `@`, a `/`, a letter with diacritics) withholds the whole text; a cut-off text is marked.
pub(crate) fn sanitize_platform_detail(detail: &str) -> String {
    let plain = detail.chars().all(|c| {
        c.is_ascii_alphabetic() || matches!(c, ' ' | '.' | ',' | ':' | ';' | '_' | '-' | '(' | ')')
    });
    if !plain {
        return "the platform reported a failure (its text was withheld)".into();
    }
    let mut clean: String = detail.chars().take(MAX_PLATFORM_DETAIL).collect();
    if detail.len() > MAX_PLATFORM_DETAIL {
        clean.push_str("...");
    }
    clean
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn platform_failure_texts_are_sanitised_before_they_travel_on() {
        let detail_of = |text: &str| {
            let shell = PlatformError::Failure {
                detail: text.into(),
            };
            let core: citizen_core::PlatformError = shell.into();
            match CitizenError::from(citizen_core::Error::from(StoreError::Seal(core))) {
                CitizenError::Crypto { detail } => detail,
                other => panic!("expected Crypto, got {other:?}"),
            }
        };
        let fixed = detail_of("could not seal: KeyStoreException");
        assert!(
            fixed.ends_with("could not seal: KeyStoreException"),
            "{fixed}"
        );
        for leaky in [
            "could not seal: account nguyen@gov.vn",
            "key for citizen 001203004567 missing",
            "Nguyễn Văn An cancelled",
            "/data/user/0/app/files/x",
        ] {
            let detail = detail_of(leaky);
            assert!(detail.contains("withheld"), "{leaky} -> {detail}");
            assert!(
                !detail.contains("nguyen") && !detail.contains("0012"),
                "{detail}"
            );
        }
        let long = sanitize_platform_detail(&"x".repeat(500));
        assert_eq!(long.len(), MAX_PLATFORM_DETAIL + 3);
    }

    #[test]
    fn dossier_errors_map_to_actionable_kinds_with_stable_codes() {
        use citizen_core::dossier::wire::InvalidCatalogue;
        let cases: Vec<(DossierError, &str)> = vec![
            (InvalidCatalogue("json").into(), "server"),
            (DossierError::InvalidArgument("page_size"), "invalid_input"),
            (NetError::Unreachable.into(), "network"),
            (NetError::Status { status: 404 }.into(), "not_found"),
            (StoreError::Corrupt.into(), "storage"),
        ];
        for (error, code) in cases {
            let mapped = CitizenError::from(error);
            assert_eq!(mapped.code(), code, "{mapped:?}");
        }
        match CitizenError::from(DossierError::InvalidArgument("page_size")) {
            CitizenError::InvalidInput { field, code, .. } => {
                assert_eq!(
                    (field.as_str(), code.as_str()),
                    ("page_size", "out_of_range")
                );
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn core_errors_map_to_actionable_kinds_with_stable_codes() {
        let cases: Vec<(citizen_core::Error, &str)> = vec![
            (NetError::PinMismatch.into(), "pin_mismatch"),
            (NetError::Unreachable.into(), "network"),
            (NetError::Status { status: 503 }.into(), "server"),
            (StoreError::KeyRejected.into(), "wrong_key"),
            (
                StoreError::Unseal(citizen_core::PlatformError::AuthenticationRequired).into(),
                "authentication_required",
            ),
            (StoreError::Corrupt.into(), "storage"),
            (StoreError::InUse.into(), "in_use"),
            (
                StoreError::Unseal(citizen_core::PlatformError::TemporarilyUnavailable).into(),
                "temporarily_unavailable",
            ),
            (ConfigError::PortalPinsRequired.into(), "invalid_input"),
            (ConfigError::InsecurePortalUrl.into(), "invalid_input"),
            (
                TrustError::List(TrustListError::UnknownAnchor).into(),
                "untrusted",
            ),
            (
                TrustError::List(TrustListError::Rollback {
                    current: 2,
                    offered: 1,
                })
                .into(),
                "untrusted",
            ),
            (TrustError::Net(NetError::Unreachable).into(), "network"),
            (TrustError::Missing.into(), "untrusted"),
            (
                TrustError::List(TrustListError::NoAnchors).into(),
                "invalid_input",
            ),
            (CheckInError::Net(NetError::Unreachable).into(), "network"),
            (CheckInError::NotFound.into(), "not_found"),
            (CheckInError::NoTrustList.into(), "untrusted"),
            (CheckInError::NotACounter.into(), "invalid_state"),
            (
                CheckInError::Code(VenueCodeError::WrongAgency).into(),
                "untrusted",
            ),
        ];
        for (core, code) in cases {
            assert_eq!(CitizenError::from(core).code(), code);
        }
        match CitizenError::from(citizen_core::Error::from(ConfigError::InvalidPin {
            index: 2,
        })) {
            CitizenError::InvalidInput { field, code, .. } => {
                assert_eq!(field, "portal_spki_pins[2]");
                assert_eq!(code, "invalid_pin");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn refused_venue_codes_have_stable_codes() {
        for (error, expected) in [
            (VenueCodeError::UnknownKey, "venue_unknown_key"),
            (VenueCodeError::BadSignature, "venue_bad_signature"),
            (VenueCodeError::WrongAgency, "venue_wrong_agency"),
            (VenueCodeError::Expired, "venue_code_expired"),
            (VenueCodeError::KeyNotValid, "venue_key_not_valid"),
        ] {
            match CitizenError::from(CheckInError::Code(error)) {
                CitizenError::Untrusted { code, .. } => assert_eq!(code, expected),
                other => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn a_trust_anchor_that_does_not_parse_is_named_by_index_never_by_value() {
        let anchor = |jwk_json: &str| crate::types::TrustAnchor {
            kid: "anchor".into(),
            jwk_json: jwk_json.into(),
        };
        let config = crate::types::CitizenConfig {
            data_dir: "/tmp/unused".into(),
            portal_base_url: "https://portal.example/".into(),
            trusted_roots_pem: vec![],
            portal_spki_pins: vec![],
            origin_pins: vec![],
            allow_unpinned: true,
            request_timeout_ms: 1000,
            checkin_retention_days: 14,
            trust_anchors: vec![
                anchor(
                    r#"{"kty":"EC","crv":"P-256","x":"b28d4MwZMjw8-00CG4xfnn9SLMVMM19SlqZpVb_uNtQ","y":"Xv5zWwuoaTgdS6hV43yI6gBwTnjukmFQQnJ_kCxzqk8"}"#,
                ),
                anchor(r#"{"kty":"EC","secret":"hunter2"}"#),
            ],
        };
        match citizen_core::CitizenConfig::try_from(config) {
            Err(CitizenError::InvalidInput {
                field,
                code,
                detail,
            }) => {
                assert_eq!(field, "trust_anchors[1]");
                assert_eq!(code, "invalid_trust_anchor");
                assert!(!detail.contains("hunter2"), "{detail}");
            }
            other => panic!("{:?}", other.map(|_| ())),
        }
    }
}
