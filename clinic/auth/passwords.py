"""argon2id password hashing with parameters from the app config."""

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app


def _hasher() -> PasswordHasher:
    cfg = current_app.config
    return PasswordHasher(
        time_cost=cfg["ARGON2_TIME_COST"],
        memory_cost=cfg["ARGON2_MEMORY_COST"],
        parallelism=cfg["ARGON2_PARALLELISM"],
    )


def hash_password(password: str) -> str:
    """Return an argon2id hash of `password`."""
    return _hasher().hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Return whether `password` matches; with no hash, still spend the time of a check."""
    hasher = _hasher()
    if password_hash is None:
        # Same cost as a real check, so response time does not reveal unknown user names.
        hasher.hash(password)
        return False
    try:
        return hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
