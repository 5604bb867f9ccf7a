"""Custom Rasa components, named in config.yml by module path (Rasa puts the project root on sys.path)."""
