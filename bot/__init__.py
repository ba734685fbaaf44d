"""The Rasa side of the assistant: its command line, settings and parts.

Layers, each importing only those below it:

- ``bot.cli`` / ``bot.commands`` / ``bot.__main__``: the ``bot`` command.
- ``bot.runtime``: the running Rasa process (serve, entry point, event
  broker, retrain jobs).
- ``bot.training``: model cache, evaluation, gate, labels, registry,
  promotion, the Rasa server client, retraining.
- ``bot.components``: the Rasa components ``config.yml`` names.
- ``bot.common``, ``bot.settings``, ``bot.errors``: shared by all of the
  above, by ``actions`` and by ``connectors``.

Nothing here imports ``connectors`` or ``demo_shop``; the demo shop is a
separate program that ``bot serve shop`` starts as its own process.
"""
