"""Texts both sides of the bot need: the action server and the Rasa server's guard
(scripts/rasa_server.py) say the same thing when the advice library is out of reach."""

# Said instead of silence when the action server or the knowledge store cannot be reached.
UNAVAILABLE_REPLY = "I can't reach my advice library right now, please try again shortly."
