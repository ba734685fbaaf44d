"""The running Rasa server's HTTP API, as far as retraining needs it.

``PUT /model`` loads a model file into the running server; Rasa builds the
new agent first and swaps it in afterwards, and every channel reaches the
agent through the app at request time, so messages are not dropped during
the swap (bench/retrain.py measures it). With ``RASA_AUTH_TOKEN`` set the
token is sent as ``?token=``, as Rasa expects.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from bot.errors import RasaServerError
from bot.settings import Settings

# Loading a model takes seconds with the linear classifier, longer on a busy machine.
LOAD_TIMEOUT_S = 300.0


@dataclass(frozen=True)
class RasaServer:
    """Where the server is and how to authenticate."""

    url: str
    token: str | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> RasaServer:
        """``RASA_URL`` (or the local ``RASA_PORT``) and ``RASA_AUTH_TOKEN``."""
        return cls(settings.rasa_url, settings.rasa_auth_token)

    def _params(self) -> dict[str, str]:
        return {"token": self.token} if self.token else {}

    def status(self, *, timeout_s: float = 10) -> dict[str, Any] | None:
        """``GET /status`` (model file and id), or None when nobody answers.

        Raises:
            RasaServerError: The server answered with an error (e.g. a wrong token).
        """
        try:
            response = httpx.get(f"{self.url}/status", params=self._params(), timeout=timeout_s)
        except httpx.TransportError:
            return None
        if response.status_code != 200:
            raise RasaServerError(f"GET /status: {response.status_code} {response.text[:300]}")
        body: dict[str, Any] = response.json()
        return body

    def load_model(self, model: Path, *, timeout_s: float = LOAD_TIMEOUT_S) -> None:
        """``PUT /model``: the server serves ``model`` once this returns.

        Raises:
            RasaServerError: The server is unreachable or refused the model.
        """
        try:
            response = httpx.put(
                f"{self.url}/model",
                params=self._params(),
                json={"model_file": str(model.resolve())},
                timeout=timeout_s,
            )
        except httpx.HTTPError as error:
            raise RasaServerError(f"PUT /model at {self.url}: {error}") from error
        if response.status_code != 204:
            raise RasaServerError(f"PUT /model: {response.status_code} {response.text[:500]}")
