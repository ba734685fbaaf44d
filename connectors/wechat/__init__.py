"""WeChat Official Account: the webhook, the customer-service API, and their stores.

``channel`` holds the input channel (named in ``credentials.yml``),
``config`` its checked settings, ``output`` the output channel and the
outbound route's send, ``parse`` signatures, safe-mode envelopes and
messages, ``client`` the shared access token, ``send`` the rules of sending,
``store`` what is kept between requests and ``errors`` the package's error
tree.
"""
