"""What a user name and a password must be (NIST SP 800-63B): length and a blocklist, no composition rules.

`common-passwords.txt.gz` beside this module is Django 5.2's list of 20,000 common passwords
(19,640 after lower-casing and removing duplicates), made by Royce Williams from breach corpora
(gist.github.com/roycewilliams/226886fd01572964e1431ac8afc999ce), BSD-licensed with Django. It is
read from the package, never fetched: hospital intranets are closed.
"""

from __future__ import annotations

import gzip
import re
from functools import cache
from pathlib import Path

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 256
USERNAME_PATTERN = re.compile(r"[a-z0-9._-]{2,64}")
USERNAME_RULE = "Use 2 to 64 lower-case letters, digits, dots, hyphens and underscores."
COMMON_PASSWORDS_FILE = Path(__file__).with_name("common-passwords.txt.gz")


@cache
def common_passwords() -> frozenset[str]:
    """Return the blocklist, lower-cased (read from disk once per process)."""
    with gzip.open(COMMON_PASSWORDS_FILE, "rt", encoding="utf-8") as handle:
        return frozenset(line.strip().lower() for line in handle if line.strip())


def username_problem(name: str) -> str | None:
    """Return why a normalised user name is refused, or None if it is fine."""
    if USERNAME_PATTERN.fullmatch(name) is None:
        return USERNAME_RULE
    return None


def _repetitive(password: str) -> bool:
    """Return whether the password is a short unit repeated ("aaaa…", "abcabc…")."""
    return any(
        len(password) % size == 0 and password == password[:size] * (len(password) // size)
        for size in range(1, 4)
    )


#: Runs people type as "sequences": digits (wrapping round), the alphabet and keyboard rows.
_SEQUENCES = ("0123456789", "abcdefghijklmnopqrstuvwxyz", "qwertyuiop", "asdfghjkl", "zxcvbnm")


def _sequential(password: str) -> bool:
    """Return whether the password is a run along a sequence, forwards or backwards ("1234…", "zyx…")."""
    for sequence in _SEQUENCES:
        # Repeated so that a run may wrap round ("7890123…") and reach any length.
        long_run = sequence * (len(password) // len(sequence) + 2)
        if password in long_run or password in long_run[::-1]:
            return True
    return False


def password_problem(password: str, *, username: str | None = None) -> str | None:
    """Return why a new password is refused, or None if it is acceptable."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"Use at least {MIN_PASSWORD_LENGTH} characters (a few words make a good password)."
    if len(password) > MAX_PASSWORD_LENGTH:
        return f"Use at most {MAX_PASSWORD_LENGTH} characters."
    folded = password.lower()
    if folded.strip() in common_passwords() or _repetitive(folded) or _sequential(folded):
        return (
            "This password is too easy to guess: it is a common or breached password, or a "
            "simple pattern. Choose another, such as a few unrelated words."
        )
    if username and username.lower() in folded:
        return "The password must not contain the user name."
    return None
