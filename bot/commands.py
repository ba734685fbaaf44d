"""The retraining commands of ``python -m bot``: ``retrain``, ``models``, ``rollback``.

Each builds its clients from the settings, prints what happens, and turns
the package's errors into a message on stderr and exit code 1 (2 for bad
labels or data, 3 when the gate refuses the candidate).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from bot import settings as settings_module
from bot.errors import BotError, DataInvalid, GateRefused, LabelsError
from bot.training.labels import ANNOTATIONS_FILE, Label, fetch_labels, read_labels_file
from bot.training.rasa_server import RasaServer
from bot.training.registry import LIVE_WITHIN_S, ModelVersion, Registry, Replica

EXIT_FAILED, EXIT_BAD_DATA, EXIT_REFUSED = 1, 2, 3


def _guarded(run: Callable[[], int]) -> int:
    try:
        return run()
    except GateRefused as error:
        print(f"refused: the serving model stays. {error}", file=sys.stderr)
        return EXIT_REFUSED
    except (LabelsError, DataInvalid) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_BAD_DATA
    except BotError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_FAILED


def _labels(args: argparse.Namespace, settings: settings_module.Settings) -> list[Label]:
    if args.labels is not None:
        return read_labels_file(args.labels)
    if args.from_service:
        token = settings_module.service_token(settings)
        return fetch_labels(settings.handoff_url, token)
    return []  # retrain on the data as it is (e.g. after editing data/ by hand)


def retrain_command(args: argparse.Namespace) -> int:
    """``bot retrain``."""
    from bot.training.retrain import retrain

    def run() -> int:
        settings = settings_module.load()
        labels = _labels(args, settings)
        registry = Registry.from_settings(settings)
        try:
            retrain(
                labels,
                root=args.project,
                server=RasaServer.from_settings(settings),
                registry=registry,
                tolerance=args.tolerance,
                intent_tolerance=args.intent_tolerance,
                redis_url=settings.redis_url,
            )
        finally:
            registry.close()
        return 0

    return _guarded(run)


def _row(version: ModelVersion, serving: int | None) -> str:
    state = (
        "serving"
        if version.version == serving
        else (f"rolled back by {version.rolled_back_by}" if version.rolled_back_at else "")
    )
    return (
        f"{version.version:>4}  {version.created_at:%Y-%m-%d %H:%M}  {version.fingerprint:<16}"
        f"  {version.accuracy:.3f}  {version.macro_f1:.3f}  {version.created_by:<24}"
        f"  {state:<10}  {version.note}  {version.path}"
    )


def _print_replicas(replicas: list[Replica]) -> None:
    for replica in replicas:
        served = f"version {replica.version}" if replica.version else "an unregistered model"
        state = "" if replica.alive(LIVE_WITHIN_S) else "  (silent: stopped?)"
        print(
            f"replica {replica.name} ({replica.url}) serves {served} ({replica.model_id}),"
            f" seen {replica.seen_at:%Y-%m-%d %H:%M:%S}{state}"
            + (f"; {replica.error}" if replica.error else "")
        )


def models_command(args: argparse.Namespace) -> int:
    """``bot models``: the registry, newest first, then what each Rasa replica serves."""

    def run() -> int:
        registry = Registry.from_settings(settings_module.load())
        try:
            versions = registry.versions()
            serving = registry.serving()
            replicas = registry.replicas()
        finally:
            registry.close()
        if not versions:
            print("no models registered yet (the first `bot retrain` registers them)")
        else:
            print(
                f"{'v':>4}  {'promoted (UTC)':<16}  {'fingerprint':<16}  {'acc':<5}  {'F1':<5}"
                f"  {'by':<24}  {'state':<10}  note  path"
            )
        for version in versions:
            print(_row(version, serving.version if serving else None))
        if replicas:
            print()  # the registry's table, then the replicas
        _print_replicas(replicas)
        return 0

    return _guarded(run)


def rollback_command(args: argparse.Namespace) -> int:
    """``bot rollback``: serve the version before the served one."""
    from bot.training.promotion import roll_back

    def run() -> int:
        settings = settings_module.load()
        registry = Registry.from_settings(settings)
        try:
            restored = roll_back(
                server=RasaServer.from_settings(settings),
                registry=registry,
                models_dir=args.project / "models",
                annotations_file=args.project / ANNOTATIONS_FILE,
                redis_url=settings.redis_url,
            )
        finally:
            registry.close()
        print(f"serving version {restored.version} again ({restored.path})")
        return 0

    return _guarded(run)
