"""Test helpers: servers the tests start, clients, sample data (tests never import tests)."""
