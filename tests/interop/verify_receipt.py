"""Verifies an Assent receipt with PyJWT against the gateway's JWKS, as an
agent about to act would: signature (EdDSA), expiry, then that the receipt
covers exactly this action and these args.

usage: verify_receipt.py JWKS_URL RECEIPT ACTION ARGS_JSON
prints `VALID <claims JSON>` (exit 0) or `INVALID <reason>` (exit 1).
"""

import hashlib
import json
import sys

import jwt


def canonical(value):
    """RFC 8785 for the JSON these tests send (strings, integers, objects)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def main():
    jwks_url, receipt, action, args_json = sys.argv[1:5]
    args = json.loads(args_json)
    try:
        key = jwt.PyJWKClient(jwks_url).get_signing_key_from_jwt(receipt)
        claims = jwt.decode(
            receipt,
            key.key,
            algorithms=["EdDSA"],
            options={"require": ["iss", "sub", "iat", "exp", "jti"]},
        )
    except jwt.PyJWTError as e:
        print(f"INVALID {type(e).__name__}: {e}")
        return 1
    if claims["act"] != action:
        print("INVALID act")
        return 1
    if claims["args_sha256"] != hashlib.sha256(canonical(args).encode()).hexdigest():
        print("INVALID args_sha256")
        return 1
    print("VALID " + json.dumps(claims))
    return 0


if __name__ == "__main__":
    sys.exit(main())
