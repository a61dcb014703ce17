#!/usr/bin/env python3
"""The independent side of the SD-JWT interop suite (core/tests/sdjwt_interop.rs): the PyPI
package `sd-jwt` (the reference implementation of the IETF draft, pinned by xtask/src/tools.rs).

Owns: turning one JSON request on stdin into one JSON answer on stdout, using only the package's
public classes (SDJWTIssuer, SDJWTHolder, SDJWTVerifier, SDObj) and jwcrypto keys. Does not own
what is tested or expected: the Rust side builds every request and judges every answer.

Commands (the first argument):
- `version`: {"sd_jwt": "...", "jwcrypto": "..."}.
- `verify`: {"presentation", "issuer_jwk", "aud", "nonce"} -> {"claims": <verified payload>}, or
  {"error": "<exception type>: <text>"} when the package refuses the presentation.
- `issue-and-present`: {"claims", "disclose", "issuer_jwk", "holder_jwk", "aud", "nonce",
  "typ", "decoys"} -> {"issued", "presentation"}. In `claims` an object member named `!sd:NAME`
  is the selectively disclosable claim NAME and an array element `{"!sd": VALUE}` a selectively
  disclosable element; `disclose` is the package's own `claims_to_disclose` structure. Without
  `aud`/`nonce` the presentation has no key binding JWT.
"""

import json
import sys
from importlib import metadata

from jwcrypto.jwk import JWK
from sd_jwt.common import SDObj
from sd_jwt.holder import SDJWTHolder
from sd_jwt.issuer import SDJWTIssuer
from sd_jwt.verifier import SDJWTVerifier

SD_KEY_PREFIX = "!sd:"
SD_ELEMENT = "!sd"


def user_claims(spec):
    """The `!sd` markers of the request as the package's SDObj wrappers."""
    if isinstance(spec, dict):
        if len(spec) == 1 and SD_ELEMENT in spec:
            raise ValueError("a `{\"!sd\": ...}` element is only allowed inside an array")
        out = {}
        for name, value in spec.items():
            key = SDObj(name[len(SD_KEY_PREFIX):]) if name.startswith(SD_KEY_PREFIX) else name
            out[key] = user_claims(value)
        return out
    if isinstance(spec, list):
        out = []
        for element in spec:
            if isinstance(element, dict) and len(element) == 1 and SD_ELEMENT in element:
                out.append(SDObj(user_claims(element[SD_ELEMENT])))
            else:
                out.append(user_claims(element))
        return out
    return spec


def verify(request):
    issuer_key = JWK(**request["issuer_jwk"])
    try:
        verifier = SDJWTVerifier(
            request["presentation"],
            lambda _issuer, _header: issuer_key,
            expected_aud=request.get("aud"),
            expected_nonce=request.get("nonce"),
        )
        return {"claims": verifier.get_verified_payload()}
    except Exception as error:  # the package refuses with assorted exception types
        return {"error": f"{type(error).__name__}: {error}"}


def issue_and_present(request):
    issuer_key = JWK(**request["issuer_jwk"])
    holder_key = JWK(**request["holder_jwk"])
    issuer = SDJWTIssuer(
        user_claims(request["claims"]),
        issuer_key,
        holder_key=holder_key,
        add_decoy_claims=bool(request.get("decoys")),
        extra_header_parameters={"typ": request["typ"]},
    )
    holder = SDJWTHolder(issuer.sd_jwt_issuance)
    holder.create_presentation(
        request["disclose"],
        nonce=request.get("nonce"),
        aud=request.get("aud"),
        holder_key=holder_key,
    )
    return {"issued": issuer.sd_jwt_issuance, "presentation": holder.sd_jwt_presentation}


def main():
    command = sys.argv[1] if len(sys.argv) > 1 else ""
    if command == "version":
        answer = {"sd_jwt": metadata.version("sd-jwt"), "jwcrypto": metadata.version("jwcrypto")}
    elif command == "verify":
        answer = verify(json.load(sys.stdin))
    elif command == "issue-and-present":
        answer = issue_and_present(json.load(sys.stdin))
    else:
        print(f"unknown command {command!r}", file=sys.stderr)
        return 2
    json.dump(answer, sys.stdout, ensure_ascii=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
