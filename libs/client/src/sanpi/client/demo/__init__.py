"""Demo data: pure generators of the district and province data sets, and their loader."""
