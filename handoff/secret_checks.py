"""What a production secret must be, and the development secrets made on first use.

A production secret is refused when it is a known placeholder, too short, or
looks hand-made (a repeated block, too few distinct symbols or bits); in
development each secret is a random file under ``var/secrets/`` (mode 600).
"""

from __future__ import annotations

import math
import os
import secrets
from collections import Counter
from pathlib import Path

from pydantic import SecretStr

PLACEHOLDER_SECRETS = frozenset(
    {
        "changeme",
        "change-me",
        "change_me",
        "changethis",
        "secret",
        "password",
        "placeholder",
        "xxx",
        "todo",
        "test",
        "dev",
        "default",
    }
)
MIN_SECRET_KEY_LENGTH = 32
MIN_SERVICE_TOKEN_LENGTH = 16
# Production secrets must look generated: enough distinct symbols and bits.
MIN_SECRET_SYMBOLS = 10
MIN_SECRET_BITS = 64.0


def is_placeholder(value: str, min_length: int) -> bool:
    lowered = value.strip().lower()
    return lowered in PLACEHOLDER_SECRETS or "changeme" in lowered or len(lowered) < min_length


def estimated_bits(value: str) -> float:
    """Shannon entropy of ``value``'s characters times its length: a rough upper bound.

    Low for repeats (``'a' * 32`` → 0, ``'k3y-' * 10`` → 80 from only 4 symbols) and
    high for generated tokens (``secrets.token_urlsafe(32)`` → about 200).
    """
    if not value:
        return 0.0
    counts = Counter(value)
    return -sum(n * math.log2(n / len(value)) for n in counts.values())


def is_low_entropy(value: str) -> bool:
    # A string found inside itself doubled (minus the ends) repeats a shorter block.
    periodic = value in (value + value)[1:-1]
    return (
        periodic or len(set(value)) < MIN_SECRET_SYMBOLS or estimated_bits(value) < MIN_SECRET_BITS
    )


def dev_secret(directory: Path, name: str) -> SecretStr:
    """Reads, or creates with mode 600, a development secret file."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return SecretStr(path.read_text(encoding="utf-8").strip())
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(secrets.token_urlsafe(32))
    return SecretStr(path.read_text(encoding="utf-8").strip())
