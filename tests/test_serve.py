"""`microreview serve`: the newcomer's command starts everything and stops on Ctrl+C."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

import pytest
import requests

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_serve_runs_the_demo_and_delivers_statements_then_stops_on_ctrl_c(tmp_path):
    """The demo LMS answers, a launch's statement reaches the embedded LRS, SIGINT stops it."""
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    env = dict(
        os.environ,
        MICROREVIEW_DATABASE_URL=f"sqlite:///{tmp_path / 'm.db'}",
        MICROREVIEW_HUEY_SQLITE_PATH=str(tmp_path / "huey.db"),
        MICROREVIEW_BASE_URL=base,
        MICROREVIEW_ENV="demo",
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "lti_tool.cli", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(100):
            try:
                if requests.get(base + "/health", timeout=1).status_code == 200:
                    break
            except requests.ConnectionError:
                time.sleep(0.2)
        browser = requests.Session()
        page = browser.get(base + "/demo/launch", params={"user": "demo-learner-1"})
        assert page.status_code == 200 and "Launching Microreview" in page.text
        from tests.lti.lms import form_fields

        landed = browser.post(base + "/lti/launch", data=form_fields(page.text))
        assert landed.status_code == 200 and "/learner/" in landed.url
        status = None
        for _ in range(50):  # the in-process forwarder delivers within seconds
            status = subprocess.run(
                [sys.executable, "-m", "lti_tool.cli", "xapi", "status"],
                env=env,
                capture_output=True,
                text=True,
            ).stdout
            if "outbox empty" in status:
                break
            time.sleep(0.5)
        assert status is not None and "outbox empty" in status
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=20) is not None
    finally:
        if proc.poll() is None:
            proc.kill()
