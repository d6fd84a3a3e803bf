"""The named checks a stored message passes through, one small module per concern.

Each check is pure (no I/O): it looks at the parsed mail (and what the caller looked up)
and says what it found. The order they run in is written down once, in
`services.intake.mailroom.MailRoom._route`.
"""
