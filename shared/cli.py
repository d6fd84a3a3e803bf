"""The `recordsdesk` command line.

`recordsdesk mail` (the MTA pipe) is dispatched before anything heavy is imported, so the
mail server's per-message process starts fast.
"""

import sys


def main() -> None:
    argv = sys.argv[1:]
    piping = argv[:1] == ["mail"] and (len(argv) == 1 or argv[1].startswith("-"))
    if piping and not {"-h", "--help"} & set(argv):  # help lists `mail reprocess` too
        from services.intake.mail_drop import main as mail_main

        sys.exit(mail_main(argv[1:]))
    from shared.commands import app

    app()
