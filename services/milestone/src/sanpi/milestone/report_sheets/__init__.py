"""旬报/月报 by sheet: the template of a period and park, pre-filled with its active projects."""
