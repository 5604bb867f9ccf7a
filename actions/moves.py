"""Plain words for three conversation moves, shared by the NLU reader that recognises them
(components/conversation_moves.py) and the actions that answer them. No imports of its own, so the
Rasa server can use it without loading the action code."""

from __future__ import annotations

import re

# Little words before the move ("ok, new problem", "can we change the subject", "I've got another question").
_BEFORE = r"^\W*(?:(?:ok\w*|right|so|um+|erm+|actually|sorry|anyway|can we|could we|let'?s|i'?d like to|i want to|i have|i'?ve got|got)\W+)*"
_AFTER = r"(?:\s+(?:now|please|pls|then|actually|entirely|altogether))*\W*$"

# Asking to change the subject: "new problem" was read as the communication challenge, "another
# problem" as a request for another idea, "start again" and "new topic" were declined or clarified.
NEW_TOPIC = re.compile(
    _BEFORE
    + r"(?:(?:an?\s+)?(?:new|another|different|separate|unrelated|other)\s+(?:problem|issue|question|topic|subject|query|thing)s?"
    r"|start (?:again|over|afresh|from scratch)|restart|change (?:the )?(?:subject|topic)|move on)" + _AFTER,
    re.IGNORECASE,
)

# An acknowledgement on its own ("makes sense", "interesting", "noted"): "interesting" and "makes
# sense" were declined as everyday requests.
ACKNOWLEDGEMENT = re.compile(
    r"^\W*(?:(?:ok\w*|right|ah+|oh+|hmm+|yeah|yes|yep|cool|great|fine)\W+)*"
    r"(?:(?:that |it )?makes? (?:sense|a lot of sense)|(?:that'?s |very |how )?interesting|(?:duly )?noted|good to know"
    r"|i see|gotcha|understood|fair (?:enough|point)|point taken|got it|will do|(?:i'?ll|we'?ll) (?:try|give) (?:that|it)(?: a go)?)"
    r"(?:\s+(?:now|then))*\W*$",
    re.IGNORECASE,
)

# Keeping the answer just given: "add that to my plan", "save that" was declined or clarified; it is
# a request for the action plan, which holds every idea given in the conversation.
TO_THE_PLAN = re.compile(
    _BEFORE
    + r"(?:(?:add|put|save|pop|stick) (?:that|it|this|those|them|these)(?: (?:to|in|into|on) (?:my|the|our) (?:action )?(?:plan|list))?"
    r"|(?:add|save) (?:that|it|this) (?:for (?:later|me))|save(?: (?:that|it|this))? for later)" + _AFTER,
    re.IGNORECASE,
)
