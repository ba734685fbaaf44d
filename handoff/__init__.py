"""The handoff service: conversations in human hands, the agent inbox and its API.

Runs in its own environment (``.venv-handoff``) as ``python -m handoff``; see
the README's *Handoff service* section.
"""
