"""The `microreview` command line: database, server, platforms, keys, grades."""

from __future__ import annotations

import json
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import click
from sqlalchemy.orm import Session

from lti_tool.db import Database, utcnow
from lti_tool.exceptions import MicroreviewError
from lti_tool.settings import Settings, load_settings


@contextmanager
def _session(settings: Settings) -> Iterator[Session]:
    db = Database(settings.database_url)
    try:
        with db.session() as session:
            yield session
    finally:
        db.engine.dispose()


class _Group(click.Group):
    """Turns the tool's own errors into a one-line message and a non-zero exit."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except MicroreviewError as exc:
            raise click.ClickException(str(exc)) from exc


@click.group(cls=_Group)
@click.pass_context
def main(ctx: click.Context) -> None:
    """Microreview: spaced micro-reviews for LTI 1.3 platforms (Moodle, Canvas, ...)."""
    ctx.obj = None


def _settings(ctx: click.Context) -> Settings:
    if ctx.obj is None:
        ctx.obj = load_settings()
    return ctx.obj  # type: ignore[no-any-return]


@main.command()
@click.pass_context
def init(ctx: click.Context) -> None:
    """Create or upgrade the database and create a signing key if none exists."""
    from lti_tool import migrations
    from lti_tool.lti.keys import ensure_key

    settings = _settings(ctx)
    migrations.upgrade(settings.database_url)
    with _session(settings) as session:
        key = ensure_key(session)
        if settings.demo_enabled:
            from lti_tool.demo.platform import DemoPlatform
            from lti_tool.demo.sample_course import seed_sample_course

            seed_sample_course(session, DemoPlatform(settings.base_url).ensure_registered(session))
    click.echo(f"database ready at {settings.database_url.split('@')[-1]}; signing key {key.kid}")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", default=5000, show_default=True, type=int, help="Port to listen on.")
@click.pass_context
def serve(ctx: click.Context, host: str, port: int) -> None:
    """Run the web app (development and demo; use gunicorn lti_tool.wsgi:app in production)."""
    from werkzeug.serving import run_simple

    from lti_tool import create_app

    settings = _settings(ctx)
    ctx.invoke(init)
    app = create_app(settings)
    consumer = None
    if not settings.redis_url:
        # One machine, no Redis: run the background jobs (imports, reminders, grades, xAPI
        # delivery) in this process so `serve` is all a newcomer needs.
        from lti_tool.jobs import default_jobs

        consumer = default_jobs().huey.create_consumer(workers=2, periodic=True)
        handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
        consumer.start()
        for sig, handler in handlers.items():  # Ctrl+C must stop the server, not just the jobs
            signal.signal(sig, handler)
        from lti_tool.cli_xapi import start_forwarder

        start_forwarder(Database(settings.database_url), settings, threading.Event())
        click.echo("background jobs and xAPI delivery: running in this process")
    if settings.demo_enabled:
        click.echo(f"Demo LMS: {settings.base_url.rstrip('/')}/demo/")
    try:
        run_simple(host, port, app, threaded=True, use_reloader=False)
    finally:
        if consumer is not None:
            consumer.stop(graceful=False)


@main.group()
def platform() -> None:
    """Register LMS platforms by hand and manage their deployments."""


@platform.command("add")
@click.option(
    "--issuer", required=True, help="The platform's issuer (iss), exactly as it sends it."
)
@click.option("--client-id", required=True, help="The client id the platform gave the tool.")
@click.option(
    "--deployment-id",
    "deployment_ids",
    multiple=True,
    required=True,
    help="A deployment id (repeat for several).",
)
@click.option("--auth-login-url", required=True, help="The platform's OIDC authorization URL.")
@click.option("--auth-token-url", required=True, help="The platform's OAuth2 token URL.")
@click.option("--key-set-url", required=True, help="The platform's public JWKS URL.")
@click.option("--name", default="", help="A display name for the platform.")
@click.pass_context
def platform_add(
    ctx: click.Context,
    issuer: str,
    client_id: str,
    deployment_ids: tuple[str, ...],
    auth_login_url: str,
    auth_token_url: str,
    key_set_url: str,
    name: str,
) -> None:
    """Register a platform and its deployments."""
    from lti_tool.platforms import add_platform

    with _session(_settings(ctx)) as session:
        row = add_platform(
            session,
            issuer,
            client_id,
            list(deployment_ids),
            auth_login_url,
            auth_token_url,
            key_set_url,
            name,
            allow_http=_settings(ctx).allow_http_platforms,
        )
        click.echo(
            f"platform {row.id} added: {issuer} client {client_id}, "
            f"{len(deployment_ids)} deployment(s)"
        )


@platform.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.pass_context
def platform_list(ctx: click.Context, as_json: bool) -> None:
    """List registered platforms and their deployments."""
    from lti_tool.platforms import describe_platforms

    with _session(_settings(ctx)) as session:
        rows = describe_platforms(session)
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    if not rows:
        click.echo("no platforms registered")
    for row in rows:
        deps = ", ".join(f"{d['deployment_id']} ({d['status']})" for d in row["deployments"])
        click.echo(
            f"{row['id']}  {row['name'] or '-'}  {row['issuer']}  client={row['client_id']}  "
            f"deployments: {deps or 'none'}"
        )


@platform.command("remove")
@click.option("--issuer", required=True, help="The platform's issuer.")
@click.option("--client-id", required=True, help="The platform's client id.")
@click.pass_context
def platform_remove(ctx: click.Context, issuer: str, client_id: str) -> None:
    """Remove a platform, its deployments and all its courses' data."""
    from lti_tool.platforms import remove_platform

    with _session(_settings(ctx)) as session:
        remove_platform(session, issuer, client_id)
    click.echo(f"platform {issuer} client {client_id} removed")


@platform.command("approve")
@click.option("--issuer", required=True, help="The platform's issuer.")
@click.option("--client-id", required=True, help="The platform's client id.")
@click.option("--deployment-id", required=True, help="The pending deployment id to approve.")
@click.pass_context
def platform_approve(ctx: click.Context, issuer: str, client_id: str, deployment_id: str) -> None:
    """Approve a pending deployment so its launches are accepted."""
    from lti_tool.platforms import approve_deployment

    with _session(_settings(ctx)) as session:
        approve_deployment(session, issuer, client_id, deployment_id)
    click.echo(f"deployment {deployment_id} approved")


@main.group()
def keys() -> None:
    """Manage the tool's signing keys."""


@keys.command("rotate")
@click.pass_context
def keys_rotate(ctx: click.Context) -> None:
    """Create a new signing key; the old one stays in the JWKS until `keys retire`."""
    from lti_tool.lti.keys import rotate_key

    with _session(_settings(ctx)) as session:
        key = rotate_key(session)
    click.echo(
        f"new signing key {key.kid}; older keys stay published until `microreview keys retire`"
    )


@keys.command("retire")
@click.pass_context
def keys_retire(ctx: click.Context) -> None:
    """Stop publishing keys that no longer sign."""
    from lti_tool.lti.keys import retire_keys

    with _session(_settings(ctx)) as session:
        kids = retire_keys(session)
    click.echo(f"retired {len(kids)} key(s)")


@main.group()
def grades() -> None:
    """Grade delivery to LMS gradebooks (AGS)."""


@grades.command("sync")
@click.pass_context
def grades_sync(ctx: click.Context) -> None:
    """Send every due score now (the background job does this on its own)."""
    from lti_tool.lti.ags import send_pending_scores
    from lti_tool.runtime import make_http_session

    settings = _settings(ctx)
    with _session(settings) as session:
        sent, failed = send_pending_scores(
            session, make_http_session(), utcnow(), settings.http_timeout
        )
    click.echo(f"{sent} sent, {failed} failed (will retry)")
    if failed:
        sys.exit(1)


@main.group()
def course() -> None:
    """Course material: import a course export for a course of a registered platform."""


@course.command("import")
@click.option("--issuer", required=True, help="The platform's issuer (iss), as registered.")
@click.option(
    "--client-id", default="", help="The platform's client id (if the issuer has several)."
)
@click.option(
    "--context-id", required=True, help="The course's context id on that platform (created if new)."
)
@click.argument("file", type=click.Path(exists=True))
@click.pass_context
def course_import(
    ctx: click.Context, issuer: str, client_id: str, context_id: str, file: str
) -> None:
    """Import FILE (an export file or unpacked folder) now and print a JSON summary."""
    from pathlib import Path

    from lti_tool.course_content import ensure_context
    from lti_tool.course_import import ImportStatus, create_import, run_import

    settings = _settings(ctx)
    db = Database(settings.database_url)
    try:
        with db.session() as session:
            context = ensure_context(session, issuer, client_id, context_id)
            import_id = create_import(session, context, Path(file).resolve()).id
        row = run_import(db, settings, import_id)
    finally:
        db.engine.dispose()
    if row.status != ImportStatus.DONE:
        advice = row.summary.get("error", {}).get("advice", "")
        raise click.ClickException(f"{row.message} {advice}".strip())
    counts = {
        part: {k: v if isinstance(v, int) else len(v) for k, v in row.changes[part].items()}
        for part in ("units", "cards")
    }
    click.echo(json.dumps({"import_id": row.id, **row.summary, "changes": counts}, indent=2))


def _register_subcommands() -> None:
    from lti_tool.cli_xapi import xapi

    main.add_command(xapi)


_register_subcommands()


if __name__ == "__main__":
    main()
