"""Helpers that the Rasa process, the connectors and the actions all need.

This package sits at the bottom of the Rasa side: it imports nothing from
``bot.components``, ``bot.training``, ``bot.runtime``, ``connectors`` or
``actions``, so each of them may import it.
"""
