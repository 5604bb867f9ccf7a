"""What runs in production: the launcher, the Rasa and action server entry points, and the seams."""
