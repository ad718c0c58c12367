"""Schedules: clock-driven changes (nights, weekends) through the normal operations path."""
