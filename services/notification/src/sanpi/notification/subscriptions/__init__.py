"""Subscriptions: who wants which events, through which channel."""
