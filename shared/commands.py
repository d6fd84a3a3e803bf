"""Typer commands behind `recordsdesk` (everything except the fast `mail` pipe)."""

import asyncio
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
dead_app = typer.Typer(no_args_is_help=True, help="Messages a service gave up on.")
app.add_typer(dead_app, name="deadletters")

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


mail_app = typer.Typer(
    invoke_without_command=True,
    help="Inbound mail: with no command, store one raw message from stdin (the MTA pipe).",
)
app.add_typer(mail_app, name="mail")


@mail_app.callback()
def mail(
    ctx: typer.Context,
    recipient: Annotated[str, typer.Option(help="envelope recipient, as the MTA saw it")] = "",
) -> None:
    """Read one raw RFC 5322 message on stdin and store it (exit 0, or 75 to retry)."""
    if ctx.invoked_subcommand is not None:
        return
    from services.intake.mail_drop import main as mail_main

    raise typer.Exit(mail_main(["--recipient", recipient] if recipient else []))


@mail_app.command("reprocess")
def mail_reprocess(
    mail_id: Annotated[int, typer.Argument(help="the inbound mail's id")],
) -> None:
    """Run a quarantined or held message through the mail room again (after a fix)."""
    from services.intake.mailroom import MailRoom, Outcome
    from shared.runtime import load_resources, open_database

    settings = _settings()

    async def go() -> Outcome | str:
        async with open_database(settings) as (engine, _sessions):
            resources = load_resources(settings, engine)
            mailroom = MailRoom(resources.new_uow, resources.policies, settings.secret_key)
            return await mailroom.reprocess(mail_id)

    result = asyncio.run(go())
    if isinstance(result, str):
        typer.echo(f"recordsdesk mail reprocess: {result}", err=True)
        raise typer.Exit(1)
    where = f" ({result.ref})" if result.ref else ""
    typer.echo(f"inbound mail {mail_id}: {result.status}{where}: {result.reason}")


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


address_app = typer.Typer(no_args_is_help=True, help="Email addresses notify holds back.")
app.add_typer(address_app, name="address")


@address_app.command("clear")
def address_clear(
    address: Annotated[str, typer.Argument(help="the address to mail again")],
) -> None:
    """Let an address marked undeliverable (after a 5xx or a bounce) be mailed again."""
    from services.notify.addresses import clear
    from shared.clock import SystemClock
    from shared.runtime import open_database
    from shared.unit_of_work import UnitOfWork

    settings = _settings()

    async def go() -> int:
        async with (
            open_database(settings) as (_engine, sessions),
            UnitOfWork(sessions, SystemClock()) as uow,
        ):
            cleared = await clear(uow, address)
            await uow.commit()
        return cleared

    if asyncio.run(go()):
        typer.echo(f"{address}: cleared; it will be mailed again")
    else:
        typer.echo(f"{address}: was not marked undeliverable")


catalog_app = typer.Typer(no_args_is_help=True, help="Published-data catalogs (DCAT-US data.json).")
app.add_typer(catalog_app, name="catalog")


@catalog_app.command("import")
def catalog_import(
    source: Annotated[str, typer.Argument(help="a data.json file, or an http(s) URL of one")],
    jurisdiction: Annotated[str, typer.Option(help="policy id, e.g. worcester-ma")],
) -> None:
    """Load a DCAT-US 1.1 catalog; it replaces the jurisdiction's datasets."""
    from services.intake.catalog import CatalogError, ImportReport, import_catalog
    from shared.clock import SystemClock
    from shared.policy import PolicyBook, PolicyError
    from shared.runtime import open_database
    from shared.unit_of_work import UnitOfWork

    settings = _settings()
    try:
        known = PolicyBook.load(settings.policy_dir).ids
    except PolicyError as exc:
        typer.echo(f"recordsdesk: policy error:\n{exc}", err=True)
        raise typer.Exit(2) from exc
    if jurisdiction not in known:
        raise typer.BadParameter(
            f"unknown jurisdiction; one of {', '.join(known)}", param_hint="--jurisdiction"
        )

    async def go() -> ImportReport:
        async with open_database(settings) as (_engine, sessions):
            return await import_catalog(
                lambda: UnitOfWork(sessions, SystemClock()), jurisdiction, source
            )

    try:
        report = asyncio.run(go())
    except CatalogError as exc:
        typer.echo(f"recordsdesk: catalog not imported, nothing changed: {exc}", err=True)
        raise typer.Exit(1) from exc
    for problem in report.problems:
        typer.echo(f"skipped {problem}", err=True)
    typer.echo(
        f"{report.jurisdiction}: imported {report.imported} dataset(s), replacing"
        f" {report.replaced}; {report.not_public} not public, {len(report.problems)} skipped"
    )


@dead_app.command("list")
def deadletters_list(
    service: Annotated[str, typer.Argument(help="review or notify")],
    limit: Annotated[int, typer.Option(help="how many to show")] = 20,
) -> None:
    """Show how many messages the service parked, and the first few (they stay parked)."""
    from shared.dead_letters import peek
    from shared.topology import Topology

    settings = _settings()
    total, parked = asyncio.run(
        peek(settings.amqp_url, Topology.from_settings(settings), service, limit)
    )
    typer.echo(f"{total} message(s) parked for {service}")
    for message in parked:
        typer.echo(
            f"  {message.message_id}  {message.type}  {message.routing_key}  {message.reason}"
        )


@dead_app.command("replay")
def deadletters_replay(
    service: Annotated[str, typer.Argument(help="review or notify")],
    limit: Annotated[int | None, typer.Option(help="at most this many")] = None,
) -> None:
    """After fixing the cause: hand the parked messages to the service again."""
    from shared.dead_letters import replay
    from shared.topology import Topology

    settings = _settings()
    moved = asyncio.run(replay(settings.amqp_url, Topology.from_settings(settings), service, limit))
    typer.echo(f"replayed {moved} message(s) to {service}")
