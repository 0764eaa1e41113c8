"""Checking a receipt offline: its EdDSA signature against the gateway's JWKS
(PyJWT), its expiry, and that it covers exactly the action and args about to
run (SHA-256 of their RFC 8785 canonical JSON, by the ``rfc8785`` package).

Both libraries come with the ``receipts`` extra:
``pip install 'assent-client[receipts]'``.
"""

import hashlib
from typing import Any, Mapping, Optional

from ._exceptions import AssentError, InvalidReceipt
from .types import Jwks, ReceiptClaims

_CLAIMS = ["iss", "sub", "act", "args_sha256", "scope", "iat", "exp", "jti"]


def _missing_extra(error: ImportError) -> AssentError:
    return AssentError(f"verifying receipts needs the receipts extra: pip install 'assent-client[receipts]' ({error})")


def args_sha256(args: Optional[Mapping[str, Any]]) -> str:
    """Lower-case hex SHA-256 of the RFC 8785 canonical JSON of ``args``, as
    a receipt's ``args_sha256`` claim holds it."""
    try:
        import rfc8785
    except ImportError as error:
        raise _missing_extra(error) from error
    try:
        canonical = rfc8785.dumps(dict(args or {}))
    except rfc8785.CanonicalizationError as error:
        raise ValueError(f"args: not representable as canonical JSON: {error}") from error
    return hashlib.sha256(canonical).hexdigest()


def key_id(receipt: str) -> Optional[str]:
    """The ``kid`` a receipt names, if it has a readable header."""
    try:
        import jwt
    except ImportError as error:
        raise _missing_extra(error) from error
    try:
        kid = jwt.get_unverified_header(receipt).get("kid")
    except jwt.PyJWTError:
        return None
    return kid if isinstance(kid, str) else None


def verify_receipt(receipt: str, jwks: Jwks, action: str, args: Optional[Mapping[str, Any]] = None) -> ReceiptClaims:
    """Checks, without asking the gateway, that ``receipt`` was signed by a
    key in ``jwks``, has not expired, and covers exactly ``action`` with
    ``args``. Returns its claims; raises ``InvalidReceipt`` saying why not."""
    try:
        import jwt
    except ImportError as error:
        raise _missing_extra(error) from error
    try:
        header = jwt.get_unverified_header(receipt)
    except jwt.PyJWTError as error:
        raise InvalidReceipt(f"malformed receipt: {error}") from error
    algorithm = header.get("alg")
    if algorithm != "EdDSA":
        raise InvalidReceipt(f"unsupported algorithm {algorithm!r} (only EdDSA)")
    kid = header.get("kid")
    jwk = next((key for key in jwks["keys"] if key.get("kid") == kid), None)
    if jwk is None:
        raise InvalidReceipt(f"unknown key id {kid!r}")
    try:
        key = jwt.PyJWK(dict(jwk), algorithm="EdDSA")
        claims = jwt.decode(
            receipt,
            key,
            algorithms=["EdDSA"],
            options={"require": _CLAIMS, "verify_iat": False},
        )
    except jwt.ExpiredSignatureError as error:
        raise InvalidReceipt("expired") from error
    except jwt.InvalidSignatureError as error:
        raise InvalidReceipt("bad signature") from error
    except jwt.PyJWTError as error:
        raise InvalidReceipt(f"malformed receipt: {error}") from error
    if claims["act"] != action:
        raise InvalidReceipt("the receipt is for another action")
    if claims["args_sha256"] != args_sha256(args):
        raise InvalidReceipt("the receipt is for other args")
    return ReceiptClaims(
        iss=claims["iss"],
        sub=claims["sub"],
        act=claims["act"],
        args_sha256=claims["args_sha256"],
        scope=claims["scope"],
        iat=claims["iat"],
        exp=claims["exp"],
        jti=claims["jti"],
    )
