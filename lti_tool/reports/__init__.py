"""Reports for instructors and compliance teams, built from the tool's data."""
