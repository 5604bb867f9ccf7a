"""Rasa input channels of the project: the web chat's Socket.IO channel and Slack, each a small
subclass of Rasa's own that fixes what stock Rasa 3.6.21 gets wrong for us."""
