"""Milestones: what happened to a project and when, with the evidence."""
