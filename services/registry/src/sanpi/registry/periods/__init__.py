"""Periods (期): the numbered quarterly 三个一批 events and their status."""
