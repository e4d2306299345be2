"""The command line: init, platforms, deployments, keys; errors are one clear line."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from lti_tool.cli import main
from lti_tool.db import Database
from lti_tool.models import ToolKey


@pytest.fixture
def cli(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("MICROREVIEW_DATABASE_URL", url)
    monkeypatch.setenv("MICROREVIEW_DEMO_PLATFORM", "false")
    runner = CliRunner()

    def run(*args: str):
        return runner.invoke(main, list(args), catch_exceptions=False)

    run.url = url  # type: ignore[attr-defined]
    return run


ADD = [
    "platform",
    "add",
    "--issuer",
    "https://moodle.example",
    "--client-id",
    "abc",
    "--deployment-id",
    "1",
    "--deployment-id",
    "2",
    "--auth-login-url",
    "https://moodle.example/mod/lti/auth.php",
    "--auth-token-url",
    "https://moodle.example/mod/lti/token.php",
    "--key-set-url",
    "https://moodle.example/mod/lti/certs.php",
    "--name",
    "Moodle",
]


def test_init_creates_schema_and_one_key_idempotently(cli):
    """init twice: the schema exists and there is still exactly one signing key."""
    assert cli("init").exit_code == 0
    assert cli("init").exit_code == 0
    db = Database(cli.url)
    with db.session() as s:
        assert len(s.scalars(select(ToolKey)).all()) == 1
    db.engine.dispose()


def test_platform_add_list_approve_remove(cli):
    """A platform added by hand is listed with its deployments, approvable and removable."""
    cli("init")
    assert cli(*ADD).exit_code == 0
    listed = json.loads(cli("platform", "list", "--json").output)
    assert listed[0]["issuer"] == "https://moodle.example"
    assert [d["deployment_id"] for d in listed[0]["deployments"]] == ["1", "2"]
    approve = cli(
        "platform",
        "approve",
        "--issuer",
        "https://moodle.example",
        "--client-id",
        "abc",
        "--deployment-id",
        "3",
    )
    assert approve.exit_code == 0
    assert len(json.loads(cli("platform", "list", "--json").output)[0]["deployments"]) == 3
    assert (
        cli(
            "platform", "remove", "--issuer", "https://moodle.example", "--client-id", "abc"
        ).exit_code
        == 0
    )
    assert "no platforms" in cli("platform", "list").output


def test_platform_errors_are_one_line_and_nonzero(cli):
    """Duplicates, bad URLs and unknown platforms exit non-zero with what to fix."""
    cli("init")
    cli(*ADD)
    dup = cli(*ADD)
    assert dup.exit_code != 0 and "already exists" in dup.output
    bad = cli(*[a if a != "https://moodle.example/mod/lti/certs.php" else "certs.php" for a in ADD])
    assert bad.exit_code != 0 and "--key-set-url must be an absolute" in bad.output
    gone = cli("platform", "remove", "--issuer", "x", "--client-id", "y")
    assert gone.exit_code != 0 and "platform list" in gone.output
    assert len(gone.output.strip().splitlines()) == 1


def test_keys_rotate_and_retire(cli):
    """Rotation adds a signing key; retire unpublishes the old one."""
    cli("init")
    assert "new signing key" in cli("keys", "rotate").output
    assert "retired 1 key(s)" in cli("keys", "retire").output
    db = Database(cli.url)
    with db.session() as s:
        keys = s.scalars(select(ToolKey)).all()
        assert [k.published for k in keys] == [False, True]
    db.engine.dispose()
