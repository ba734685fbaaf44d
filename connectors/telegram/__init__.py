"""Telegram: the webhook, the Bot API sender, and the updates they understand.

``channel`` holds the input channel (named in ``credentials.yml``),
``output`` the output channel and the outbound route's send, ``parse`` what
each kind of update leads to, ``send`` the ordered, flood-aware sender,
``http`` the Bot API's HTTP client and ``errors`` the package's error tree.
"""
