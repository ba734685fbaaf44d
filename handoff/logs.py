"""Logging of the running service: secrets never reach the access log."""

from __future__ import annotations

import logging
import re

# ``?token=…`` (the WebSocket's bearer token for scripts) and any ``…token=`` or
# ``ticket=`` parameter: the value is a credential, the name alone is enough.
_SECRET_PARAMETER = re.compile(r"((?:^|[?&;])[\w.-]*(?:token|ticket|password)=)[^&\s\"']*", re.I)


def redact(text: str) -> str:
    """``text`` with the values of credential-carrying query parameters replaced."""
    return _SECRET_PARAMETER.sub(r"\1[redacted]", text)


class RedactSecrets(logging.Filter):
    """Rewrites a record's message arguments (uvicorn passes the path as one)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        elif isinstance(record.msg, str):
            record.msg = redact(record.msg)
        return True


def install_redaction(*names: str) -> None:
    """Adds :class:`RedactSecrets` to the named loggers (uvicorn's by default)."""
    for name in names or ("uvicorn.access", "uvicorn.error"):
        logging.getLogger(name).addFilter(RedactSecrets())
