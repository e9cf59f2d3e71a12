"""填报: a milestone with its site photo, a 旬报 or 月报, and the batch 旬报 of a park."""
