"""The project's command line: ``bot <command>`` (or ``python -m bot <command>``).

Commands:
    run      start the whole stack (honcho and the Procfile) after training;
             --replicas N: N of each server behind HAProxy (bot/runtime/scaled.py)
    serve    start one process of the stack (rasa, actions, shop)
    train    train a model unless one with the same data fingerprint exists
    eval     score the served model on the held-out split
    retrain  train on the trainers' labels; promote the model if it is not worse
    models   list the model registry
    rollback serve the model before the served one again
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

from bot import settings


def _run(args: argparse.Namespace) -> int:
    from bot.training.model_cache import ensure_model

    if args.replicas is not None:
        from bot.runtime.scaled import run_scaled

        try:  # the settings are checked before a model is trained
            run_scaled(args.replicas, settings.load(), before=ensure_model)
        except settings.SettingsError as error:
            print(f"error: {error}", file=sys.stderr)
            return 2
    ensure_model()
    settings.load().var_dir.mkdir(parents=True, exist_ok=True)
    honcho = os.path.join(os.path.dirname(sys.executable), "honcho")
    procfile = str(settings.PROJECT_ROOT / "Procfile")
    os.execv(
        honcho, [honcho, "--procfile", procfile, "--app-root", str(settings.PROJECT_ROOT), "start"]
    )
    return 0  # pragma: no cover - exec does not return


def _serve(args: argparse.Namespace) -> int:
    from bot.runtime.serve import exec_process

    exec_process(args.process, settings.load())
    return 0  # pragma: no cover - exec does not return


def _train(args: argparse.Namespace) -> int:
    from bot.training.model_cache import ensure_model

    print(ensure_model(force=args.force))
    return 0


def _eval(args: argparse.Namespace) -> int:
    from bot.training.evaluate import evaluate, report
    from bot.training.model_cache import ensure_model

    scores = evaluate(ensure_model())
    print(report(scores))
    return 0 if scores.passed else 1


def _retrain(args: argparse.Namespace) -> int:
    from bot.commands import retrain_command

    return retrain_command(args)


def _models(args: argparse.Namespace) -> int:
    from bot.commands import models_command

    return models_command(args)


def _rollback(args: argparse.Namespace) -> int:
    from bot.commands import rollback_command

    return rollback_command(args)


def _add_retraining(commands: argparse._SubParsersAction) -> None:
    from bot.settings import PROJECT_ROOT
    from bot.training.gate import DEFAULT_INTENT_TOLERANCE, DEFAULT_TOLERANCE

    retrain = commands.add_parser("retrain", help="train on labels, promote behind a gate")
    source = retrain.add_mutually_exclusive_group()
    source.add_argument("--labels", type=Path, help='JSON file: {"examples": [...]}')
    source.add_argument(
        "--from-service", action="store_true", help="the handoff service's label export"
    )
    retrain.add_argument(
        "--tolerance",
        type=float,
        default=DEFAULT_TOLERANCE,
        help="how much lower accuracy or macro F1 may be (default %(default)s)",
    )
    retrain.add_argument(
        "--intent-tolerance",
        type=float,
        default=DEFAULT_INTENT_TOLERANCE,
        help="how much lower any one intent's F1 may be (default %(default)s)",
    )
    for parser in (retrain, commands.add_parser("rollback", help="serve the previous model")):
        parser.add_argument(
            "--project", type=Path, default=PROJECT_ROOT, help="the assistant's folder"
        )
    retrain.set_defaults(handler=_retrain)
    commands.choices["rollback"].set_defaults(handler=_rollback)
    commands.add_parser("models", help="list the model registry").set_defaults(handler=_models)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``bot`` command and of ``python -m bot``.

    Args:
        argv: The arguments after the command's name; ``sys.argv[1:]`` when None.

    Returns:
        The exit status.
    """
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    parser = argparse.ArgumentParser(prog="bot", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="start the whole stack")
    run.add_argument("--replicas", type=int, help="N of each server behind HAProxy")
    run.set_defaults(handler=_run)
    serve = commands.add_parser("serve", help="start one process of the stack")
    serve.add_argument("process", choices=["rasa", "actions", "shop"])
    serve.set_defaults(handler=_serve)
    train = commands.add_parser("train", help="train unless the data is unchanged")
    train.add_argument("--force", action="store_true", help="train even if cached")
    train.set_defaults(handler=_train)
    commands.add_parser("eval", help="score the held-out split").set_defaults(handler=_eval)
    _add_retraining(commands)
    args = parser.parse_args(argv)
    return int(args.handler(args))
