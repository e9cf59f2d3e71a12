"""Channels: how a notification leaves sanpi (webhook today; e-mail, stream and inbox to come)."""
