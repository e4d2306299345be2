"""A built-in demo LMS that launches the tool over real LTI 1.3 (never in production)."""
