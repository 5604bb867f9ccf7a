"""Texts both sides of the bot need: the action server and the Rasa server's guard
(server/seams/reliability.py) say the same thing when the advice library is out of reach."""

# Said instead of silence when the action server or the knowledge store cannot be reached.
UNAVAILABLE_REPLY = "I can't reach my advice library right now, please try again shortly."

# "Delete my data": the action server's confirmation carries this in its message metadata
# (PRIVACY_SIGNAL: CONVERSATION_DELETED). The Rasa server then deletes the conversation from the
# tracker store instead of saving that turn (server/seams/privacy.py), and the web chat drops its
# copy in the browser (channels/socketio.py, web/chat.js). Other channels ignore it.
DELETE_ACTION = "action_delete_my_data"
PRIVACY_SIGNAL = "privacy"
CONVERSATION_DELETED = "conversation_deleted"
