"""`microreview xapi ...`: statement delivery, LRS connections and compliance reports."""

from __future__ import annotations

import json
import sys
import threading
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import click

from lti_tool.db import Database
from lti_tool.settings import Settings, load_settings
from xapi.client import LrsConfig

if TYPE_CHECKING:
    from xapi.verify import VerifyReport


def _settings(ctx: click.Context) -> Settings:
    if ctx.obj is None:
        ctx.obj = load_settings()
    return ctx.obj  # type: ignore[no-any-return]


@click.group()
def xapi() -> None:
    """Learning records: delivery to each platform's LRS, LRS settings, reports."""


@xapi.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
@click.pass_context
def status(ctx: click.Context, as_json: bool) -> None:
    """Queue depth, oldest pending, dead letters and last error per LRS."""
    from xapi.outbox import queue_stats

    db = Database(_settings(ctx).database_url)
    with db.session() as session:
        stats = queue_stats(session)
    db.engine.dispose()
    rows = [
        {
            "lrs": s.lrs_key,
            "pending": s.pending,
            "dead": s.dead,
            "oldest_pending": s.oldest_pending.isoformat() if s.oldest_pending else None,
            "last_error": s.last_error,
        }
        for s in stats
    ]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
    elif not any(row["pending"] or row["dead"] for row in rows):
        click.echo("outbox empty: every statement has been delivered")
        return
    for row in rows if not as_json else []:
        click.echo(
            f"{row['lrs']}: {row['pending']} pending (oldest {row['oldest_pending'] or '-'}), "
            f"{row['dead']} dead"
            + (f"; last error: {row['last_error']}" if row["last_error"] else "")
        )


@xapi.command("retry")
@click.option("--dead", is_flag=True, help="Also send dead-lettered statements again.")
@click.pass_context
def retry_cmd(ctx: click.Context, dead: bool) -> None:
    """Make waiting statements due now (and dead letters pending again with --dead)."""
    from xapi.outbox import retry

    db = Database(_settings(ctx).database_url)
    with db.session() as session:
        count = retry(session, dead=dead)
    db.engine.dispose()
    click.echo(f"{count} statement(s) queued for delivery")


@xapi.command("forward")
@click.option("--once", is_flag=True, help="Deliver what is due now, then exit.")
@click.pass_context
def forward(ctx: click.Context, once: bool) -> None:
    """Deliver outbox statements to their LRS (continuously unless --once)."""
    from lti_tool.jobs import run_xapi_forwarding

    settings = _settings(ctx)
    db = Database(settings.database_url)
    try:
        if once:
            report = run_xapi_forwarding(db, settings)
            click.echo(f"{report.handled} statement(s) handled")
            return
        start_forwarder(db, settings, threading.Event()).join()
    finally:
        db.engine.dispose()


def start_forwarder(db: Database, settings: Settings, stop: threading.Event) -> threading.Thread:
    """Run a forwarder in a daemon thread until stop is set."""
    from lti_tool.lrs_connections import ClientPool
    from lti_tool.secret_box import SecretBox
    from lti_tool.statement_signing import forwarder_signer
    from xapi.outbox import Forwarder

    pool = ClientPool(
        db.sessions, SecretBox(settings.secret_key), settings.base_url, settings.http_timeout
    )
    forwarder = Forwarder(
        db.sessions,
        pool,
        batch_size=settings.xapi_batch_size,
        signer=forwarder_signer(settings, db.sessions),
    )
    thread = threading.Thread(
        target=forwarder.run,
        args=(stop,),
        kwargs={"idle_seconds": 2.0},
        name="xapi-forwarder",
        daemon=True,
    )
    thread.start()
    return thread


@xapi.group("lrs")
def lrs() -> None:
    """Where a platform's statements go (the embedded LRS unless set)."""


def _platform_options(fn):  # type: ignore[no-untyped-def]
    fn = click.option("--client-id", required=True, help="The platform's client id.")(fn)
    return click.option("--issuer", required=True, help="The platform's issuer.")(fn)


@lrs.command("set")
@_platform_options
@click.option("--endpoint", required=True, help="The LRS's xAPI endpoint URL.")
@click.option(
    "--auth",
    type=click.Choice(["basic", "oauth2"]),
    default="basic",
    show_default=True,
    help="How to authenticate.",
)
@click.option("--username", required=True, help="Basic key, or OAuth2 client id.")
@click.option(
    "--secret",
    required=True,
    envvar="MICROREVIEW_LRS_SECRET",
    help="Basic secret or OAuth2 client secret (or MICROREVIEW_LRS_SECRET).",
)
@click.option("--token-url", default="", help="OAuth2 token endpoint (with --auth oauth2).")
@click.option(
    "--version",
    "version",
    type=click.Choice(["1.0.3", "2.0.0"]),
    default="1.0.3",
    show_default=True,
    help="xAPI version to send.",
)
@click.pass_context
def lrs_set(
    ctx: click.Context,
    issuer: str,
    client_id: str,
    endpoint: str,
    auth: str,
    username: str,
    secret: str,
    token_url: str,
    version: str,
) -> None:
    """Send a platform's statements to an external LRS (credentials are stored encrypted)."""
    from lti_tool.lrs_connections import set_external
    from lti_tool.platforms import find_platform
    from lti_tool.secret_box import SecretBox

    settings = _settings(ctx)
    db = Database(settings.database_url)
    with db.session() as session:
        platform = find_platform(session, issuer, client_id)
        set_external(
            session,
            platform,
            SecretBox(settings.secret_key),
            endpoint=endpoint,
            auth=auth,
            username=username,
            secret=secret,
            token_url=token_url,
            version=version,
        )
    db.engine.dispose()
    click.echo(f"statements of {issuer} ({client_id}) now go to {endpoint}")


@lrs.command("embedded")
@_platform_options
@click.pass_context
def lrs_embedded(ctx: click.Context, issuer: str, client_id: str) -> None:
    """Send a platform's statements to the embedded LRS again."""
    from lti_tool.lrs_connections import set_embedded
    from lti_tool.platforms import find_platform
    from lti_tool.secret_box import SecretBox

    settings = _settings(ctx)
    db = Database(settings.database_url)
    with db.session() as session:
        set_embedded(
            session, find_platform(session, issuer, client_id), SecretBox(settings.secret_key)
        )
    db.engine.dispose()
    click.echo("statements now go to the embedded LRS (new credentials: see `xapi lrs show`)")


def _platform_lrs(settings: Settings, issuer: str, client_id: str) -> tuple[str, LrsConfig]:
    """A platform's LRS mode and how to reach it (embedded credentials created on first use)."""
    from lti_tool.lrs_connections import connection, lrs_config
    from lti_tool.platforms import find_platform
    from lti_tool.secret_box import SecretBox

    box = SecretBox(settings.secret_key)
    db = Database(settings.database_url)
    try:
        with db.session() as session:
            row = connection(session, find_platform(session, issuer, client_id).id, box)
            return row.mode, lrs_config(row, settings.base_url, box, settings.http_timeout)
    finally:
        db.engine.dispose()


@lrs.command("show")
@_platform_options
@click.option("--reveal", is_flag=True, help="Also print the secret (for a compliance team).")
@click.pass_context
def lrs_show(ctx: click.Context, issuer: str, client_id: str, reveal: bool) -> None:
    """Print a platform's LRS endpoint and credentials."""
    from xapi.client import BasicCredentials

    mode, config = _platform_lrs(_settings(ctx), issuer, client_id)
    creds = config.credentials
    click.echo(f"mode: {mode}\nendpoint: {config.endpoint}\nversion: {config.version}")
    if isinstance(creds, BasicCredentials):
        click.echo(f"username: {creds.username}")
        click.echo(f"password: {creds.password if reveal else '(hidden; add --reveal)'}")


@lrs.command("test")
@_platform_options
@click.pass_context
def lrs_test(ctx: click.Context, issuer: str, client_id: str) -> None:
    """Check a platform's LRS: About, write a test statement, read it back."""
    from lti_tool.lrs_connections import test_connection
    from xapi.exceptions import LrsError

    _, config = _platform_lrs(_settings(ctx), issuer, client_id)
    try:
        for step in test_connection(config):
            click.echo(f"ok  {step}")
    except LrsError as exc:
        click.echo(f"FAILED: {exc}", err=True)
        sys.exit(1)


@xapi.command("report")
@click.option("--issuer", required=True, help="The platform's issuer.")
@click.option(
    "--client-id", default="", help="The platform's client id (if the issuer has several)."
)
@click.option("--context-id", required=True, help="The course's LTI context id.")
@click.option("--since", default=None, help="Only statements stored since this ISO 8601 time.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["csv", "json"]),
    default="csv",
    show_default=True,
    help="Output format.",
)
@click.option("--all-units", is_flag=True, help="Every unit, not only the critical ones.")
@click.pass_context
def report(
    ctx: click.Context,
    issuer: str,
    client_id: str,
    context_id: str,
    since: str | None,
    fmt: str,
    all_units: bool,
) -> None:
    """Per learner and critical unit, from the LRS: answered, mastered, success, retention."""
    from sqlalchemy import select

    from lti_tool.db import utcnow
    from lti_tool.exceptions import PlatformError
    from lti_tool.lrs_connections import connection, lrs_config
    from lti_tool.models import Platform
    from lti_tool.platforms import find_course
    from lti_tool.reports.compliance import build_report, render
    from lti_tool.secret_box import SecretBox
    from xapi.client import LrsClient
    from xapi.vocabulary import ActivityKind, Vocabulary

    settings = _settings(ctx)
    box = SecretBox(settings.secret_key)
    db = Database(settings.database_url)
    with db.session() as session:
        query = select(Platform).where(Platform.issuer == issuer)
        if client_id:
            query = query.where(Platform.client_id == client_id)
        platforms = session.scalars(query).all()
        if len(platforms) != 1:
            raise PlatformError(
                f"{len(platforms)} platforms match issuer {issuer!r}"
                + ("; add --client-id" if platforms else "; see `microreview platform list`")
            )
        course = find_course(session, platforms[0].id, context_id)
        config = lrs_config(
            connection(session, platforms[0].id, box), settings.base_url, box, settings.http_timeout
        )
        course_iri = Vocabulary(settings.base_url).activity(ActivityKind.COURSE, str(course.id))
    db.engine.dispose()
    filters: dict[str, object] = {"activity": course_iri, "related_activities": True}
    if since:
        filters["since"] = since
    with LrsClient(config) as client:
        statements = list(client.iter_statements(**filters))
    rows = build_report(
        statements, Vocabulary(settings.base_url), utcnow(), critical_only=not all_units
    )
    click.echo(render(rows, fmt), nl=False)


def _moment(value: str | None, name: str) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as exc:
        raise click.BadParameter(f"{value!r} is not an ISO 8601 time", param_hint=name) from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@xapi.command("verify")
@click.option("--issuer", default="", help="Only this platform's LRS (default: every platform).")
@click.option("--client-id", default="", help="The platform's client id (with --issuer).")
@click.option("--context-id", default="", help="Only this course's statements (needs --issuer).")
@click.option("--since", default=None, help="Only statements stored since this ISO 8601 time.")
@click.option("--until", default=None, help="Only statements stored up to this ISO 8601 time.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="Output format.",
)
@click.option("--require-signed", is_flag=True, help="Fail when any statement is unsigned.")
@click.pass_context
def verify(
    ctx: click.Context,
    issuer: str,
    client_id: str,
    context_id: str,
    since: str | None,
    until: str | None,
    fmt: str,
    require_signed: bool,
) -> None:
    """Check the signatures of the statements in the LRS with the tool's keys (exit 1 if any
    is invalid, or unsigned with --require-signed)."""
    from lti_tool.statement_signing import verification_jwks, verify_targets
    from xapi.client import LrsClient
    from xapi.exceptions import LrsError
    from xapi.verify import (
        VerifyReport,
        public_keys,
        statements_with_attachments,
        verify_statement,
    )

    settings = _settings(ctx)
    bounds = {"since": _moment(since, "--since"), "until": _moment(until, "--until")}
    db = Database(settings.database_url)
    try:
        with db.session() as session:
            targets = verify_targets(
                session, settings, issuer=issuer, client_id=client_id, context_id=context_id
            )
            keys = public_keys(verification_jwks(session))
    finally:
        db.engine.dispose()
    report = VerifyReport()
    for target in targets:
        try:
            with LrsClient(target.config) as client:
                for statement, attachments in statements_with_attachments(
                    client, **target.filters, **bounds
                ):
                    report.add(verify_statement(statement, attachments, keys))
        except LrsError as exc:
            raise click.ClickException(
                f"cannot read statements from {target.config.endpoint}: {_one_line(exc)}"
            ) from exc
    _print_verification(report, fmt, require_signed)
    if not report.ok(require_signed=require_signed):
        ctx.exit(1)


def _one_line(exc: Exception, limit: int = 300) -> str:
    text = " ".join(str(exc).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _print_verification(report: VerifyReport, fmt: str, require_signed: bool) -> None:
    if fmt == "json":
        click.echo(json.dumps(report.as_dict(), indent=2))
        return
    click.echo(
        f"{report.checked} statement(s) checked: {report.valid} signed and valid, "
        f"{len(report.unsigned)} unsigned, {len(report.invalid)} invalid"
    )
    for verdict in report.invalid:
        click.echo(f"invalid {verdict.statement_id}: {verdict.reason}")
    for statement_id in report.unsigned if require_signed else []:
        click.echo(f"unsigned {statement_id}")
