"""Projects: the registry's aggregate root."""
