"""Routing: the attributes an event is matched by (park, chain, severity…) and the filters on them."""
