"""Does a requester's reply to a decision ask for it to be appealed? Pure: no I/O.

Deliberately narrow: only explicit words ("I appeal", "request reconsideration") count;
anything else stays a reply for staff to read, who can still treat it as an appeal.
"""

import re

_APPEAL = re.compile(
    r"\b(?:i|we)\s+(?:would\s+like\s+to\s+|wish\s+to\s+|want\s+to\s+|hereby\s+|do\s+)?appeal\b"
    r"|\bappeal(?:ing)?\s+(?:this|the|your)\s+(?:decision|denial|withholding|redactions?)\b"
    r"|\b(?:request|requesting|ask\s+for)\s+(?:a\s+)?reconsideration\b"
    r"|\bplease\s+reconsider\b",
    re.IGNORECASE,
)


def asks_to_appeal(text: str) -> bool:
    return bool(_APPEAL.search(text))
