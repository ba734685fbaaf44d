"""Cost of the sentence encoder: load time, per-message latency, throughput.

.venv/bin/python -m bench.encoder_latency
"""

from __future__ import annotations

import statistics
import time

from bot.components.encoder import SentenceEncoder, packaged_model_dir

MESSAGES = [
    "Where is my parcel? I ordered it a week ago.",
    "I want a refund for order 202401150001",
    "my card payment was declined twice today",
    "我的订单什么时候发货？",
    "親，退款怎麼還沒到賬",
    "can I change the delivery address",
    "hi",
    "这个商品坏了，我要换货",
]


def main() -> None:
    """Prints load time, median and p90 single-message latency, and batch throughput."""
    size = sum(path.stat().st_size for path in packaged_model_dir().rglob("*") if path.is_file())
    loads = []
    for _ in range(3):
        started = time.perf_counter()
        encoder = SentenceEncoder.from_package()
        loads.append(time.perf_counter() - started)
    latencies = []
    for _ in range(10):
        for message in MESSAGES:
            started = time.perf_counter()
            encoder.encode([message])
            latencies.append((time.perf_counter() - started) * 1000)
    batch = MESSAGES * 64
    started = time.perf_counter()
    encoder.encode(batch)
    throughput = len(batch) / (time.perf_counter() - started)
    latencies.sort()
    print(f"model files            {size / 2**20:.0f} MiB")
    print(f"load (median of 3)     {statistics.median(loads):.2f} s")
    print(
        f"one message            median {statistics.median(latencies):.1f} ms, "
        f"p90 {latencies[int(len(latencies) * 0.9)]:.1f} ms ({len(latencies)} messages)"
    )
    print(f"batches of 64          {throughput:.0f} messages/s")


if __name__ == "__main__":
    main()
