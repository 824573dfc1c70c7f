"""Watching at-risk seeds: schedules, classification of recaptures, confirmed events."""
