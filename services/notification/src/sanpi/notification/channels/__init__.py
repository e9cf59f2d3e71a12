"""Channels: how a notification leaves sanpi (webhook, e-mail; stream and inbox are read over the API)."""
