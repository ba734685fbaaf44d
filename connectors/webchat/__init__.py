"""The web chat: a page shops link or embed, speaking Rasa's socket.io protocol.

``channel`` holds the input channel (named in ``credentials.yml``),
``events`` the socket.io events it answers, ``output`` the output channel and
the outbound route's send, ``page`` the page, its files and the history,
``feedback`` the thumbs-down, ``parse`` what clients send and the history a
page shows, ``config`` its checked settings and ``static/`` the page's files.
"""
