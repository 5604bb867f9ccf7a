"""An explicit request to delete what the person told us ("forget everything we talked about",
"wipe my data") is `delete_my_data`, whatever the classifier leaned to: a privacy request must not
become advice on a partnership that "forgot why it exists". The advisor still asks before deleting,
so a rare false match costs one question (components/plain_requests.py).
"""

from __future__ import annotations

import re

from rasa.engine.recipes.default_recipe import DefaultV1Recipe

from components.plain_requests import PlainRequestReader

DELETE = "delete_my_data"
# What is theirs: "my data", "our chat", "my personal details".
THEIRS = r"(?:my|our)\s+(?:personal\s+)?(?:data|details|information|info|messages|history|chat|conversation|answers)"
# A deleting verb, then (within three words) what is theirs: their data, this chat, what they said.
# No false match on any training or development sentence of another intent when written.
DELETION_REQUEST = re.compile(
    r"\b(?:delete|erase|wipe|remove|clear|scrap|scrub|bin|forget|destroy|purge|get rid of)\b(?:\s+\w+){0,3}?\s+"
    rf"(?:{THEIRS}"
    r"|(?:this|our|the|my)\s+(?:chat|conversation|history|transcript|messages)"
    r"|(?:everything|all|anything|what)\s+(?:that\s+)?(?:i|we)(?:'ve|\s+have)?\s+"
    r"(?:said|told|typed|talked|wrote|written|shared|gave|given|asked|put)"
    r"|everything\s+(?:you\s+(?:have|hold|keep|know|stored)|about\s+me|we\s+talked\s+about)"
    r"|me\b(?!\s+(?:a|an|the|some|how|what|why|where|when|more|about|that|from|off|to|on|in))"
    r"|all\s+(?:of\s+)?(?:it|this|that)\b)",
    re.IGNORECASE,
)
# What is theirs first, then the deleting: "I want my personal data removed", "get my chat deleted".
DELETION_WANTED = re.compile(
    rf"\b{THEIRS}"
    r"\s+(?:to\s+be\s+|being\s+)?(?:deleted|erased|wiped|removed|cleared|destroyed|purged|forgotten)\b",
    re.IGNORECASE,
)


def asks_to_delete(text: str) -> bool:
    return bool(DELETION_REQUEST.search(text or "") or DELETION_WANTED.search(text or ""))


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=False)
class DeletionRequestReader(PlainRequestReader):
    """Sets `delete_my_data` first, with the top confidence, on a message that plainly asks to delete."""

    intent = DELETE
    asks = staticmethod(asks_to_delete)
