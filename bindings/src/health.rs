//! EU Digital COVID Certificates across the FFI: the wallet keeps them (an additional
//! `Wallet` block), an officer's verifier checks them (an additional `Verifier` block).
//!
//! Owns: shape only. Meaning lives in `citizen_core::dcc` and `citizen_core::wallet::health`.
//! A refusal is `InvalidInput` (`field` `health_certificate`, `code` `dcc_malformed` or
//! `dcc_content_invalid`) for a code that cannot be read, otherwise `Untrusted` with `code`
//! `dcc_unknown_signer`, `dcc_signature_invalid`, `dcc_expired`, `dcc_not_yet_valid`,
//! `dcc_signer_not_valid` or `dcc_key_usage`; `no_trust_list` when no list is cached yet.

use citizen_core::dcc;

use crate::error::CitizenError;
use crate::runtime;
use crate::verifier::Verifier;
use crate::wallet::Wallet;

/// The kind of a health certificate's entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum HealthCertificateKind {
    /// A vaccination (`v`).
    Vaccination,
    /// A test (`t`).
    Test,
    /// A recovery (`r`).
    Recovery,
}

impl From<dcc::EntryKind> for HealthCertificateKind {
    fn from(kind: dcc::EntryKind) -> Self {
        match kind {
            dcc::EntryKind::Vaccination => Self::Vaccination,
            dcc::EntryKind::Test => Self::Test,
            dcc::EntryKind::Recovery => Self::Recovery,
        }
    }
}

/// A kept health certificate, without personal data.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct HealthCertificateSummary {
    /// Its identifier in the wallet.
    pub id: String,
    /// The kind of its entry.
    pub kind: HealthCertificateKind,
    /// The issuing country (ISO 3166-1 alpha-2), when the certificate names it.
    pub issuer_country: Option<String>,
    /// When it was issued (Unix seconds).
    pub issued_at: i64,
    /// When it expires (Unix seconds).
    pub expires_at: i64,
    /// When it was added to the wallet (Unix seconds).
    pub added_at: i64,
}

impl From<citizen_core::wallet::health::HealthCertificateSummary> for HealthCertificateSummary {
    fn from(summary: citizen_core::wallet::health::HealthCertificateSummary) -> Self {
        Self {
            id: summary.id,
            kind: summary.kind.into(),
            issuer_country: summary.issuer_country,
            issued_at: summary.issued_at,
            expires_at: summary.expires_at,
            added_at: summary.added_at,
        }
    }
}

/// One entry of a health certificate, with the eu-dcc schema's fields. Personal data: show it,
/// never log it. Codes (disease, vaccine, test type, result) are the EU value sets' codes.
#[derive(Clone, PartialEq, Eq, uniffi::Enum)]
pub enum HealthEntry {
    /// A vaccination.
    Vaccination {
        /// `tg`: the disease targeted.
        disease: String,
        /// `vp`: the vaccine or prophylaxis.
        vaccine: String,
        /// `mp`: the medicinal product.
        product: String,
        /// `ma`: the marketing authorisation holder or manufacturer.
        manufacturer: String,
        /// `dn`: the number of this dose.
        dose_number: u32,
        /// `sd`: the doses in the series.
        total_doses: u32,
        /// `dt`: the date of vaccination.
        date: String,
        /// `co`: the country of vaccination.
        country: String,
        /// `is`: the certificate issuer.
        issuer: String,
        /// `ci`: the unique certificate identifier.
        certificate_id: String,
    },
    /// A test.
    Test {
        /// `tg`: the disease targeted.
        disease: String,
        /// `tt`: the type of test.
        test_type: String,
        /// `nm`: the NAA test name.
        name: Option<String>,
        /// `ma`: the rapid antigen test device.
        device: Option<String>,
        /// `sc`: when the sample was collected.
        sample_collected: String,
        /// `tr`: the result.
        result: String,
        /// `tc`: the testing centre.
        centre: Option<String>,
        /// `co`: the country of the test.
        country: String,
        /// `is`: the certificate issuer.
        issuer: String,
        /// `ci`: the unique certificate identifier.
        certificate_id: String,
    },
    /// A recovery.
    Recovery {
        /// `tg`: the disease recovered from.
        disease: String,
        /// `fr`: the date of the first positive test.
        first_positive: String,
        /// `co`: the country of the test.
        country: String,
        /// `is`: the certificate issuer.
        issuer: String,
        /// `df`: valid from.
        valid_from: String,
        /// `du`: valid until.
        valid_until: String,
        /// `ci`: the unique certificate identifier.
        certificate_id: String,
    },
}

impl From<dcc::Entry> for HealthEntry {
    fn from(entry: dcc::Entry) -> Self {
        match entry {
            dcc::Entry::Vaccination(v) => Self::Vaccination {
                disease: v.disease,
                vaccine: v.vaccine,
                product: v.product,
                manufacturer: v.manufacturer,
                dose_number: v.dose_number,
                total_doses: v.total_doses,
                date: v.date,
                country: v.country,
                issuer: v.issuer,
                certificate_id: v.certificate_id,
            },
            dcc::Entry::Test(t) => Self::Test {
                disease: t.disease,
                test_type: t.test_type,
                name: t.name,
                device: t.device,
                sample_collected: t.sample_collected,
                result: t.result,
                centre: t.centre,
                country: t.country,
                issuer: t.issuer,
                certificate_id: t.certificate_id,
            },
            dcc::Entry::Recovery(r) => Self::Recovery {
                disease: r.disease,
                first_positive: r.first_positive,
                country: r.country,
                issuer: r.issuer,
                valid_from: r.valid_from,
                valid_until: r.valid_until,
                certificate_id: r.certificate_id,
            },
        }
    }
}

/// A verified health certificate's content. Personal data: show it, never log it.
#[derive(Clone, PartialEq, Eq, uniffi::Record)]
pub struct HealthCertificate {
    /// The schema version (`ver`).
    pub version: String,
    /// `fn`: the family name as printed.
    pub family_name: Option<String>,
    /// `fnt`: the family name standardised (ICAO 9303).
    pub family_name_standardised: String,
    /// `gn`: the given name as printed.
    pub given_name: Option<String>,
    /// `gnt`: the given name standardised.
    pub given_name_standardised: Option<String>,
    /// `dob`: the date of birth (`YYYY`, `YYYY-MM`, `YYYY-MM-DD` or empty).
    pub date_of_birth: String,
    /// The entries (one in an EU DCC).
    pub entries: Vec<HealthEntry>,
    /// The issuing country, when named.
    pub issuer_country: Option<String>,
    /// When it was issued (Unix seconds).
    pub issued_at: i64,
    /// When it expires (Unix seconds).
    pub expires_at: i64,
}

/// Personal data stays out of `Debug`.
impl std::fmt::Debug for HealthCertificate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HealthCertificate")
            .field("version", &self.version)
            .field("issued_at", &self.issued_at)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

impl From<dcc::VerifiedDcc> for HealthCertificate {
    fn from(verified: dcc::VerifiedDcc) -> Self {
        let certificate = verified.certificate;
        Self {
            version: certificate.version,
            family_name: certificate.name.family,
            family_name_standardised: certificate.name.family_standardised,
            given_name: certificate.name.given,
            given_name_standardised: certificate.name.given_standardised,
            date_of_birth: certificate.date_of_birth,
            entries: certificate.entries.into_iter().map(Into::into).collect(),
            issuer_country: verified.issuer,
            issued_at: verified.issued_at,
            expires_at: verified.expires_at,
        }
    }
}

#[uniffi::export]
impl Wallet {
    /// Verifies an EU DCC (`HC1:…`, as scanned) against the trust list's health signers and
    /// keeps it in the wallet. Adding the same code again returns the one already kept.
    pub async fn add_health_certificate(
        &self,
        text: String,
    ) -> Result<HealthCertificateSummary, CitizenError> {
        Ok(self
            .run(|w| async move { w.add_health_certificate(&text).await })
            .await?
            .into())
    }

    /// The kept health certificates, newest first, without personal data.
    pub async fn health_certificates(&self) -> Result<Vec<HealthCertificateSummary>, CitizenError> {
        Ok(self
            .run(|w| async move { w.health_certificates().await })
            .await?
            .into_iter()
            .map(Into::into)
            .collect())
    }

    /// A kept health certificate's content, verified again now; `None` when no certificate has
    /// this id.
    pub async fn health_certificate(
        &self,
        id: String,
    ) -> Result<Option<HealthCertificate>, CitizenError> {
        let kept = self
            .run(|w| async move { w.health_certificate(&id).await })
            .await?;
        Ok(kept.map(|kept| {
            HealthCertificate::from(dcc::VerifiedDcc {
                kid: Vec::new(),
                issuer: kept.summary.issuer_country,
                issued_at: kept.summary.issued_at,
                expires_at: kept.summary.expires_at,
                certificate: kept.certificate,
            })
        }))
    }

    /// Removes a kept health certificate; `false` when none has this id.
    pub async fn remove_health_certificate(&self, id: String) -> Result<bool, CitizenError> {
        self.run(|w| async move { w.remove_health_certificate(&id).await })
            .await
    }
}

#[uniffi::export]
impl Verifier {
    /// Checks an EU DCC (`HC1:…`) offline against the cached trust list's health signers at the
    /// current time, and returns its content.
    pub async fn verify_health_certificate(
        &self,
        text: String,
    ) -> Result<HealthCertificate, CitizenError> {
        let inner = self.inner.clone();
        let verified =
            runtime::run(async move { inner.verify_health_certificate(&text) }).await??;
        Ok(verified.into())
    }
}

#[cfg(test)]
mod tests {
    use citizen_core::WalletError;
    use citizen_core::dcc::{DccError, HcertError};
    use citizen_core::signed_qr::SignedQrError;

    use super::*;

    #[test]
    fn refusals_map_to_stable_codes() {
        let map =
            |error: DccError| CitizenError::from(WalletError::HealthCertificateRejected(error));
        for (error, code) in [
            (DccError::Expired, "dcc_expired"),
            (DccError::KeyUsage, "dcc_key_usage"),
            (
                DccError::SignedQr(SignedQrError::UnknownKey),
                "dcc_unknown_signer",
            ),
            (
                DccError::SignedQr(SignedQrError::AlgorithmKeyMismatch),
                "dcc_signature_invalid",
            ),
        ] {
            assert!(
                matches!(map(error), CitizenError::Untrusted { code: c, .. } if c == code),
                "{code}"
            );
        }
        for error in [
            DccError::SignedQr(SignedQrError::Base45),
            DccError::Hcert(HcertError::NoEntry),
        ] {
            assert!(matches!(
                map(error),
                CitizenError::InvalidInput { field, .. } if field == "health_certificate"
            ));
        }
    }
}
