"""The context the advisor tailors to: canonical slot/tag values and how to say them."""

from __future__ import annotations

SECTORS = {
    "health": "the health sector",
    "local_government": "local government",
    "voluntary_community": "the voluntary and community sector",
    "pharmacy": "pharmacy",
    "education": "education",
    "housing": "housing",
    "police_justice": "police and justice",
    "business": "business",
    "other": "another sector",
}
ROLES = {
    "lead": "people who lead or chair a partnership",
    "manager": "managers in a partner organisation",
    "practitioner": "front-line practitioners",
    "funder": "funders and commissioners",
    "community_member": "community members",
}
STAGES = {
    "forming": "partnerships that are forming",
    "established": "established partnerships",
    "renewing": "partnerships that are renewing",
    "ending": "partnerships that are ending",
}

# How the report names a role in its charts and tables.
ROLE_LABELS = {
    "lead": "Lead or chair",
    "manager": "Manager",
    "practitioner": "Practitioner",
    "funder": "Funder or commissioner",
    "community_member": "Community member",
}

# dimension -> {value: label}; the dimensions are also the slot names.
DIMENSIONS = {"sector": SECTORS, "role": ROLES, "stage": STAGES}


def known_context(dimension: str, value: object) -> str | None:
    """`value` if it is one of the dimension's canonical values, else None.

    Slots and stored events can hold anything a payload once carried (a dict, a 60-character
    string): whatever reads them goes through here, so one bad value cannot break a turn,
    the purge or the report."""
    return value if isinstance(value, str) and value in DIMENSIONS.get(dimension, ()) else None


CHALLENGES = (
    "challenge_competition",
    "challenge_authority",
    "challenge_purpose",
    "challenge_communication",
    "challenge_funding",
    "challenge_culture_clash",
    "challenge_time",
)

# Topics whose passages advice may name as the principle it rests on.
PRINCIPLE_TOPICS = ("key_principles", "good_practice")

# The UK nations a practice signpost (data/knowledge/practice.yml) may apply to: id -> name.
NATIONS = {
    "england": "England",
    "scotland": "Scotland",
    "wales": "Wales",
    "northern_ireland": "Northern Ireland",
}

# The knowledge intents and the store topic each answers from: the topics the store must hold.
KNOWLEDGE_TOPICS = {
    "ask_definition": "definition",
    "ask_key_principles": "key_principles",
    "ask_good_practice": "good_practice",
    "ask_benefits": "benefits",
    "ask_challenges": "challenges",
    "ask_health_inequalities": "health_inequalities",
    "ask_case_study": "case_study",
    "ask_sources": "references",
}
REQUIRED_TOPICS = tuple(KNOWLEDGE_TOPICS.values())

# What counts as a question in the figures: the seven challenges and the eight knowledge topics.
QUESTION_INTENTS = CHALLENGES + tuple(KNOWLEDGE_TOPICS)

# How a topic is offered on a "Did you mean ...?" button.
TOPIC_BUTTON_TITLES = {
    "challenge_competition": "Partners acting as rivals",
    "challenge_authority": "People who can't make decisions",
    "challenge_purpose": "A partnership that has lost its purpose",
    "challenge_communication": "Too many or too few meetings",
    "challenge_funding": "Partners only there for the money",
    "challenge_culture_clash": "Clashing working styles",
    "challenge_time": "Slow results",
    "ask_challenges": "The common challenges",
    "ask_benefits": "The benefits of partnership working",
    "ask_key_principles": "The key principles",
    "ask_good_practice": "Principles for better partnerships",
    "ask_definition": "What partnership working is",
    "ask_health_inequalities": "Partnerships and health inequalities",
    "ask_case_study": "The BCPP example",
    "ask_sources": "Where the advice comes from",
    "start_health_check": "A partnership health check",
    "ask_capabilities": "What I can do",
    "ask_summary": "An action plan of our conversation",
    "delete_my_data": "Delete my data",  # asks to confirm first
}

# The buttons under a knowledge answer: the intents offered next, and their titles there
# (shorter than TOPIC_BUTTON_TITLES, which must make sense without an answer above them).
FOLLOW_UPS = {
    "ask_definition": ["ask_key_principles", "ask_benefits", "ask_challenges"],
    "ask_key_principles": ["ask_good_practice", "ask_challenges"],
    "ask_good_practice": ["ask_key_principles", "ask_challenges"],
    "ask_benefits": ["ask_challenges", "ask_case_study"],
    "ask_health_inequalities": ["ask_case_study", "ask_benefits"],
    "ask_case_study": ["ask_health_inequalities", "ask_good_practice"],
    "ask_sources": ["ask_key_principles", "ask_challenges"],
}
FOLLOW_UP_TITLES = {
    "ask_definition": "What is partnership working?",
    "ask_key_principles": "The key principles",
    "ask_good_practice": "Principles for better partnerships",
    "ask_benefits": "The benefits",
    "ask_challenges": "Common challenges",
    "ask_health_inequalities": "Health inequalities",
    "ask_case_study": "The BCPP example",
    "ask_sources": "Where this comes from",
}

# Sector choices offered when asking once for context: four, as Rasa's Slack channel drops every
# button of a message with more than five; others are typed.
SECTOR_BUTTONS = (
    ("Health / NHS", "health"),
    ("Council", "local_government"),
    ("Charity or community group", "voluntary_community"),
    ("Pharmacy", "pharmacy"),
)

# Health check answers: 1 = not a problem at all ... 5 = a serious problem.
SCORE_WORDS = {
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "not at all": 1,
    "never": 1,
    "none": 1,
    "no problem": 1,
    "not a problem": 1,
    "a little": 2,
    "a bit": 2,
    "slightly": 2,
    "rarely": 2,
    "not much": 2,
    "somewhat": 3,
    "sometimes": 3,
    "moderately": 3,
    "a fair bit": 3,
    "average": 3,
    "so so": 3,
    "so-so": 3,
    "quite a lot": 4,
    "a lot": 4,
    "often": 4,
    "quite": 4,
    "mostly": 4,
    "significantly": 4,
    "very much": 5,
    "hugely": 5,
    "seriously": 5,
    "always": 5,
    "massively": 5,
    "a huge problem": 5,
    "extremely": 5,
    "completely": 5,
    "a serious problem": 5,
    "serious": 5,
}
SKIP_WORDS = ("skip", "pass", "not sure", "don't know", "dont know", "no idea", "next", "n/a")


# Some roles say the sector too: a GP or a nurse works in health, a teacher in education.
# Keyed by the words the person used for the role (its entity text), not the role value,
# since "practitioner" alone says nothing about the sector.
SECTOR_OF_ROLE = {
    "gp": "health",
    "doctor": "health",
    "nurse": "health",
    "health visitor": "health",
    "midwife": "health",
    "teacher": "education",
    "head teacher": "education",
    "headteacher": "education",
    "pharmacist": "pharmacy",
    "police officer": "police_justice",
    "probation officer": "police_justice",
    "practice manager": "health",
    "school nurse": "health",
    "district nurse": "health",
    "pharmacy technician": "pharmacy",
    "pharmacy tech": "pharmacy",
    "senco": "education",
    # "I'm actually a volunteer on the board rather than staff": volunteering is the voluntary sector's
    "volunteer": "voluntary_community",
}

# Chat spellings read as the word they stand for: by the follow-up reader ("wat would u do first")
# and by the classifier's lemma view (components/lemmas.py), where "wat do u do" and "what do you do"
# then share their lemma features; the word and character views keep what was typed.
CHAT_SPELLINGS = {
    "u": "you",
    "ya": "you",
    "ye": "you",
    "yu": "you",
    "ur": "your",
    "yr": "your",
    "yer": "your",
    "r": "are",
    "wat": "what",
    "wot": "what",
    "wht": "what",
    "wut": "what",
    "pls": "please",
    "plz": "please",
    "thx": "thanks",
    "thnx": "thanks",
    "thanx": "thanks",
    "tx": "thanks",
    "ty": "thanks",
    "cos": "because",
    "coz": "because",
    "abt": "about",
    "gd": "good",
    "ppl": "people",
    "b4": "before",
    "2day": "today",
    "tmrw": "tomorrow",
    "msg": "message",
    "mtg": "meeting",
    "mtgs": "meetings",
}
