"""Password hashing (argon2), signed bearer tokens and session cookies, CSRF tokens."""

from __future__ import annotations

import asyncio
import hmac
import secrets
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from itsdangerous import BadSignature, URLSafeTimedSerializer

_HASHER = PasswordHasher()  # argon2id with the library's current recommended parameters

SESSION_COOKIE = "handoff_session"
CSRF_COOKIE = "handoff_csrf"
CSRF_HEADER = "X-CSRF-Token"


def hash_password(password: str) -> str:
    """An argon2id hash of ``password``."""
    return _HASHER.hash(password)


@cache
def _dummy_hash() -> str:
    # Verifying against this keeps the time of "no such user" close to "wrong password".
    return _HASHER.hash(secrets.token_urlsafe(16))


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when ``password`` matches; spends the same effort when there is no hash."""
    try:
        return _HASHER.verify(password_hash or _dummy_hash(), password) and (
            password_hash is not None
        )
    except (VerificationError, InvalidHashError):
        return False


class HasherBusy(Exception):
    """Every hashing slot is taken: refuse the attempt rather than queue it."""


class PasswordPool:
    """Runs argon2 in a few worker threads, off the event loop.

    argon2 costs tens of milliseconds of CPU and releases the GIL: on the event
    loop a burst of sign-ins froze every other request. At most ``workers`` hashes
    run at once and ``waiting`` more queue; anything beyond is refused at once
    (:class:`HasherBusy`) so a flood cannot build an unbounded backlog.
    """

    def __init__(self, *, workers: int, waiting: int) -> None:
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="argon2")
        self._limit = workers + waiting
        self._busy = 0

    async def verify(self, password_hash: str | None, password: str) -> bool:
        """:func:`verify_password` in the pool.

        Raises:
            HasherBusy: the pool and its queue are full.
        """
        if self._busy >= self._limit:
            raise HasherBusy("too many sign-ins at once")
        self._busy += 1
        try:
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(
                self._executor, verify_password, password_hash, password
            )
        finally:
            self._busy -= 1

    async def hash(self, password: str) -> str:
        """:func:`hash_password` in the pool (admins' actions: queued, never refused)."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, hash_password, password)

    def close(self) -> None:
        """Stops the worker threads."""
        self._executor.shutdown(wait=False, cancel_futures=True)


def same_secret(given: str | None, expected: str) -> bool:
    """Constant-time comparison of a presented secret with the expected one."""
    if not given:
        return False
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


@dataclass(frozen=True)
class Session:
    """What a valid bearer token or session cookie says."""

    username: str
    csrf: str | None
    version: int = 0


class Signer:
    """Issues and checks bearer tokens and session cookies signed with the secret key."""

    def __init__(self, secret_key: str, *, ttl_s: int) -> None:
        self._tokens = URLSafeTimedSerializer(secret_key, salt="handoff.access-token")
        self._sessions = URLSafeTimedSerializer(secret_key, salt="handoff.session")
        self.ttl_s = ttl_s

    def access_token(self, username: str, version: int) -> str:
        """A bearer token for ``username`` at token ``version``, valid for the lifetime."""
        return self._tokens.dumps({"sub": username, "ver": version})

    def session_cookie(self, username: str, version: int) -> tuple[str, str]:
        """A session cookie value and the CSRF token bound to it."""
        csrf = secrets.token_urlsafe(24)
        return self._sessions.dumps({"sub": username, "csrf": csrf, "ver": version}), csrf

    def read_token(self, token: str) -> Session | None:
        """The session of a bearer token, or None when forged or expired."""
        return self._read(self._tokens, token)

    def read_session(self, cookie: str) -> Session | None:
        """The session of a cookie value, or None when forged or expired."""
        return self._read(self._sessions, cookie)

    def _read(self, serializer: URLSafeTimedSerializer, value: str) -> Session | None:
        try:
            data = serializer.loads(value, max_age=self.ttl_s)
        except BadSignature:
            return None
        if not isinstance(data, dict) or not isinstance(data.get("sub"), str):
            return None
        csrf = data.get("csrf")
        version = data.get("ver")
        return Session(
            username=data["sub"],
            csrf=csrf if isinstance(csrf, str) else None,
            version=version if isinstance(version, int) else -1,
        )
