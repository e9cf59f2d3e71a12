"""Escalation (督办): alert state, acknowledgement, repeats of red alerts and the ladder above the owner."""
