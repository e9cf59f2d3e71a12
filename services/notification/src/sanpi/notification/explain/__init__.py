"""Why was a subscription (not) notified of an event: every step of the decision, re-played."""
