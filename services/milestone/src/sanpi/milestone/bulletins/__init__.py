"""The 通报: one 旬 or month of the district, its parks ranked, red projects, new starts."""
