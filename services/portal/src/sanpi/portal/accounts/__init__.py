"""User accounts: the one fact the portal owns (name, role, parks, password hash), and sessions."""
