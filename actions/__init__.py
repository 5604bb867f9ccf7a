"""Partnership Advisor custom actions and knowledge store (rasa-sdk package)."""
