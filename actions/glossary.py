"""The glossary (data/knowledge/glossary.yml): one short definition for a partnership term people
ask about ("what's the HWB for", "what does PCN stand for", "who are NAVCA / NCVO").

Pure functions over the knowledge snapshot. A message gets a definition only when it is a term
question whose term is exactly a glossary term or alias, so "what's the weather" or "what does
serendipity mean" are still declined wherever they end up.
"""

from __future__ import annotations

import re

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.answers import Item, resolve
from actions.store.knowledge import GlossaryView, Knowledge

_ARTICLE = r"(?:(?:an?|the|our|your|this|that)\s+)?"
# Words people put around the term: "what is the CVS anyway", "what does the ICB actually do".
_FILLER = (
    r"(?:\s+(?:actually|really|exactly|even|anyway|then|though|again|here|there|please|pls|mate|legally|technically|officially|formally|honestly"
    r"|(?:up|round|around|down|over) here"
    # "what's a PSB in your terms", "what's an MoU in plain English"
    r"|in (?:(?:your|simple|plain|lay(?:man'?s)?) (?:terms|english|words)|english)|in practice|in (?:this|that|the) context|in a nutshell"
    # "what's the HWB meant to be doing in all this anyway"
    r"|in all (?:this|that)))*"
)
_TAIL = (
    r"(?:\s+(?:for|mean|means|stand for|stands for|do|does|do they do|does it do|all about|when (?:it's|its|they're|theyre|they are) at home"
    # "what is a PCN supposed to be for", "what is community planning meant to be"
    r"|(?:supposed|meant) to (?:be doing|be for|be|do|achieve)))?"
)
# One clause asking what a term is, with the term in one of its named groups (by, of, ex, t).
TERM_QUESTION = re.compile(
    r"^\W*(?:(?:so|ok|okay|and|but|sorry|hi|hiya|hello|um|erm|also|quick question|remind me)\W+)*"
    r"(?:(?:what\s+)?(?:do you|did you|does it|does that)\s+mean\s+by\s+" + _ARTICLE + r"(?P<by>.+?)"
    r"|(?:the\s+)?meaning\s+of\s+" + _ARTICLE + r"(?P<of>.+?)"
    r"|(?:define|explain|tell\s+me\s+about)\s+" + _ARTICLE + r"(?P<ex>.+?)"
    r"|(?:what|wat|wot|who)(?:\s+(?:exactly|actually|precisely|even))?(?:['\u2019]s|s|\s+is|\s+are|\s+was|\s+were|\s+does|\s+do|\s+counts\s+as|\s+means)?\s+"
    + _ARTICLE
    + r"(?P<t>.+?))"
    + _FILLER
    + _TAIL
    + _FILLER
    + r"\W*$",
    re.IGNORECASE,
)
# ...and a second question after it: "what even is a PCN and why would a tiny charity care".
SECOND_QUESTION = re.compile(
    r"\s+and\s+(?=(?:why|how|what|who|where|when|do|does|is|are|can|could|should|would|will)\b)", re.IGNORECASE
)
# Clauses: "what is the CVS anyway, my manager just said to invite them" asks in its first.
CLAUSES = re.compile(r"[,;?!.]+\s*|\s+-\s+")
# "NAVCA / NCVO", "the ICB or the PCN": two terms asked together.
BOTH = re.compile(r"\s*/\s*|\s+or\s+|\s*&\s*", re.IGNORECASE)


# "and PCN?", "what about the NCVO?" right after a definition: the same question about another term
# (answered only when it is exactly a glossary term, like every term question).
ELLIPTICAL = re.compile(
    r"^\W*(?:and|or|also|plus|what about|how about)\s+"
    + _ARTICLE
    + r"(?P<term>[\w&.'-]+(?:\s+[\w&.'-]+){0,3}?)"
    + _FILLER
    + r"\W*$",
    re.IGNORECASE,
)
# "what's the difference between an outcome and an output": both terms.
DIFFERENCE = re.compile(
    r"\bdiff?e?re?nce\s+between\s+"
    + _ARTICLE
    + r"(?P<a>[\w&.' -]+?)\s+and\s+"
    + _ARTICLE
    + r"(?P<b>[\w&.' -]+?)"
    + _FILLER
    + r"\W*$"
    # "remind me how an outcome differs from an output"
    + r"|\bhow\s+"
    + _ARTICLE
    + r"(?P<a2>[\w&.'-]+)\s+(?:differs?|is different)\s+from\s+"
    + _ARTICLE
    + r"(?P<b2>[\w&.'-]+)\W*$",
    re.IGNORECASE,
)
# "what counts as an outcome and what's just an output here": both terms.
COUNTS_AS_WHICH = re.compile(
    r"\bwhat counts as "
    + _ARTICLE
    + r"(?P<a>[\w&.'-]+)\s+and\s+what(?:['\u2019]s| is)\s+(?:just\s+|only\s+|merely\s+)?"
    + _ARTICLE
    + r"(?P<b>[\w&.'-]+)\b",
    re.IGNORECASE,
)
# "economies of scale, meaning?", "DPIA meaning": a term, then the word asking what it means.
MEANING_AFTER = re.compile(
    r"^\W*(?:the\s+)?(?P<term>[\w&.'-]+(?:\s+[\w&.'-]+){0,3}?)\W*\s*(?:meaning|means what|definition)\W*$", re.IGNORECASE
)
# "whats an ICS vs an ICB, everyone mixes them up", "output vs outcome whats the diff".
VERSUS = re.compile(
    r"^\W*(?:(?:what(?:['\u2019]?s| is)?|so|and|also|actually|exactly|is)\s+)*"
    + _ARTICLE
    + r"(?P<a>[\w&.'-]+(?:\s+[\w&.'-]+)?)\s+(?:vs\.?|versus)\s+"
    + _ARTICLE
    + r"(?P<b>[\w&.'-]+)\b",
    re.IGNORECASE,
)


# A short question about a body or agreement by its abbreviation, in words the term questions above
# do not cover: "what's the IJB's role in all that", "is the HSCB still a thing?", "what is the PHA
# responsible for", "what's a PSB and how's it different from us". Only an abbreviation as typed
# (two capitals or more, or s75-style), so "what's the outcome of the meeting" is not a term question.
_ABBREVIATION = r"[A-Z][A-Za-z]*[A-Z]s?|[sS]\.?\s?\d{2,3}"
ABOUT_AN_ABBREVIATION = re.compile(
    r"^\W*(?i:(?:(?:so|ok|okay|and|but|also|sorry|quick question|remind me)\W+)*"
    r"(?:(?:what|wat|wot|who)(?:['\u2019]?s|\s+is|\s+are|\s+was|\s+does|\s+do)?|is|are|does)\s+"
    r"(?:(?:an?|the)\s+)?)(?P<term>" + _ABBREVIATION + r")(?P<next>\s+[A-Z][a-z]+)?(?:['\u2019]?s)?\b(?P<rest>[^?]*)"
)
ABBREVIATION_REST_WORDS = 7
SHORT_QUESTION_WORDS = 11
# ...but not a question about what the body is doing: "what's the ICB going to do about it", or
# whether a thing fits: "is a RACI overkill for something this size".
# ("is the HSCB still going?" asks whether it exists.)
DOING = re.compile(
    r"\b(?:(?<!still )going|gonna|doing|planning|saying|said|want\w*|think\w*|decid\w*|overkill|worth|necessary|needed)\b",
    re.IGNORECASE,
)
# "s75?", "the HWB?": a term on its own, asked.
ABBREVIATION = re.compile(r"[A-Z][A-Za-z&]*[A-Z][A-Za-z&]*")
BARE_TERM = re.compile(r"^\W*(?:the\s+)?(?P<term>[\w&.'-]+(?:\s+[\w&.'-]+){0,2}?)\s*\?+\W*$")
# "i thought the HSCB doesn't exist any more?": a body asked about as gone (its name right before).
GONE = re.compile(
    r"\b(?:the\s+)?(?P<term>" + _ABBREVIATION + r")\s+(?:doesn'?t|does not|no longer)\s+exists?(?:\s+any ?more)?\W*\?"
    # "the HSCB is gone now though isn't it?", "I thought the HSCB had been abolished"
    r"|\b(?:the\s+)?(?P<gone>"
    + _ABBREVIATION
    + r")\s+(?:is|was|has|had)\s+(?:been\s+)?(?:gone|abolished|scrapped|closed|wound up)\b",
)
# "s115 - what is it and can we use it": a term, a dash, then a question about it.
DASHED_TERM = re.compile(
    r"^\W*(?:the\s+)?(?P<term>[\w&.'-]+(?:\s+[\w&.'-]+){0,3}?)(?:\s+-\s+(?:what|who|is|are|does|do|would|will|can)\b"
    # "determinants - in normal language please", "economies of scale - spell that out for a room..."
    r"|\s+-\s+(?:in (?:normal|plain|simple|everyday|layman'?s) (?:language|english|words|terms)|spell (?:it|that|this) out|explain)\b"
    # "Caldicott, does that apply to us", "economies of scale, what does that really mean when..."
    r"|\s*,\s*(?:(?:does|is|are|do) (?:that|it|this|they)\b|what (?:does|do) (?:that|it|this|they) (?:\w+ )?mean\b|spell (?:it|that|this) out\b))",
    re.IGNORECASE,
)
# "everyone keeps saying ICB this ICB that, what actually is it": the term is named, then asked.
WHAT_IS_IT = re.compile(
    r"^\W*(?:(?:so|and|but|ok)\W+)?what(?:['\u2019]?s|\s+is)?(?:\s+(?:actually|exactly|even|on earth|the heck))?(?:\s+is)?\s+(?:it|that|this|they|them)"
    r"(?:\s+(?:actually|exactly|even|then))?(?:\s+(?:for|do|does|mean))?\W*$"
    # "they keep saying VCSE in the papers, what does that mean"
    r"|^\W*(?:(?:so|and|but|ok)\W+)?what\s+(?:does|do)\s+(?:it|that|this|they)\s+(?:actually\s+|even\s+|really\s+)?(?:mean|stand\s+for)"
    # "economies of scale is doing a lot of work in that list. what does it actually mean here",
    # "... what does that mean in practice", "... what does it mean in plain words"
    r"(?:\s+(?:here|in (?:practice|reality|real life|plain (?:words|english|language)|normal (?:words|language))|for (?:us|me)|when\b.*))?\W*$"
    # "the LPC keep nagging us to get involved. who are they anyway?"
    r"|^\W*(?:(?:so|and|but|ok)\W+)?who\s+(?:are|is)\s+(?:they|them|it|that)(?:\s+(?:anyway|actually|exactly|even|then))?\W*$"
    # "the PHA are on the member list, what's their role"
    r"|^\W*(?:(?:so|and|but|ok)\W+)?(?:what(?:['\u2019]?s|\s+is|\s+are)\s+(?:their|its)\s+(?:role|job|purpose|remit)|what\s+do\s+they\s+(?:actually\s+)?do)"
    r"(?:\s+(?:exactly|then|here|anyway|in (?:this|all this|that)))?\W*$",
    re.IGNORECASE,
)
ABBREVIATIONS = re.compile(r"\b(?:" + _ABBREVIATION + r")\b")
# "where does the better care fund come into it", "where do PCNs fit in".
WHERE_IT_FITS = re.compile(
    r"^\W*(?:(?:so|and|but|ok)\W+)?where\s+(?:does|do|did)\s+(?:(?:an?|the)\s+)?(?P<term>.+?)\s+"
    r"(?:come\s+in(?:to\s+(?:it|this|that|all this))?|fit(?:\s+in(?:to\s+(?:it|this|that|all this))?)?"
    # "and where does the community planning partnership sit next to that"
    r"|sit(?:\s+(?:next to|alongside|beside|with|in)\s+(?:that|this|it|them|all this|all that))?)\W*$",
    re.IGNORECASE,
)
# "and CDHN is what exactly", "what's Caldicott got to do with it", "is that the same thing as the
# BCF", "what do people mean by at place", "HWB" typed on its own.
OTHER_FORMS = (
    re.compile(r"^\W*(?:(?:and|so|ok)\s+)?(?:the\s+)?(?P<term>[\w&.'-]+(?:\s+[\w&.'-]+)?)\s+(?:is|are)\s+what\b", re.IGNORECASE),
    re.compile(
        r"\bwhat(?:['\u2019]?s|\s+has|\s+have|\s+does|\s+do)\s+(?:the\s+)?(?P<term>.+?)\s+(?:got\s+)?to\s+do\s+with\b",
        re.IGNORECASE,
    ),
    re.compile(r"\bthe\s+same(?:\s+thing)?\s+as\s+(?:an?\s+|the\s+)?(?P<term>[\w&.'-]+(?:\s+[\w&.'-]+)?)\b", re.IGNORECASE),
    # "and is the better care fund the same thing or different"
    re.compile(
        r"^\W*(?:(?:and|so|but|ok)\s+)?(?:is|are)\s+(?:an?\s+|the\s+)?(?P<term>[\w&.'-]+(?:\s+[\w&.'-]+){0,3}?)\s+(?:the\s+)?same(?:\s+thing)?\s+or\b",
        re.IGNORECASE,
    ),
    re.compile(
        r"\bwhat\s+(?:do|does)\s+(?:people|they|folk|everyone|you)\s+mean\s+by\s+['\"\u2018\u201c]?(?P<term>[^'\"\u2019\u201d?]+)",
        re.IGNORECASE,
    ),
    re.compile(r"^\W*(?P<term>" + _ABBREVIATION + r")\W*$"),
    # "the Caldicott thing you mentioned, is that only England"
    re.compile(
        r"\bthe\s+(?P<term>[\w&.'-]+(?:\s+[\w&.'-]+)?)\s+(?:thing|bit|stuff|business)\s+(?:you|u|they|people|everyone|he|she)\s+"
        r"(?:mentioned|said|talked about|brought up|keep\w*\s+(?:\w+ing|on about)|quote\w*)\b",
        re.IGNORECASE,
    ),
    # "for my newer colleagues, what exactly happened to the HSCB"
    re.compile(
        r"\bwhat\s+(?:exactly\s+|actually\s+|ever\s+)?happened\s+to\s+(?:the\s+)?(?P<term>[\w&.'-]+(?:\s+[\w&.'-]+)?)\W*$",
        re.IGNORECASE,
    ),
    # "someone mentioned the RPB, does that matter to a group our size"
    re.compile(
        r"\b(?i:someone|somebody|people|they|everyone|colleagues?)\s+(?i:mentioned|said|keeps?\s+(?:mentioning|saying)|brought\s+up)\s+"
        r"(?i:the\s+|an?\s+)?(?P<term>" + _ABBREVIATION + r")\b(?=.*(?:\?|\b(?i:does|is|do) (?i:that|it|they)\b))"
    ),
    # "my inspector keeps saying take it to the CSP - which is what exactly"
    re.compile(r"\b(?P<term>" + _ABBREVIATION + r")\s*(?:-|,)\s*which\s+(?i:is|are)\s+what\b"),
    # "when you say determinants, what would that cover", "does Caldicott apply in Scotland"
    re.compile(
        r"\bwhen\s+(?:you|u)\s+(?:say|said|mention|mentioned|talk about)\s+['\"\u2018\u201c]?(?P<term>[\w&.'-]+(?:\s+[\w&.'-]+){0,2}?)['\"\u2019\u201d]?\s*(?:,|\?|$)",
        re.IGNORECASE,
    ),
    re.compile(
        r"^\W*(?:(?:and|so|but)\s+)?(?:does|do)\s+(?:the\s+)?(?P<term>[\w&.'-]+(?:\s+[\w&.'-]+)?)\s+(?:still\s+)?apply\b",
        re.IGNORECASE,
    ),
    # "we're in scotland so is there something like the CVS thing you mentioned"
    re.compile(
        r"\b(?:is there|are there|have (?:we|you) got|do (?:we|you) have)\s+(?:something|anything|an equivalent|one)\s+like\s+"
        r"(?:an?\s+|the\s+)?(?P<term>" + _ABBREVIATION + r")\b"
    ),
    # "what are the determinants it refers to": a word of the answer just given
    re.compile(
        r"^\W*(?:(?:and|so|ok)\s+)?what(?:['\u2019]?s|\s+is|\s+are)\s+(?:the|these|those)\s+(?P<term>[\w&.'-]+(?:\s+[\w&.'-]+)?)\s+"
        r"(?:it|that|this|they|you|the guidance)\s+(?:refers?|talks?|mentions?|means?|is on|goes on)\b",
        re.IGNORECASE,
    ),
    # "I need a one-liner on what an RPB actually is for new members": the question inside a sentence
    # (not "is that what the LPC is for?", which asks whether it would help).
    re.compile(
        r"(?<!that )(?<!that's )\bwhat\s+(?:an?|the)\s+(?P<term>[\w&.'-]+(?:\s+[\w&.'-]+)?)\s+(?:actually\s+|really\s+|even\s+)?(?:is|are|means|stands\s+for)\b",
        re.IGNORECASE,
    ),
)
# "and how is that diffrent from the HSCP": the term it is compared with.
DIFFERENT_FROM = re.compile(
    r"\b(?:how|what)(?:['\u2019]?s|\s+is|\s+are|\s+'s)\s+(?:that|it|this|they|that one)\s+diff?e?re?nt\s+(?:from|to|than)\s+"
    r"(?:an?\s+|the\s+)?(?P<term>[\w&.'-]+(?:\s+[\w&.'-]+)?)\W*$",
    re.IGNORECASE,
)
# "someone keeps mentioning the PSB like I should know what it is": one abbreviation, not known.
NOT_KNOWN = re.compile(
    r"\b(?:know|no idea|not sure|don'?t know|dunno|clue)\s+what\s+(?:it|that|this|they|one)\s+(?:is|are|means?|stands?\s+for|does)\b",
    re.IGNORECASE,
)
SENTENCES = re.compile(r"(?<=[.?!])\s+")


def terms_asked_otherwise(text: str) -> list[str]:
    """Terms a message asks about in the forms above (sentence by sentence), best first; [] if none."""
    found: list[str] = []
    sentences = [s for s in SENTENCES.split((text or "").strip()) if s]
    for number, sentence in enumerate(sentences):
        bare = BARE_TERM.match(sentence)
        # "the HSCB? I thought that closed", "economies of scale? in english please": a term asked
        # about first, then a remark on it.
        if bare and (len(sentences) == 1 or number == 0):
            found.append(bare.group("term"))
        # "s115 - what is it and can we use it", "community plan - is that a council thing or a trust thing?"
        dashed = DASHED_TERM.match(sentence)
        if dashed:
            found.append(dashed.group("term"))
        gone = GONE.search(sentence)
        if gone:
            found.append(gone.group("term") or gone.group("gone"))
        fits = WHERE_IT_FITS.match(sentence)
        if fits:
            found.append(fits.group("term"))
        for form in OTHER_FORMS:
            other = form.search(sentence)
            if other:
                found.append(other.group("term").strip())
                # "the same thing as the BCF or different": the term without what follows it
                found.append(other.group("term").split()[0])
        # "what's the HSCP's role in this, is it the NHS or the council?": the first clause asks.
        for part in dict.fromkeys([sentence, CLAUSES.split(sentence)[0]]):
            match = ABOUT_AN_ABBREVIATION.match(part)
            # (Up to a second question in a short sentence: "what's an ICB and do we have to work with
            # them"; in a longer one the second question is what it is about: "what is the CSP actually
            # for and who has to be there" wants the answer on community safety.)
            parts = re.split(r"\s+and\s+", match.group("rest")) if match else [""]
            second_question_wins = len(parts) > 1 and len(part.split()) > SHORT_QUESTION_WORDS
            asked = parts[0]
            if match and not second_question_wins and not DOING.search(asked) and len(asked.split()) <= ABBREVIATION_REST_WORDS:
                if match.group("next"):  # "HSC Trust", else "HSC" and the word is part of the question
                    found.append(match.group("term") + match.group("next"))
                found.append(match.group("term"))
                break
    for sentence in sentences:
        compared = DIFFERENT_FROM.search(sentence)
        if compared:
            found += [compared.group("term"), compared.group("term").split()[0]]
    # "... ICB this ICB that, what actually is it": one abbreviation named, then asked about.
    named = set(ABBREVIATIONS.findall(text or ""))
    if len(named) == 1 and (
        NOT_KNOWN.search(text or "") or any(WHAT_IS_IT.match(clause.strip()) for clause in CLAUSES.split(text or ""))
    ):
        found.append(named.pop())
    return found


# "so ICS and ICB, same thing or not?": two abbreviations, asked whether they are one thing.
PRECISELY = re.compile(r"\s*,\s*(?:precisely|exactly|actually|then|again)\s*,\s*", re.IGNORECASE)
SAME_OR_NOT = re.compile(
    r"\bsame(?:\s+thing)?\s*(?:\?|or\b)|\bor\s+(?:the\s+)?same\b|\bdiff\w*(?:\s+things?)?\s*(?:\?|or\b)", re.IGNORECASE
)


def asked_names(text: str) -> list[str]:
    """The terms a message asks the meaning of, as written ("HWB"), or [] if it asks none."""
    text = PRECISELY.sub(" ", text or "")  # "What, precisely, is a Community Planning Partnership?"
    bodies = list(dict.fromkeys(ABBREVIATIONS.findall(text or "")))
    if len(bodies) == 2 and SAME_OR_NOT.search(text or "") and len((text or "").split()) <= SHORT_QUESTION_WORDS:
        return [" and ".join(bodies), *bodies]
    # ...sentence by sentence: "what is the difference between an outcome and an output? Our councils mix them up.",
    # and in any clause: "what's the difference between an output and an outcome, the ICB keeps on about it",
    # "also quick one - output versus outcome, what's the difference"
    difference = next(
        (
            m
            for sentence in SENTENCES.split((text or "").strip())
            for part in dict.fromkeys([sentence, *CLAUSES.split(sentence)])
            if (m := DIFFERENCE.search(part) or VERSUS.search(part) or COUNTS_AS_WHICH.search(part))
        ),
        None,
    )
    if difference:
        a, b = (
            (difference.group("a"), difference.group("b"))
            if difference.group("a")
            else (difference.group("a2"), difference.group("b2"))
        )
        return [f"{a} and {b}", a, b]
    after = MEANING_AFTER.match(text or "")
    if after:
        return [after.group("term")]
    # "and the HWB? it was on an agenda", "and NCVO, is that different": the first clause alone too.
    elliptical = ELLIPTICAL.match(text or "") or ELLIPTICAL.match(CLAUSES.split((text or "").strip())[0])
    if elliptical:
        return [elliptical.group("term")]
    for clause in CLAUSES.split(text or ""):
        match = TERM_QUESTION.match(clause.strip())
        if match:
            term = next(g for g in match.groups() if g).strip()
            term = re.sub(
                r"^(?:the\s+)?meaning\s+of\s+(?:an?\s+|the\s+)?", "", term, flags=re.IGNORECASE
            )  # "what is the meaning of X"
            # "whats the caldicott thing people keep going on about": the name before "thing".
            named = re.sub(r"\s+(?:thing|stuff|business)\b.*$", "", term, flags=re.IGNORECASE)
            # "what even is a PCN and why would a tiny charity care": the term before a second question.
            head = SECOND_QUESTION.split(term)[0]
            others = [part for part in BOTH.split(term) if part and part != term] + [n for n in (named, head) if n != term]
            return [term] + list(dict.fromkeys(others))
    return []


def entry_named(knowledge: Knowledge, name: str) -> GlossaryView | None:
    """The entry whose term or alias is `name`, whatever its case (or a plural of it)."""
    wanted = re.sub(r"\s+", " ", name.strip(" ?!.\"'\u201c\u201d").lower())
    wanted = re.sub(r"^(?:an?|the)\s+", "", wanted)
    # "community planning in NI": the term, wherever it is asked about
    wanted = re.sub(r"\s+(?:in|for|up in|over in|down in)\s+(?:ni|northern ireland|scotland|wales|england|the uk)$", "", wanted)
    for candidate in (wanted, wanted[:-1] if len(wanted) >= 4 and wanted.endswith("s") else None):
        for entry in knowledge.glossary if candidate else ():
            if any(candidate == n.lower() for n in entry.names):
                return entry
    return None


def mentioned_entries(knowledge: Knowledge, text: str) -> list[GlossaryView]:
    """Glossary entries whose term or an alias the message uses anywhere, as whole words
    ("sorry if this is a daft question but what's a DPIA?", "what counts as quorate? that word's in
    there"); an abbreviation only in capitals, so "isa" in a sentence is not the ISA."""
    found = []
    for entry in knowledge.glossary:
        for name in entry.names:
            abbreviation = " " not in name and sum(c.isupper() for c in name) >= 2
            pattern = rf"(?<![\w-]){re.escape(name)}(?![\w-])"
            if re.search(pattern, text or "", 0 if abbreviation else re.IGNORECASE):
                found.append(entry)
                break
    return found


# A question about what a named term is, in words the term questions above do not cover: "can you
# explain PSB for a new colleague", "how do I explain PCN to my team in a sentence", "what part does
# the PHA play in something like this?".
ABOUT_A_TERM = re.compile(
    r"\bexplain\b|\bdefine\b|\bmean(?:s|ing|t)?\b|\bstand(?:s)? for\b|\bin (?:plain )?english\b|\bin (?:normal|plain|simple|everyday) (?:words|terms|language)\b"
    r"|\bspell (?:it|that|this) out\b"
    r"|\bin (?:a|one) (?:sentence|line)\b|\bwhat (?:part|role) does\b|\bwhat (?:is|are|'s|s) (?:an? |the )?\W?\w+\W?\W*$",
    re.IGNORECASE,
)
# ...but not a practical errand about a body: "what's the PCN's phone number" (declined, whatever
# form the question takes).
ABOUT_ITS_DETAILS = re.compile(
    r"\b(?:phone|telephone|(?:e-?mail )?address|post ?code|website|opening (?:hours|times)|directions|parking|weather)\b"
    r"|\bbook (?:a|the|me)\b",
    re.IGNORECASE,
)
TERM_QUESTION_WORDS = 20


def term_asked_about(knowledge: Knowledge, text: str) -> GlossaryView | None:
    """The one glossary term a short question asks about in one of those forms; None otherwise."""
    if (
        len((text or "").split()) > TERM_QUESTION_WORDS
        or not ABOUT_A_TERM.search(text or "")
        or ABOUT_ITS_DETAILS.search(text or "")
    ):
        return None
    named = list(dict.fromkeys(mentioned_entries(knowledge, text)))
    return named[0] if len(named) == 1 else None


# "who in our org should I ask about a specific case", "is there someone in my own organisation I
# should run all this past?": after an answer that sends them to someone in their own organisation.
WHO_INSIDE = re.compile(
    r"\b(?:who|whom|someone|somebody|anyone|anybody|person)\b[^.?!]*?"
    r"(?:\b(?:in|at|within|inside)\s+(?:my|our|the)\s+(?:own\s+)?(?:org|organi[sz]ation|school|council|practice|pharmacy|trust|service|charity|force)\b"
    r"|\b(?:in|at) (?:school|work)\b|\binternally\b|\bin[- ]house\b)"
    r"|\b(?:in|at|within)\s+(?:my|our)\s+(?:own\s+)?(?:org|organi[sz]ation|school|council|practice|pharmacy|trust|charity)\b[^.?!]*\bwho\b"
    # ...or only who to check with, nothing more: "who do I check with"
    r"|^\W*(?:(?:and|so|ok|right)\W+)?who\s+(?:do|should|can|would)\s+i\s+(?:check|ask|speak|talk|run it past|go)\b(?:\s+(?:with|to))?\W*$",
    re.IGNORECASE,
)
YOUR_ORGANISATIONS = re.compile(r"\byour (?:own )?organisation'?s\s+((?:[a-z]+\s?){1,4})", re.IGNORECASE)


def asks_who_inside(text: str) -> bool:
    return bool(WHO_INSIDE.search(text or ""))


def role_asked_for(knowledge: Knowledge, tracker: Tracker) -> list[GlossaryView]:
    """Asked who to go to in their own organisation, right after an answer that names that person
    ("ask your organisation's data protection officer"): that person's glossary entry, if any."""
    focus = tracker.get_slot("focus")
    if not focus or not asks_who_inside(tracker.latest_message.get("text") or ""):
        return []
    item = resolve(knowledge, focus)
    said = " ".join(str(getattr(item, field, "") or "") for field in ("answer", "text"))
    for match in YOUR_ORGANISATIONS.finditer(said):
        words = match.group(1).split()
        for n in range(len(words), 0, -1):
            entry = entry_named(knowledge, " ".join(words[:n]))
            if entry is not None:
                return [entry]
    return []


def asked_entries(knowledge: Knowledge, text: str) -> list[GlossaryView]:
    """Glossary entries a term question asks about: the whole term, else each of two named."""
    names = asked_names(text)
    whole = entry_named(knowledge, names[0]) if names else None
    if whole is not None:
        return [whole]
    found = [e for e in (entry_named(knowledge, n) for n in names[1:]) if e is not None]
    if found and len(found) == len(names) - 1:
        return list(dict.fromkeys(found))[:2]
    if found and VERSUS.search(text or ""):
        return found[:1]  # "the HSCP vs the NHS board": the one the glossary knows
    entry = next((e for e in (entry_named(knowledge, t) for t in terms_asked_otherwise(text)) if e is not None), None)
    if entry is None and any(WHAT_IS_IT.match(clause.strip()) for clause in CLAUSES.split(text or "")):
        # "we sit under a Community Planning Partnership, what is that exactly": the one term it names.
        named = list(dict.fromkeys(mentioned_entries(knowledge, text)))
        entry = named[0] if len(named) == 1 else None
    return [entry] if entry is not None else []


def label(entry: GlossaryView) -> str:
    """ "HWB (Health and Wellbeing Board)": an abbreviation is shown with its long form."""
    abbreviation = " " not in entry.term and sum(c.isupper() for c in entry.term) >= 2
    long_form = next((a for a in entry.aliases if " " in a and len(a) > len(entry.term)), None)
    return f"{entry.term} ({long_form})" if abbreviation and long_form else entry.term


def definition_reply(entries: list[GlossaryView]) -> str:
    return "\n".join(f"{label(e)}: {e.definition}" for e in entries)


def related_items(knowledge: Knowledge, entries: list[GlossaryView]) -> dict[str, Item]:
    """The practice questions or advice items the entries offer as "more", by focus key."""
    keys = [f"practice:{e.related}" if e.related in knowledge.practice else f"advice:{e.related}" for e in entries if e.related]
    return {key: item for key in dict.fromkeys(keys) if (item := resolve(knowledge, key)) is not None}


def answer_term(
    dispatcher: CollectingDispatcher, knowledge: Knowledge, entries: list[GlossaryView], tracker: Tracker
) -> list[EventType]:
    """The definition in one short message, with a button to the related answer. An aside: the
    item in focus stays in focus; the buttons pick from last_options like any other choice. With
    nothing in focus, the one related answer comes into focus, so "how do we find out what ours
    says" after "what's a scheme of delegation" is about schemes of delegation."""
    related = related_items(knowledge, entries)
    buttons = [
        {"title": item.title, "payload": f'/choose_item{{"option": "{n}"}}'} for n, item in enumerate(related.values(), start=1)
    ]
    dispatcher.utter_message(text=definition_reply(entries), buttons=buttons)
    events: list[EventType] = [SlotSet("last_options", list(related))] if related else []
    if len(related) == 1 and not tracker.get_slot("focus"):
        events.append(SlotSet("focus", next(iter(related))))
    return events
