"""Indicators: batch counts and 亿元, conversion rates, target attainment against 序时进度."""
