"""What can be checked here of the container and cluster files (no container runtime, no cluster).

deploy/kubernetes/ parses as Kubernetes objects, names only what it defines
(ConfigMap, Secret, volume, Services) and the two images the Containerfile
builds; every setting the README's tables list reaches the pods (or is named
below as one that does not apply to a cluster, with why); and every probe,
and every health check of the HAProxy template, asks a route the server
really has (read from the real Rasa, rasa-sdk and handoff apps).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from sanic import Sanic

from bot.settings import PROJECT_ROOT

KUBERNETES = PROJECT_ROOT / "deploy" / "kubernetes"
# README settings that do not apply to a cluster, and why.
NOT_IN_A_CLUSTER = {
    "PYTHON310": "the interpreter `make install` builds .venv with; the image has its own",
    "DEMO_SHOP_PORT": "the demo shop stands in for a real shop; a cluster uses SHOP_API_URL",
    "DEMO_SHOP_DATABASE_URL": "the demo shop is not deployed",
    "BOT_VAR_DIR": "set in the image (Containerfile)",
    "FRONT_DOOR_PORT": "make run-scaled's HAProxy; the Ingress is a cluster's front door",
    "FRONT_DOOR_HOST": "make run-scaled's HAProxy",
    "HAPROXY_STATS_PORT": "make run-scaled's HAProxy",
    "REPLICA_PORT_BASE": "make run-scaled's ports; each pod has its own address",
    "REPLICAS": "the make variable; a Deployment's replicas in a cluster",
    "BOT_REPLICA_NAME": "set per pod from its name (rasa.yaml's fieldRef)",
}
# Settings whose routes the probes and HAProxy's checks ask, per server.
PROBED_PORTS = {5005: "rasa", 5055: "actions", 8000: "handoff"}


def _documents() -> list[dict[str, Any]]:
    documents = []
    for path in sorted(KUBERNETES.glob("*.yaml")):
        documents += [d for d in yaml.safe_load_all(path.read_text("utf-8")) if d]
    return documents


def _objects() -> list[dict[str, Any]]:
    return [d for d in _documents() if d.get("kind") != "Kustomization"]


def _containers(obj: dict[str, Any]) -> list[dict[str, Any]]:
    spec = obj["spec"]["template"]["spec"]
    return list(spec.get("initContainers", [])) + list(spec["containers"])


def _readme_settings() -> set[str]:
    names: set[str] = set()
    for line in (PROJECT_ROOT / "README.md").read_text("utf-8").splitlines():
        if not line.startswith("| "):
            continue
        cells = line.split("|")
        first = cells[1] if len(cells) > 1 else ""
        names |= set(re.findall(r"`([A-Z][A-Z0-9]*_[A-Z0-9_]+|PYTHON310|REPLICAS)`", first))
        if "/webhooks/" in line:  # the channels' table lists settings in its third column
            names |= set(re.findall(r"`([A-Z][A-Z0-9]*_[A-Z0-9_]+)`", cells[3]))
    return names


def test_every_file_is_a_kubernetes_object_and_kustomize_lists_them_all() -> None:
    objects = _objects()
    for obj in objects:
        assert {"apiVersion", "kind", "metadata"} <= obj.keys(), obj
        assert re.fullmatch(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?", obj["metadata"]["name"])
    [kustomization] = [d for d in _documents() if d.get("kind") == "Kustomization"]
    listed = set(kustomization["resources"])
    assert listed == {p.name for p in KUBERNETES.glob("*.yaml")} - {"kustomization.yaml"}
    kinds = sorted((o["kind"], o["metadata"]["name"]) for o in objects)
    for expected in [("Deployment", name) for name in ("actions", "handoff", "rasa")]:
        assert expected in kinds


def test_references_point_at_what_is_defined_and_images_the_containerfile_builds() -> None:
    objects = _objects()
    defined = {(o["kind"], o["metadata"]["name"]) for o in objects}
    targets = re.findall(r"^FROM \S+ AS (\w+)$", (PROJECT_ROOT / "Containerfile").read_text(), re.M)
    assert sorted(targets) == ["handoff", "rasa"]
    workloads = [o for o in objects if o["kind"] in ("Deployment", "Job")]
    for obj in workloads:
        volumes = {v["name"]: v for v in obj["spec"]["template"]["spec"].get("volumes", [])}
        for volume in volumes.values():
            claim = volume["persistentVolumeClaim"]["claimName"]
            assert ("PersistentVolumeClaim", claim) in defined
        for container in _containers(obj):
            image = container["image"].split(":")[0]
            assert image in {f"shop-assistant-{target}" for target in targets}
            for source in container.get("envFrom", []):
                kind, ref = next(iter(source.items()))
                name = ref["name"]
                assert (("ConfigMap" if kind == "configMapRef" else "Secret"), name) in defined
            for mount in container.get("volumeMounts", []):
                assert mount["name"] in volumes
    services = {o["metadata"]["name"]: o for o in objects if o["kind"] == "Service"}
    deployments = {o["metadata"]["name"]: o for o in objects if o["kind"] == "Deployment"}
    for name, service in services.items():
        labels = deployments[name]["spec"]["template"]["metadata"]["labels"]
        assert service["spec"]["selector"].items() <= labels.items()
    for ingress in (o for o in objects if o["kind"] == "Ingress"):
        for rule in ingress["spec"]["rules"]:
            for path in rule["http"]["paths"]:
                assert path["backend"]["service"]["name"] in services


def test_every_setting_the_readme_lists_reaches_the_pods() -> None:
    given: set[str] = set()
    for obj in _objects():
        if obj["kind"] == "ConfigMap":
            given |= set(obj["data"])
        elif obj["kind"] == "Secret":
            given |= set(obj["stringData"])
    documented = _readme_settings()
    assert len(documented) > 40  # the tables were read
    missing = sorted(documented - given - NOT_IN_A_CLUSTER.keys())
    assert missing == [], f"settings the README lists but the cluster never sets: {missing}"
    unknown = sorted(given - documented)
    assert unknown == [], f"settings in the manifests the README does not list: {unknown}"


def _probes() -> list[tuple[str, int, str]]:
    """``(server, port, path)`` of every probe."""
    found = []
    for obj in _objects():
        if obj["kind"] != "Deployment":
            continue
        for container in _containers(obj):
            ports = {p["name"]: p["containerPort"] for p in container.get("ports", [])}
            for kind in ("startupProbe", "readinessProbe", "livenessProbe"):
                if kind in container:
                    check = container[kind]["httpGet"]
                    port = ports.get(check["port"], check["port"])
                    found.append((PROBED_PORTS[port], port, check["path"]))
    return found


def _haproxy_checks() -> list[tuple[str, str]]:
    """``(backend, path)`` of every health check in the HAProxy template."""
    template = (PROJECT_ROOT / "deploy" / "haproxy" / "haproxy.cfg.template").read_text()
    checks, backend = [], ""
    for line in template.splitlines():
        if line.startswith("backend "):
            backend = line.split()[1]
        elif line.strip().startswith("option httpchk GET "):
            checks.append((backend, line.split()[-1]))
    return checks


@pytest.fixture
def routes(monkeypatch: pytest.MonkeyPatch) -> dict[str, set[str]]:
    """The GET routes of the real apps: Rasa's server, rasa-sdk's action server, the service."""
    monkeypatch.setattr(Sanic, "test_mode", True)
    from rasa.server import create_app as rasa_app
    from rasa_sdk.endpoint import create_app as actions_app

    def sanic_paths(app: Sanic) -> set[str]:
        return {"/" + route.path.lstrip("/") for route in app.router.routes}

    source = (PROJECT_ROOT / "handoff" / "api" / "routes" / "pages.py").read_text("utf-8")
    handoff = {
        node.args[0].value
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "get"
        and node.args
        and isinstance(node.args[0], ast.Constant)
    }
    return {
        "rasa": sanic_paths(rasa_app()),
        "actions": sanic_paths(actions_app("actions")),
        "handoff": handoff,
    }


def test_every_probe_and_health_check_asks_a_real_route(routes: dict[str, set[str]]) -> None:
    probes = _probes()
    assert {server for server, _, _ in probes} == {"rasa", "actions", "handoff"}
    for server, _, path in probes:
        assert path in routes[server], (server, path, sorted(routes[server]))
    servers = {"rasa": "rasa", "rasa_socketio": "rasa", "actions": "actions", "handoff": "handoff"}
    checks = _haproxy_checks()
    assert {backend for backend, _ in checks} == servers.keys()
    for backend, path in checks:
        assert path in routes[servers[backend]], (backend, path)


def test_the_scaled_stack_and_the_cluster_check_the_same_routes() -> None:
    cluster = {(server, path) for server, _, path in _probes()}
    haproxy = {(b.replace("_socketio", ""), path) for b, path in _haproxy_checks()}
    assert cluster == haproxy


def test_the_containerfile_copies_what_the_processes_read() -> None:
    containerfile = (PROJECT_ROOT / "Containerfile").read_text("utf-8")
    copied = set(re.findall(r"^COPY (.+) \S+$", containerfile, re.M))
    words = {word for line in copied for word in line.split()}
    for needed in ("bot", "actions", "connectors", "data", "handoff", "config.yml", "domain.yml"):
        assert needed in words, needed
    for needed in ("endpoints.yml", "credentials.yml", "requirements.lock", "pyproject.toml"):
        assert needed in words, needed
    assert Path(PROJECT_ROOT / "handoff" / "requirements.lock").is_file()
