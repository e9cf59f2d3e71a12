"""Digests: a subscription's red alerts summed up per park, daily at a set time and/or at the end of each 旬."""
