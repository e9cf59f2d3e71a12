"""The 督办 page: escalated red alerts the responsible unit answers and an official closes."""
