"""Rasa input and output channels, one package per platform, and their plumbing.

Each platform package (``telegram``, ``wechat``, ``webchat``) holds
``<Platform>Input(InputChannel)`` in its ``channel`` module and
``<Platform>Output(OutputChannel)`` in its ``output`` module, next to its
parsing and sending; bot replies and agents' replies leave through the same
output class. ``credentials.yml`` names the input channels by module path
(``connectors.<platform>.channel.<Platform>Input``), and ``bot serve rasa``
enables only those whose settings are present.

What every platform shares lives here once: the bounded body reader
(``body``), the outbound route's template that a platform fills with its send
call (``outbound``), the error base whose refusals carry an HTTP status
(``errors``), routes that are methods (``routes``), the durable intake
that stores each message before it is acknowledged, drops retries by the
platform's message id and hands messages to Rasa in order (``intake``), the
connectors' database (``database``) and work after an outbound request's
acknowledgement (``background``).
"""
