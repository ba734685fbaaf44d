"""Schemathesis over ``/openapi.json`` with an admin token: no 500, statuses as documented.

Bounded for ``make test``: 20 examples per operation, one worker, a fixed seed.
Left out: sign-out and the own password change (they end the admin's token that
every other request uses), and the WebSocket (not in the document). The Rasa
side's ``/api/internal/*`` routes are run again with the service token.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from handoff.api.app import create_app
from handoff.settings import Settings
from tests.handoff.helpers import ADMIN, SERVICE_TOKEN, handoff_body, service_headers, serving

pytestmark = pytest.mark.timeout(600)
SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")
EXCLUDED = r"^/api/(auth/logout|me/password|internal/.*)$"
INTERNAL = r"^/api/internal/"
# Random ids meet only 404s: one pass more on a conversation that exists.
ONE_CONVERSATION = r"^/api/(conversations|customers)/\{[a-z_]+\}"
REAL_ID = "telegram:900"


def _schemathesis(
    base: str, document: Path, token: str, *selection: str, config: Path | None = None
) -> None:
    run = subprocess.run(
        [
            str(SCHEMATHESIS),
            *(["--config-file", str(config)] if config else []),
            "run",
            str(document),
            "--url",
            base,
            "--header",
            f"Authorization: Bearer {token}",
            "--max-examples",
            "20",
            "--workers",
            "1",
            "--seed",
            "16",
            "--phases",
            "examples,coverage,fuzzing",
            "--checks",
            "not_a_server_error,status_code_conformance,content_type_conformance",
            *selection,
            "--no-color",
            "--report-dir",
            str(document.parent / "report"),
        ],
        capture_output=True,
        text=True,
        cwd=document.parent,  # its cache (.schemathesis/) stays out of the worktree
        timeout=540,
        check=False,
    )
    assert run.returncode == 0, run.stdout[-20000:] + run.stderr[-4000:]


@pytest.mark.parametrize("storage", ["postgres+redis"], indirect=True)
def test_no_server_errors_and_documented_statuses(settings: Settings, tmp_path: Path) -> None:
    with serving(create_app(settings)) as host:
        base = f"http://{host}"
        token = httpx.post(
            f"{base}/api/auth/token", json={"username": ADMIN[0], "password": ADMIN[1]}
        ).json()["access_token"]
        # Read once with the admin's token (the document is for signed-in callers).
        document = tmp_path / "openapi.json"
        answer = httpx.get(f"{base}/openapi.json", headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code == 200, answer.text
        document.write_text(answer.text, encoding="utf-8")
        _schemathesis(base, document, token, "--exclude-path-regex", EXCLUDED)
        _schemathesis(base, document, SERVICE_TOKEN, "--include-path-regex", INTERNAL)
        httpx.post(
            f"{base}/api/internal/handoffs", headers=service_headers(), json=handoff_body(REAL_ID)
        ).raise_for_status()
        config = tmp_path / "schemathesis.toml"
        config.write_text(
            f'[parameters]\n"path.cid" = "{REAL_ID}"\n"path.conversation_id" = "{REAL_ID}"\n',
            encoding="utf-8",
        )
        _schemathesis(
            base, document, token, "--include-path-regex", ONE_CONVERSATION, config=config
        )
        # The pass did reach the conversation: its views and reveals are access records.
        reached = httpx.get(
            f"{base}/api/audit",
            params={"conversation": REAL_ID},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert reached.status_code == 200 and reached.json()["total"] > 0, reached.text
