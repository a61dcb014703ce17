//! Identity QR timings and size, summarised by `cargo xtask bench` into `target/bench-report.json`.
//!
//! - `identity/present`: build the presentation of 4 claims of a PID (as the sandbox issues it:
//!   ten disclosable claims, `cnf`, status) with its KB-JWT signed in software, and pack it as
//!   `ID1:` text (`identity.present_ms`). The PIN check (Argon2id, deliberately slow) is not part
//!   of it: it guards the presentation, it is not the presentation.
//! - `identity/verify`: verify that text offline as an officer's app does: unpack, issuer
//!   signature by the trust list's key, disclosures, KB-JWT, freshness, type, status from a cached
//!   answer (`identity.verify_ms`).
//! - the text's length is written to `$CITIZEN_BENCH_FIGURES/identity.qr_chars.json`
//!   (`identity.qr_chars`).

use std::hint::black_box;

use citizen_core::credential_status::{CredentialStatus, StatusAnswer};
use citizen_core::id1;
use citizen_core::jose::{EcPublicJwk, SoftwareSigner};
use citizen_core::openid4vci::{PID_VCT, pid_claims};
use citizen_core::sdjwt::{self, ClaimPath, IssueOptions, KeyBindingParams, Limits, SdJwt};
use citizen_core::verifier::{IdentityQrOptions, verify_identity_qr};
use citizen_core::wallet::{IssuerTrust, WalletError};
use criterion::{Criterion, criterion_group, criterion_main};
use serde_json::json;

const ISSUER: &str = "https://portal.example.gov.vn/";
const KID: &str = "AeAQn1oTjoS";
const NOW: i64 = 1_795_650_000;
const PRESENTED: [&str; 4] = [
    pid_claims::FULL_NAME,
    pid_claims::BIRTH_DATE,
    pid_claims::ID_NUMBER,
    pid_claims::AGE_OVER_18,
];

struct FixedTrust(EcPublicJwk);

impl IssuerTrust for FixedTrust {
    fn issuer_key(&self, iss: &str, kid: &str, _: i64) -> Result<EcPublicJwk, WalletError> {
        if iss == ISSUER && kid == KID {
            Ok(self.0.clone())
        } else {
            Err(WalletError::NoTrustList)
        }
    }
    fn may_issue(&self, iss: &str, vct: &str) -> bool {
        iss == ISSUER && vct == PID_VCT
    }
    fn issuer_name(&self, _: &str) -> Option<String> {
        Some("Bench issuer".into())
    }
    fn relying_party(
        &self,
        _: &str,
    ) -> Result<Option<citizen_core::trust_list::RelyingParty>, WalletError> {
        Ok(None)
    }
}

/// A PID shaped like the sandbox issuer's, and the keys around it.
fn pid() -> (String, SoftwareSigner, SoftwareSigner) {
    let issuer = SoftwareSigner::generate().unwrap();
    let holder = SoftwareSigner::generate().unwrap();
    let payload = json!({
        "iss": ISSUER, "iat": NOW - 86_400, "exp": NOW + 365 * 86_400, "vct": PID_VCT,
        "status": {"status_list": {"idx": 40_928, "uri": format!("{ISSUER}v1/status-lists/1")}},
        "full_name": "Nguyễn Văn An", "birth_date": "1990-05-17", "sex": "male",
        "nationality": "VN", "id_number": "001090012345",
        "place_of_origin": "Xã Tam Hiệp, Huyện Thanh Trì, Hà Nội",
        "place_of_residence": "Phường Bến Nghé, Quận 1, Thành phố Hồ Chí Minh",
        "issue_date": "2025-11-25", "expiry_date": "2026-11-25", "age_over_18": true,
    });
    let issued = sdjwt::issue(
        payload.as_object().unwrap(),
        &IssueOptions {
            disclosable: pid_claims::ALL
                .iter()
                .map(|c| ClaimPath::claim(c))
                .collect(),
            holder_key: Some(holder.public_key().clone()),
            typ: Some(sdjwt::SD_JWT_VC_TYP.into()),
            kid: Some(KID.into()),
            decoys_per_container: 0,
        },
        &issuer,
    )
    .unwrap();
    (issued.sd_jwt, issuer, holder)
}

fn present(stored: &str, holder: &SoftwareSigner, nonce: &str) -> String {
    let parsed = SdJwt::parse(stored, &Limits::default()).unwrap();
    let paths: Vec<ClaimPath> = PRESENTED.iter().map(|c| ClaimPath::claim(c)).collect();
    let presentation = parsed
        .present(
            &paths,
            Some(&KeyBindingParams {
                audience: id1::IN_PERSON_AUDIENCE,
                nonce,
                issued_at: NOW,
                signer: holder,
            }),
        )
        .unwrap();
    id1::pack(&presentation).unwrap()
}

fn bench_identity(c: &mut Criterion) {
    let (stored, issuer, holder) = pid();
    let trust = FixedTrust(issuer.public_key().clone());
    let text = present(&stored, &holder, "n0nce-96-bits-xx");
    let valid = |_: &citizen_core::verifier::StatusReference<'_>| {
        Ok(StatusAnswer {
            status: CredentialStatus::Valid,
            checked_at: Some(NOW),
            stale: false,
        })
    };
    let options = IdentityQrOptions::new(NOW + 5);
    let verified = verify_identity_qr(&text, &trust, &valid, &options).unwrap();
    assert_eq!(verified.claims.len(), PRESENTED.len());

    if let Some(dir) = std::env::var_os("CITIZEN_BENCH_FIGURES") {
        std::fs::create_dir_all(&dir).unwrap();
        let figure = json!({ "value": text.len(), "claims": PRESENTED.len() });
        std::fs::write(
            std::path::Path::new(&dir).join("identity.qr_chars.json"),
            figure.to_string(),
        )
        .unwrap();
    }

    let mut group = c.benchmark_group("identity");
    group.bench_function("present", |b| {
        b.iter(|| black_box(present(black_box(&stored), &holder, "n0nce-96-bits-xx")))
    });
    group.bench_function("verify", |b| {
        b.iter(|| {
            black_box(verify_identity_qr(black_box(&text), &trust, &valid, &options).unwrap())
        })
    });
    group.finish();
}

criterion_group!(benches, bench_identity);
criterion_main!(benches);
