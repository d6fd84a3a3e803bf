"""What a reply that matched a request becomes. Pure: no I/O.

Only the requester can move a request along (answer a clarification, accept or decline
a cost estimate); anybody else who writes into the thread (a colleague on Cc, someone the
requester forwarded our mail to) joins the timeline as a message for staff. A reply to a
request closed longer ago than the policy's reopen window opens a new request linked to
the old one; a later reply joins the timeline for staff to judge.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal

from services.intake.mail_checks.appeal_intent import asks_to_appeal
from services.intake.mail_checks.cost_answer import classify_cost_answer

FollowUpKind = Literal[
    "clarification", "cost_accepted", "cost_declined", "appeal", "reply", "new_linked_request"
]
DECIDED = ("released", "partially_released", "withheld")


@dataclass(frozen=True)
class ThreadState:
    ref: str
    state: str
    requester_email: str
    closed_at: datetime | None
    question_open: bool  # the latest clarification / estimate has no answer yet
    appeal_deadline: date | None = None


@dataclass(frozen=True)
class FollowUp:
    kind: FollowUpKind
    note: str
    late: bool = False  # an appeal after the policy's window


def follow_up_for(
    thread: ThreadState, sender: str, text: str, now: datetime, reopen_within_days: int
) -> FollowUp:
    is_requester = sender.lower() == thread.requester_email.lower()
    if thread.state == "closed":
        closed_at = thread.closed_at or now
        if now - closed_at > timedelta(days=reopen_within_days):
            return FollowUp(
                "new_linked_request",
                f"reply to {thread.ref}, closed more than {reopen_within_days} days ago",
            )
        return FollowUp("reply", f"reply to {thread.ref}, which is closed")
    if not is_requester:
        return FollowUp("reply", f"from {sender}, who is not the requester")
    if thread.state == "awaiting_clarification" and thread.question_open:
        return FollowUp("clarification", "answers the clarification questions")
    if thread.state == "awaiting_cost_acceptance" and thread.question_open:
        answer = classify_cost_answer(text)
        if answer == "accept":
            return FollowUp("cost_accepted", "accepts the cost estimate")
        if answer == "decline":
            return FollowUp("cost_declined", "declines the cost estimate")
        return FollowUp("reply", "answer to the cost estimate is unclear: staff to confirm")
    if thread.state in DECIDED and asks_to_appeal(text):
        deadline = thread.appeal_deadline
        if deadline is not None and now.date() > deadline:
            return FollowUp("appeal", f"appeals after the deadline of {deadline}", late=True)
        return FollowUp("appeal", "appeals the decision")
    return FollowUp("reply", "")
