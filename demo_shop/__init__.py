"""The demo shop: a small backend serving ``docs/shop-api.md`` from its own database.

It lets the assistant run end to end without a real store. A real store plugs
in by pointing ``SHOP_API_URL`` at its own service speaking the same contract.
Run it with ``python -m demo_shop`` (see :mod:`demo_shop.__main__`).
"""
