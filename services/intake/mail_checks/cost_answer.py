"""Does a reply to a cost estimate accept it, decline it, or neither? Pure: no I/O.

Deterministic phrase rules over the newest part of the reply (quoted history trimmed).
Anything mixed, conditional or only a question is "unclear" and goes to staff as a
message: accepting a fee by accident is worse than asking.
"""

import re
from typing import Literal

CostAnswer = Literal["accept", "decline", "unclear"]

_NEGATED_YES = re.compile(
    r"\b(?:not|don'?t|do not|won'?t|will not|cannot|can'?t|no longer|never)\s+"
    r"(?:\w+\s+){0,2}?(?:accept|agree|approve|pay|proceed|go ahead|continue|want)\w*",
)
_DECLINE = re.compile(
    r"\b(?:declin\w*|reject\w*|refuse\w*|withdraw\w*|cancel\w*|no thanks|no,? thank you|"
    r"too (?:expensive|much|high)|can'?t afford|cannot afford|not interested|"
    r"(?:please )?(?:stop|drop) (?:the |my )?request)\b",
)
_ACCEPT = re.compile(
    r"\b(?:i accept|accept(?:ed)?|i agree|agreed|approve[ds]?|go ahead|proceed|"
    r"please (?:continue|start|begin)|sounds good|that'?s fine|fine by me|"
    r"i(?:'ll| will) pay|happy to pay|ok(?:ay)?|yes)\b",
)
_CONDITION = re.compile(
    r"\b(?:if|but|unless|only|reduce|lower|waive\w*|discount|cheaper|less|instead|"
    r"split|partial|part of)\b|\?",
)


def classify_cost_answer(text: str) -> CostAnswer:
    opening = " ".join(text.lower().split())[:600]
    opening = opening.replace("\u2019", "'")
    declined = bool(_NEGATED_YES.search(opening) or _DECLINE.search(opening))
    remainder = _NEGATED_YES.sub(" ", opening)
    accepted = bool(_ACCEPT.search(remainder))
    if declined and not accepted:
        return "decline"
    if accepted and not declined and not _CONDITION.search(remainder):
        return "accept"
    return "unclear"
