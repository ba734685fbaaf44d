"""The Official Account's settings, checked before anything starts."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from connectors.wechat.client import DEFAULT_API_BASE_URL
from connectors.wechat.errors import WeChatConfigError

_TOKEN = re.compile(r"[A-Za-z0-9]{3,32}")  # WeChat's rule for the Token
_AES_KEY = re.compile(r"[A-Za-z0-9]{43}")  # and for the EncodingAESKey


@dataclass(frozen=True)
class WeChatConfig:
    """The Official Account's settings, checked before anything starts.

    Attributes:
        token: The Token set in the WeChat admin console (3-32 letters/digits).
        app_id: The AppID.
        app_secret: The AppSecret.
        aes_key: The EncodingAESKey (43 letters/digits) for safe mode, or None.
        api_base_url: WeChat's API, or a proxy in front of it.
    """

    token: str
    app_id: str
    app_secret: str
    aes_key: str | None = None
    api_base_url: str = DEFAULT_API_BASE_URL

    def __post_init__(self) -> None:
        problems = []
        if not _TOKEN.fullmatch(self.token or ""):
            problems.append("WECHAT_TOKEN must be 3-32 letters or digits")
        if not (self.app_id or "").strip() or any(c.isspace() for c in self.app_id):
            problems.append("WECHAT_APP_ID is missing")
        if not (self.app_secret or "").strip():
            problems.append("WECHAT_APP_SECRET is missing")
        if self.aes_key is not None and not _AES_KEY.fullmatch(self.aes_key):
            problems.append("WECHAT_AES_KEY must be 43 letters or digits")
        url = urlsplit(self.api_base_url or "")
        if url.scheme not in ("http", "https") or not url.netloc:
            problems.append("WECHAT_API_BASE_URL must be an http(s) URL")
        if problems:
            raise WeChatConfigError("; ".join(problems))

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] = os.environ) -> WeChatConfig:
        """Reads the ``WECHAT_*`` settings (for processes outside Rasa, e.g. handoff)."""
        return cls(
            token=environ.get("WECHAT_TOKEN", ""),
            app_id=environ.get("WECHAT_APP_ID", ""),
            app_secret=environ.get("WECHAT_APP_SECRET", ""),
            aes_key=environ.get("WECHAT_AES_KEY") or None,
            api_base_url=environ.get("WECHAT_API_BASE_URL") or DEFAULT_API_BASE_URL,
        )
