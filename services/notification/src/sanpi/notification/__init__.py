"""sanpi notification service: subscriptions, routing, delivery, acknowledgement and escalation."""
