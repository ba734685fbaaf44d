"""The benchmark's reading of a process's CPU time, on a real child process."""

from __future__ import annotations

import subprocess
import sys

from bench.connector_latency import RasaCpu

_BURN_THEN_WAIT = """
import sys, time
end = time.process_time() + 0.3
while time.process_time() < end:
    pass
print("burnt", flush=True)
sys.stdin.read()
"""


async def test_cpu_time_of_a_process_and_its_idleness() -> None:
    child = subprocess.Popen(
        [sys.executable, "-c", _BURN_THEN_WAIT],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        cpu = RasaCpu(child.pid)
        assert child.stdout is not None and child.stdout.readline() == "burnt\n"
        burnt = await cpu.idle()
        assert 0.25 <= burnt < 5  # ticks of 10 ms, rounded down
        assert await cpu.idle() == burnt  # waiting on stdin costs nothing
    finally:
        child.kill()
        child.wait()
