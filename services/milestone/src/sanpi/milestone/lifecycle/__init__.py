"""Lifecycle: the stage of each project and the state machine that guards its changes."""
