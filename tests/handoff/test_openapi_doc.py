"""The error statuses written into ``/openapi.json``."""

from __future__ import annotations

from fastapi.testclient import TestClient


def test_the_document_lists_the_real_error_statuses(
    app_client: TestClient, admin_headers: dict[str, str]
) -> None:
    assert app_client.get("/openapi.json").status_code == 401
    document = app_client.get("/openapi.json", headers=admin_headers).json()
    paths = document["paths"]
    login = paths["/api/auth/login"]["post"]["responses"]
    assert {"200", "400", "401", "429"} <= set(login) and "422" not in login
    change = paths["/api/agents/{username}"]["patch"]["responses"]
    assert {"200", "400", "401", "403", "404", "409", "413"} <= set(change)
    assert "422" not in change
    assert "409" not in paths["/api/agents"]["get"]["responses"]
    # The Rasa side's intake does answer 422 (with the reasons).
    assert "422" in paths["/api/internal/events"]["post"]["responses"]
    assert "text/csv" in paths["/api/audit"]["get"]["responses"]["200"]["content"]
    assert document["components"]["schemas"]["Error"]["required"] == ["detail"]
    # Asked twice, the document is the same (the additions are idempotent).
    assert app_client.get("/openapi.json", headers=admin_headers).json() == document
