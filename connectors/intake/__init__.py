"""The durable intake: a platform message is stored before it is acknowledged.

Every connector hands what it parsed to an :class:`~connectors.intake.queue.Intake`:
the message is written to the inbound table of the connectors' database
(:mod:`connectors.intake.store`), keyed by the platform's message id, and only
then does the platform get its 200 (web chat its acknowledgement). A retry of
the same message finds the key taken and is acknowledged without being
processed again. The intake then hands each conversation's messages to Rasa
one at a time, in the platform's order, and marks each done once Rasa has
handled it. Messages left unfinished (the process died, Redis was down) are
taken up again at start-up and periodically once their lease has run out.
"""
