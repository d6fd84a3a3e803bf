"""Review: triage, deadlines, staff decisions and escalation timers."""
