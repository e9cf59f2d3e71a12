"""督办 items (supervision items): an escalated red alert followed until an official closes it."""
