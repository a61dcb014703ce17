//! OpenID4VP requests come from any website or QR code: the link, the request object behind it,
//! its DCQL query and (for the sandbox relying party) the response body must each give a value
//! or a typed error for every input, never a panic. A request object that verifies must sign and
//! verify back to itself, and a DCQL match must only name claims the held credential has.
//!
//! An input that starts with `{` is a request object's payload: it is signed with the fuzzing
//! relying party's key first, so the fuzzer reaches the member checks behind the signature, and
//! it is also read as a DCQL query. Anything else is a link, a compact JWS and a form body.
#![no_main]

use citizen_core::dcql::{self, DcqlQuery, FORMAT_SD_JWT_VC, HeldCredential};
use citizen_core::jose::{SoftwareSigner, sign_compact};
use citizen_core::openid4vp::{
    AuthorizationLink, DirectPost, REQUEST_OBJECT_TYP, RequestCheck, RequestObject,
};
use citizen_core::trust_list::{RelyingParty, TrustedKey};
use libfuzzer_sys::fuzz_target;
use serde_json::{Map, Value, json};

const NOW: i64 = 1_800_000_000;
const LINK: &str = "openid4vp://?client_id=rp.example&request_uri=https%3A%2F%2Frp.example%2Fr%2F1";

fuzz_target!(|data: &[u8]| {
    let signer = SoftwareSigner::from_scalar(&[9u8; 32]).expect("a valid scalar");
    let rp = RelyingParty {
        client_id: "rp.example".into(),
        display_name: "Fuzz RP".into(),
        allowed_claims: [
            "full_name",
            "birth_date",
            "age_over_18",
            "place_of_residence",
        ]
        .map(String::from)
        .to_vec(),
        keys: vec![TrustedKey {
            kid: "rp-1".into(),
            jwk: signer.public_key().clone(),
            not_before: None,
            not_after: None,
        }],
        response_uri_hosts: vec!["rp.example".into()],
        purpose: None,
    };
    let mut link = AuthorizationLink::parse(LINK).expect("the fixed link parses");
    let verified = if data.first() == Some(&b'{') {
        match_pid(data);
        let mut header = Map::new();
        header.insert("typ".into(), json!(REQUEST_OBJECT_TYP));
        let jws = sign_compact(&header, data, &signer).expect("the software signer signs");
        verify(&jws, &link, &rp)
    } else {
        let _ = DirectPost::from_form(data);
        let Ok(text) = std::str::from_utf8(data) else {
            return;
        };
        if let Ok(parsed) = AuthorizationLink::parse(text) {
            assert_eq!(
                AuthorizationLink::parse(&parsed.to_uri()).as_ref(),
                Ok(&parsed)
            );
            link.request_uri = parsed.request_uri;
        }
        verify(text, &link, &rp)
    };
    if let Ok(request) = verified {
        let again = request
            .sign(&signer, "rp-1")
            .expect("a verified request signs");
        assert_eq!(verify(&again, &link, &rp).as_ref(), Ok(&request));
    }
});

fn verify(
    compact: &str,
    link: &AuthorizationLink,
    rp: &RelyingParty,
) -> Result<RequestObject, citizen_core::openid4vp::Openid4vpError> {
    let check = RequestCheck {
        link,
        relying_party: rp,
        wallet_aud: None,
        now: NOW,
        skew: 60,
        wallet_nonce: None,
    };
    RequestObject::verify(compact, &check)
}

/// Parses `data` as a DCQL query (and as a request object holding one) and matches it against
/// a PID.
fn match_pid(data: &[u8]) {
    let query = match DcqlQuery::from_json(data) {
        Ok(query) => query,
        Err(_) => match serde_json::from_slice::<Value>(data)
            .ok()
            .and_then(|v| v.get("dcql_query").cloned())
            .map(|q| DcqlQuery::from_value(&q))
        {
            Some(Ok(query)) => query,
            _ => return,
        },
    };
    let Value::Object(claims) = json!({
        "full_name": "Nguyễn Văn An", "birth_date": "1990-01-02", "age_over_18": true,
        "place_of_residence": {"locality": "Hà Nội", "lines": ["1 Tràng Tiền", "Hoàn Kiếm"]},
        "nationalities": ["VN"],
    }) else {
        return;
    };
    let held = [HeldCredential {
        format: FORMAT_SD_JWT_VC,
        vct: "urn:eudi:pid:vn:1",
        claims: &claims,
    }];
    if let Ok(answer) = query.match_credentials(&held) {
        for found in &answer.credentials {
            assert_eq!(found.credential_index, 0);
            for claim in &found.claims {
                assert!(!dcql::select(&claim.path, &claims).is_empty());
            }
        }
    }
}
