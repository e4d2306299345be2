"""Browser tests use the shared Chromium fixtures of tests/conftest.py."""
