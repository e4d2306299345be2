"""Spaced review: FSRS scheduling, answer checking, daily sessions, mastery and reminders."""
