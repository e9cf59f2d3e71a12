"""The inbox channel: notifications read and acknowledged over the API."""
