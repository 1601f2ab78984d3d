"""Password hashing with the standard library's scrypt (no extra dependency), the password policy and
the user name rules."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import unicodedata

from app.auth.common_passwords import COMMON_PASSWORDS
from app.errors import DomainError

_N, _R, _P = 2**14, 8, 1

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 256
# A user name this long or longer may not appear inside the password (shorter ones, like "al", would
# refuse half the dictionary).
NAME_IN_PASSWORD_MIN = 3
USERNAME_RE = re.compile(r"[A-Za-z0-9._-]{1,64}")


class PasswordRefused(DomainError):
    status = 422


class UsernameRefused(DomainError):
    status = 422


def _encode(password: str) -> bytes:
    # "surrogatepass": a lone surrogate (valid JSON, not valid UTF-8) is a wrong password, not a 500.
    return password.encode("utf-8", "surrogatepass")


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(_encode(password), salt=salt, n=_N, r=_R, p=_P, dklen=32)
    return f"scrypt${_N}${_R}${_P}${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt_b64, digest_b64 = stored.split("$")
    except ValueError:
        return False
    if scheme != "scrypt":
        return False
    digest = hashlib.scrypt(
        _encode(password), salt=base64.b64decode(salt_b64), n=int(n), r=int(r), p=int(p), dklen=32
    )
    return hmac.compare_digest(digest, base64.b64decode(digest_b64))


def check_username(username: str) -> None:
    """1-64 characters of A-Z, a-z, 0-9, dot, underscore and hyphen."""
    if not USERNAME_RE.fullmatch(username):
        raise UsernameRefused("a user name is 1 to 64 characters: letters A-Z, digits, '.', '_' or '-'")


def check_password(password: str, *, username: str) -> None:
    """The password policy: at least MIN_PASSWORD_LENGTH characters (at most MAX_PASSWORD_LENGTH), not
    only whitespace, no control characters, not the user name nor containing it (names of 3+ characters,
    any case), not one of the most common passwords. Raises PasswordRefused saying which rule failed."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise PasswordRefused(f"the password must be at least {MIN_PASSWORD_LENGTH} characters")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise PasswordRefused(f"the password must be at most {MAX_PASSWORD_LENGTH} characters")
    if not password.strip():
        raise PasswordRefused("the password must not be only spaces")
    if any(unicodedata.category(ch) in ("Cc", "Cs") for ch in password):
        raise PasswordRefused("the password must not contain control characters")
    lowered, name = password.lower(), username.lower()
    if lowered == name or (len(name) >= NAME_IN_PASSWORD_MIN and name in lowered):
        raise PasswordRefused("the password must not contain the user name")
    if lowered in COMMON_PASSWORDS or lowered.strip() in COMMON_PASSWORDS:
        raise PasswordRefused("that password is one of the most common ones; choose another")
