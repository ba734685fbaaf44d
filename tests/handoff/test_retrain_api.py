"""``/api/retrain``: the admins' button, passed on to the Rasa side with the service token."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from handoff.api.app import create_app
from handoff.settings import Settings
from tests.handoff.fake_rasa import FakeRasa
from tests.handoff.helpers import ADMIN, SERVICE_TOKEN, bearer


def test_an_admin_starts_a_retrain_and_follows_it(
    app_client: TestClient, admin_headers: dict[str, str], fake_rasa: tuple[FakeRasa, str]
) -> None:
    fake, _ = fake_rasa
    assert app_client.get("/api/retrain", headers=admin_headers).status_code == 404

    started = app_client.post("/api/retrain", headers=admin_headers)

    assert started.status_code == 202, started.text
    assert started.json()["state"] == "running"
    sent = [r for r in fake.requests if r.path == "/webhooks/retrain/jobs"]
    assert [r.body for r in sent] == [{"requested_by": ADMIN[0]}]
    assert sent[0].headers["authorization"] == f"Bearer {SERVICE_TOKEN}"
    again = app_client.post("/api/retrain", headers=admin_headers)
    assert again.status_code == 409
    stages = [app_client.get("/api/retrain", headers=admin_headers).json() for _ in range(6)]
    assert [job["stage"] for job in stages[:5]] == list(stages[0]["stages"])
    assert stages[-1]["state"] == "promoted"


def test_only_admins_may_retrain(
    app_client: TestClient,
    make_agent: Callable[..., dict[str, str]],
    fake_rasa: tuple[FakeRasa, str],
) -> None:
    for role in ("agent", "trainer"):
        headers = make_agent(f"{role}-x", role=role)
        assert app_client.post("/api/retrain", headers=headers).status_code == 403
        assert app_client.get("/api/retrain", headers=headers).status_code == 403
    assert app_client.post("/api/retrain").status_code == 401
    assert not [r for r in fake_rasa[0].requests if "retrain" in r.path]


def test_a_rasa_side_that_refuses_or_is_down_is_a_bad_gateway(
    make_settings: Callable[..., Settings],
) -> None:
    for settings in (
        make_settings(handoff_service_token="s" * 40),  # the Rasa side answers 403
        make_settings(rasa_url="http://127.0.0.1:9"),  # nobody listens
    ):
        with TestClient(create_app(settings)) as client:
            headers = bearer(client, *ADMIN)
            assert client.post("/api/retrain", headers=headers).status_code == 502
            assert client.get("/api/retrain", headers=headers).status_code == 502
