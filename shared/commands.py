"""Typer commands behind `recordsdesk` (everything except the fast `mail` pipe)."""

import asyncio
import sys
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer

from shared.logging import configure_logging
from shared.settings import Settings

app = typer.Typer(no_args_is_help=True, add_completion=False, help="RecordsDesk back office.")
staff_app = typer.Typer(no_args_is_help=True, help="Staff members and their API tokens.")
policy_app = typer.Typer(no_args_is_help=True, help="Jurisdiction policy files.")
timers_app = typer.Typer(no_args_is_help=True, help="Deadline timers.")
app.add_typer(staff_app, name="staff")
app.add_typer(policy_app, name="policy")
app.add_typer(timers_app, name="timers")

SERVICES = ("intake", "review", "notify", "api")


def _settings() -> Settings:
    settings = Settings()
    configure_logging(settings.log_level)
    return settings


@app.command()
def migrate() -> None:
    """Create the database if needed and bring its schema to the latest version."""
    from shared.db.admin import ensure_database
    from shared.db.migrations import upgrade

    settings = _settings()
    asyncio.run(ensure_database(settings.database_url))
    upgrade(settings.database_url)
    typer.echo("database is at the latest schema")


@app.command()
def run(
    service: Annotated[str, typer.Argument(help="intake, review, notify, api or all")],
) -> None:
    """Run one service, or all of them in one process."""
    if service != "all" and service not in SERVICES:
        raise typer.BadParameter(f"one of {', '.join((*SERVICES, 'all'))}")
    from services.runner import run_services
    from shared.policy import PolicyError

    settings = _settings()
    try:
        asyncio.run(run_services(settings, SERVICES if service == "all" else (service,)))
    except PolicyError as exc:
        typer.echo(f"recordsdesk: policy error, not starting:\n{exc}", err=True)
        raise typer.Exit(2) from exc


@app.command()
def mail() -> None:
    """Read one raw RFC 5322 message on stdin and store it (exit 0, or 75 to retry)."""
    from services.intake.mail_drop import main as mail_main

    raise typer.Exit(mail_main(sys.argv[2:]))


@staff_app.command("add")
def staff_add(
    email: Annotated[str, typer.Option(help="the staff member's email")],
    role: Annotated[str, typer.Option(help="clerk, reviewer, legal, manager, admin or auditor")],
) -> None:
    """Create a staff member and print their API token (shown this once only)."""
    from services.api.auth import add_staff
    from shared.clock import SystemClock
    from shared.runtime import open_database
    from shared.unit_of_work import UnitOfWork

    settings = _settings()

    async def go() -> str:
        async with (
            open_database(settings) as (_engine, sessions),
            UnitOfWork(sessions, SystemClock()) as uow,
        ):
            token = await add_staff(uow, email, role)
            await uow.commit()
        return token

    try:
        token = asyncio.run(go())
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc
    typer.echo(token)


@policy_app.command("check")
def policy_check(files: list[Path]) -> None:
    """Validate policy files; name the file, field and problem of each error."""
    from shared.policy import PolicyError, load_policy

    failed = False
    for path in files:
        try:
            policy = load_policy(path)
            typer.echo(f"{path}: ok ({policy.name})")
        except PolicyError as exc:
            failed = True
            typer.echo(str(exc), err=True)
    raise typer.Exit(1 if failed else 0)


@timers_app.command("fire")
def timers_fire(
    now: Annotated[
        str | None, typer.Option(help="ISO 8601 instant; default: the current time")
    ] = None,
) -> None:
    """Fire every timer due at that instant."""
    from services.runner import fire_timers
    from shared.clock import FixedClock, SystemClock

    settings = _settings()
    clock = FixedClock(datetime.fromisoformat(now)) if now else SystemClock()
    fired = asyncio.run(fire_timers(settings, clock))
    typer.echo(f"fired {fired} timer(s)")


@app.command()
def demo() -> None:
    """Run the whole pipeline on sample requests and print what happened."""
    from services.demo import run_demo

    settings = Settings()
    configure_logging("WARNING")  # the table is the output; logs only when something is wrong
    raise typer.Exit(asyncio.run(run_demo(settings)))
