"""Customers' personal data: finding it in text, masking it for agents, placeholders for
training data (:mod:`.detect`, :mod:`.mask`)."""
