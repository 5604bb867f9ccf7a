"""Developer tooling: validation, the test runner, evaluation, the peers and the bench (`python -m tools.<name>`)."""
