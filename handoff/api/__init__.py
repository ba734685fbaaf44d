"""The JSON API, WebSocket and pages of the service."""
