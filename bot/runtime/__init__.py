"""The running Rasa process: how it is started and what is plugged into it.

``serve`` (each process's command line and environment), ``rasa_main`` (the
Rasa entry point), ``degraded`` (what Rasa answers when a custom action
fails, installed by ``rasa_main``), ``event_broker`` (every tracker event to
the handoff service, named in ``endpoints.yml``; through ``outbox``, or
``pika_broker`` with RabbitMQ) and ``retrain_jobs`` (the
retrain button's input channel, named in ``credentials.yml``).

Layering: imports ``bot.training`` and the bottom of ``bot``; only the
command line imports it. Connectors are named as module paths in
``credentials.yml``, never imported.
"""
