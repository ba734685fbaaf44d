"""Training and retraining: from data and trainers' labels to a served model.

``model_cache`` (fingerprint and cache of trained models), ``evaluate`` (the
held-out split), ``gate`` (is a candidate worse?), ``labels`` (the trainers'
labels from the handoff service), ``registry`` and ``promotion`` (versions,
serving, rolling back), ``rasa_server`` (the running Rasa's HTTP API) and
``retrain`` (the whole loop behind ``bot retrain``).

Layering: imports ``bot.components`` and the bottom of ``bot``
(``common``, ``settings``, ``errors``); ``bot.runtime`` and the command line
import it.
"""
