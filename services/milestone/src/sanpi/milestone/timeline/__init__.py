"""The timeline: every event that touched a project, in order, with who and when."""
