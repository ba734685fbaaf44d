"""Custom actions of the shop assistant, served by the rasa-sdk action server."""
