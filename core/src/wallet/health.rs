//! EU Digital COVID Certificates kept in the wallet.
//!
//! Owns: the `health_certificates` table (the `HC1:` text, encrypted with the rest of the store,
//! and a summary without personal data beside it), and the wallet's flow: add (verified against
//! the trust list's health signers at the moment of adding, refused with a typed
//! [`WalletError::HealthCertificateRejected`] and nothing stored otherwise), list (summaries),
//! read one back (decoded again for display) and remove. Does not own the format or its
//! verification (`dcc`) nor the trust list (`trust`), which it consults through
//! [`IssuerTrust::health_signer`](super::IssuerTrust::health_signer).

use rusqlite::{Connection, OptionalExtension, Transaction, params};

use super::{Wallet, WalletError, random_token};
use crate::dcc::{self, DccError, EntryKind, HealthCertificate, SignerCertificate};
use crate::secret::Personal;
use crate::store::StoreError;

/// What the wallet shows of a kept certificate without decoding it: no name, no birth date, no
/// identifier, so `Debug` may print it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HealthCertificateSummary {
    /// Random, given when the certificate was added.
    pub id: String,
    /// The kind of its entry (a DCC holds one).
    pub kind: EntryKind,
    /// `iss`: the issuing country, when the certificate names it.
    pub issuer_country: Option<String>,
    pub issued_at: i64,
    pub expires_at: i64,
    pub added_at: i64,
}

/// A kept certificate, read back: its summary and content. `Debug` prints no personal data (see
/// [`HealthCertificate`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeptHealthCertificate {
    pub summary: HealthCertificateSummary,
    pub certificate: HealthCertificate,
    /// The `HC1:` text, to show as a QR code again.
    pub text: Personal<String>,
}

/// The trust list's health signers as a `dcc::SignerLookup`; remembers a missing list.
struct TrustedSigners<'a> {
    trust: &'a dyn super::IssuerTrust,
    no_list: std::cell::Cell<bool>,
}

impl dcc::SignerLookup for TrustedSigners<'_> {
    fn signer(&self, kid: &[u8]) -> Option<SignerCertificate> {
        match self.trust.health_signer(kid) {
            Ok(found) => found,
            Err(_) => {
                self.no_list.set(true);
                None
            }
        }
    }
}

/// Verifies `text` against the trust's health signers at `now`.
pub(crate) fn verify_with(
    trust: &dyn super::IssuerTrust,
    text: &str,
    now: i64,
) -> Result<dcc::VerifiedDcc, WalletError> {
    let signers = TrustedSigners {
        trust,
        no_list: std::cell::Cell::new(false),
    };
    dcc::verify(text, &signers, now).map_err(|error| {
        if signers.no_list.get() {
            WalletError::NoTrustList
        } else {
            WalletError::HealthCertificateRejected(error)
        }
    })
}

impl Wallet {
    /// Verifies an `HC1:` code against the trust list's health signers and keeps it. Adding the
    /// same text again returns the summary already kept.
    pub async fn add_health_certificate(
        &self,
        text: &str,
    ) -> Result<HealthCertificateSummary, WalletError> {
        let now = crate::unix_now();
        let verified = verify_with(&*self.context().trust, text, now)?;
        let kind = single_kind(&verified.certificate)?;
        let summary = HealthCertificateSummary {
            id: random_token(16)?,
            kind,
            issuer_country: verified.issuer.clone(),
            issued_at: verified.issued_at,
            expires_at: verified.expires_at,
            added_at: now,
        };
        let text = text.to_string();
        let kept = self
            .context()
            .store
            .write(move |tx| insert(tx, &summary, &text))
            .await?;
        tracing::info!(kind = kept.kind.name(), "health certificate kept");
        Ok(kept)
    }

    /// The kept certificates, newest first.
    pub async fn health_certificates(&self) -> Result<Vec<HealthCertificateSummary>, WalletError> {
        Ok(self.context().store.read(all).await?)
    }

    /// One kept certificate, decoded for display, or `None` when no certificate has this id. It
    /// is verified again at the current time, so one that has expired since, or whose signer
    /// left the trust list, is refused with the reason.
    pub async fn health_certificate(
        &self,
        id: &str,
    ) -> Result<Option<KeptHealthCertificate>, WalletError> {
        let id = id.to_string();
        let Some((summary, text)) = self
            .context()
            .store
            .read(move |conn| by_id(conn, &id))
            .await?
        else {
            return Ok(None);
        };
        let verified = verify_with(&*self.context().trust, &text, crate::unix_now())?;
        Ok(Some(KeptHealthCertificate {
            summary,
            certificate: verified.certificate,
            text: Personal::new(text),
        }))
    }

    /// Removes a kept certificate; `false` when none has this id.
    pub async fn remove_health_certificate(&self, id: &str) -> Result<bool, WalletError> {
        let id = id.to_string();
        Ok(self
            .context()
            .store
            .write(move |tx| {
                Ok::<_, StoreError>(
                    tx.execute("DELETE FROM health_certificates WHERE id = ?1", [id])? > 0,
                )
            })
            .await?)
    }
}

/// The one kind of a DCC's entries (the EU schema has exactly one group).
fn single_kind(certificate: &HealthCertificate) -> Result<EntryKind, WalletError> {
    match certificate.kinds().as_slice() {
        [kind] => Ok(*kind),
        _ => Err(WalletError::HealthCertificateRejected(DccError::Hcert(
            dcc::HcertError::TooManyEntries,
        ))),
    }
}

fn insert(
    tx: &Transaction<'_>,
    summary: &HealthCertificateSummary,
    text: &str,
) -> Result<HealthCertificateSummary, StoreError> {
    tx.execute(
        "INSERT INTO health_certificates
             (id, hc1, kind, issuer_country, issued_at, expires_at, added_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
         ON CONFLICT (hc1) DO NOTHING",
        params![
            summary.id,
            text,
            summary.kind.name(),
            summary.issuer_country,
            summary.issued_at,
            summary.expires_at,
            summary.added_at
        ],
    )?;
    let kept = tx
        .query_row(&format!("{SELECT} WHERE hc1 = ?1"), [text], |row| {
            Ok(summary_of(row))
        })?
        .map_err(|_| StoreError::Corrupt)?;
    Ok(kept)
}

const SELECT: &str = "SELECT id, kind, issuer_country, issued_at, expires_at, added_at, hc1
     FROM health_certificates";

/// A row of [`SELECT`]; `Err` for a kind this code does not know.
fn summary_of(row: &rusqlite::Row<'_>) -> Result<HealthCertificateSummary, ()> {
    let kind = match row.get::<_, String>(1).map_err(|_| ())?.as_str() {
        "vaccination" => EntryKind::Vaccination,
        "test" => EntryKind::Test,
        "recovery" => EntryKind::Recovery,
        _ => return Err(()),
    };
    Ok(HealthCertificateSummary {
        id: row.get(0).map_err(|_| ())?,
        kind,
        issuer_country: row.get(2).map_err(|_| ())?,
        issued_at: row.get(3).map_err(|_| ())?,
        expires_at: row.get(4).map_err(|_| ())?,
        added_at: row.get(5).map_err(|_| ())?,
    })
}

fn all(conn: &Connection) -> Result<Vec<HealthCertificateSummary>, StoreError> {
    let mut statement = conn.prepare(&format!("{SELECT} ORDER BY added_at DESC, id"))?;
    let rows = statement.query_map([], |row| Ok(summary_of(row)))?;
    let mut summaries = Vec::new();
    for row in rows {
        summaries.push(row?.map_err(|_| StoreError::Corrupt)?);
    }
    Ok(summaries)
}

fn by_id(
    conn: &Connection,
    id: &str,
) -> Result<Option<(HealthCertificateSummary, String)>, StoreError> {
    let found = conn
        .query_row(&format!("{SELECT} WHERE id = ?1"), [id], |row| {
            Ok((summary_of(row), row.get::<_, String>(6)?))
        })
        .optional()?;
    match found {
        None => Ok(None),
        Some((summary, text)) => Ok(Some((summary.map_err(|_| StoreError::Corrupt)?, text))),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::dcc::signer::test_certificate;
    use crate::dcc::tests::{NOW, claims, mint};
    use crate::jose::EcPublicJwk;
    use crate::platform::SoftwareSealer;
    use crate::store::Store;
    use crate::trust_list::RelyingParty;

    /// A trust list with one health signer, or none at all.
    struct Signers(Option<Vec<SignerCertificate>>);

    impl super::super::IssuerTrust for Signers {
        fn issuer_key(&self, _: &str, _: &str, _: i64) -> Result<EcPublicJwk, WalletError> {
            Err(WalletError::NoTrustList)
        }
        fn may_issue(&self, _: &str, _: &str) -> bool {
            false
        }
        fn issuer_name(&self, _: &str) -> Option<String> {
            None
        }
        fn relying_party(&self, _: &str) -> Result<Option<RelyingParty>, WalletError> {
            Ok(None)
        }
        fn health_signer(&self, kid: &[u8]) -> Result<Option<SignerCertificate>, WalletError> {
            let list = self.0.as_ref().ok_or(WalletError::NoTrustList)?;
            Ok(list.iter().find(|c| c.kid() == kid).cloned())
        }
    }

    #[test]
    fn verifies_against_the_trust_lists_signers_only() {
        let text = mint(&claims(), "dsc-ec");
        let trusted = Signers(Some(vec![test_certificate("dsc-ec")]));
        assert!(verify_with(&trusted, &text, NOW).is_ok());
        let other = Signers(Some(vec![test_certificate("dsc-rsa")]));
        assert!(matches!(
            verify_with(&other, &text, NOW),
            Err(WalletError::HealthCertificateRejected(DccError::SignedQr(
                crate::signed_qr::SignedQrError::UnknownKey
            )))
        ));
        assert!(matches!(
            verify_with(&Signers(None), &text, NOW),
            Err(WalletError::NoTrustList)
        ));
    }

    #[tokio::test]
    async fn kept_certificates_are_listed_read_back_and_removed() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path(), Arc::new(SoftwareSealer::in_dir(dir.path())))
            .await
            .unwrap();
        let text = mint(&claims(), "dsc-ec");
        let summary = HealthCertificateSummary {
            id: "first".into(),
            kind: EntryKind::Vaccination,
            issuer_country: Some("VN".into()),
            issued_at: 1,
            expires_at: 2,
            added_at: 3,
        };
        let (kept, again) = {
            let (text, summary) = (text.clone(), summary.clone());
            store
                .write(move |tx| {
                    let kept = insert(tx, &summary, &text)?;
                    let second = HealthCertificateSummary {
                        id: "second".into(),
                        ..summary.clone()
                    };
                    Ok::<_, StoreError>((kept, insert(tx, &second, &text)?))
                })
                .await
                .unwrap()
        };
        assert_eq!(kept, summary);
        // The same text again is the certificate already kept.
        assert_eq!(again, summary);
        let listed = store.read(all).await.unwrap();
        assert_eq!(listed, vec![summary.clone()]);
        let (read, stored_text) = store
            .read(|conn| by_id(conn, "first"))
            .await
            .unwrap()
            .unwrap();
        assert_eq!((read, stored_text), (summary, text));
        assert!(
            store
                .read(|conn| by_id(conn, "none"))
                .await
                .unwrap()
                .is_none()
        );
        let debug = format!("{listed:?}");
        assert!(!debug.contains("HC1:"), "{debug}");
    }
}
