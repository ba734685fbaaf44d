"""Rasa input and output channels, one module per platform.

Each platform module holds ``<Platform>Input(InputChannel)`` and
``<Platform>Output(OutputChannel)``; bot replies and agents' replies leave
through the same output class. ``credentials.yml`` names them by module
path, and ``bot serve rasa`` enables only those whose settings are present.
"""
