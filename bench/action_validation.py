"""Rasa's check of an action server's answer: ``jsonschema.validate`` per call against
the validator :mod:`bot.runtime.rasa_main` builds once, side by side.

The answer checked is a typical one of this assistant's actions: two slots
set and one reply with buttons. Rounds alternate between the two.

    .venv/bin/python -m bench.action_validation [--calls 200] [--rounds 5]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from typing import Any

from rasa.core.actions.action import RemoteAction

from bot.runtime import rasa_main

RESULT: dict[str, Any] = {
    "events": [
        {"event": "slot", "timestamp": None, "name": "language", "value": "zh"},
        {"event": "slot", "timestamp": None, "name": "order_id", "value": "20241105001"},
    ],
    "responses": [
        {
            "text": "订单20241105001已发货，顺丰SF1234567890，昨天到达上海转运中心。",
            "buttons": [{"title": "查物流", "payload": "/track_shipment"}],
        }
    ],
}


def _ms_per_call(check: Callable[[RemoteAction, dict[str, Any]], bool], calls: int) -> float:
    action = RemoteAction("action_run_task", None)
    started = time.process_time()
    for _ in range(calls):
        check(action, RESULT)
    return (time.process_time() - started) * 1000 / calls


def main() -> None:
    """Times both checks and prints a markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    checks = {
        "Rasa 3.6 (jsonschema.validate per call)": RemoteAction._validate_action_result,
        "bot.runtime.rasa_main (validator built once)": rasa_main.validate_action_result,
    }
    times: dict[str, list[float]] = {name: [] for name in checks}
    for round_no in range(args.rounds):
        order = list(checks.items())
        for name, check in order if round_no % 2 == 0 else reversed(order):
            times[name].append(_ms_per_call(check, args.calls))
    print("| check | CPU ms per action answer (median of rounds) |")
    print("|---|---|")
    for name, values in times.items():
        print(f"| {name} | {statistics.median(values):.2f} |")


if __name__ == "__main__":
    main()
