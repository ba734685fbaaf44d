"""The Rasa components that ``config.yml`` names: tokenizer, classifier, policy.

``tokenizer`` (Jieba over Simplified text), ``classifier`` (a calibrated
linear SVM, its features built in ``features`` with sentence vectors from
``encoder`` through ``vector_cache``), ``policies`` (hand sensitive topics to
a human) with its lexicon in ``sensitive_topics``, which the actions use too.

Layering: imports ``bot.common``, ``bot.settings`` and ``bot.errors`` only;
``bot.training``, ``bot.runtime`` and the command line import it.
"""
