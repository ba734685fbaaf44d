"""Domain logic of the service; ``conversations`` is the only module that changes state."""
