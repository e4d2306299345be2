"""What a running app shares between requests: settings, database, HTTP client, token signer."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import requests
from flask import Flask, current_app, g
from sqlalchemy.orm import Session

from lti_tool import log_redaction
from lti_tool.db import Database
from lti_tool.lti.launch_token import LaunchTokens
from lti_tool.lti.login import StateSigner
from lti_tool.secret_box import SecretBox
from lti_tool.settings import Settings

USER_AGENT = "Microreview/0.1 (LTI 1.3 tool)"


@dataclass
class Runtime:
    """The long-lived objects of one app."""

    settings: Settings
    db: Database
    tokens: LaunchTokens
    states: StateSigner
    box: SecretBox
    http: requests.Session


def make_http_session() -> requests.Session:
    """An HTTP session for platform calls; Canvas rejects calls without a User-Agent."""
    http = requests.Session()
    http.headers["User-Agent"] = USER_AGENT
    return http


def init_app(app: Flask, settings: Settings) -> None:
    """Attach a Runtime to the app and close the request's DB session at teardown."""
    logging.basicConfig(level=settings.log_level)
    log_redaction.install()
    app.extensions["microreview"] = Runtime(
        settings=settings,
        db=Database(settings.database_url),
        tokens=LaunchTokens(settings.secret_key, settings.launch_token_ttl),
        states=StateSigner(settings.secret_key, settings.login_state_ttl),
        box=SecretBox(settings.secret_key),
        http=make_http_session(),
    )

    @app.teardown_appcontext
    def _close_session(exc: BaseException | None) -> None:
        session = g.pop("db_session", None)
        if session is not None:
            if exc is not None:
                session.rollback()
            session.close()


def runtime() -> Runtime:
    """The Runtime of the current app (views only; services take what they need as arguments)."""
    return current_app.extensions["microreview"]  # type: ignore[no-any-return]


def db_session() -> Session:
    """The request's database session, opened on first use."""
    if "db_session" not in g:
        g.db_session = runtime().db.sessions()
    return g.db_session  # type: ignore[no-any-return]
