"""Delivery: one notification per (subscription, event), attempted until delivered or dead."""
