"""A real Celery worker for the tests that upload a file and watch it being processed: started
as `celery -A config worker` in a subprocess on the tests' Redis (REDIS_URL), reading and
writing the test database. Use it with `django_db(transaction=True)` so the worker sees what
the test wrote, and mark the test `celery`."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

ROOT = Path(__file__).resolve().parents[3]
CELERY = Path(sys.executable).with_name("celery")
READY_SECONDS = 60


def _database_url(settings_dict: dict[str, Any]) -> str:
    user = quote(settings_dict.get("USER") or "")
    password = settings_dict.get("PASSWORD") or ""
    credentials = f"{user}:{quote(password)}@" if password else (f"{user}@" if user else "")
    host = settings_dict.get("HOST") or "127.0.0.1"
    port = settings_dict.get("PORT") or 5432
    return f"postgres://{credentials}{host}:{port}/{settings_dict['NAME']}"


@pytest.fixture
def celery_worker(settings: Any, tmp_path: Path) -> Iterator[None]:
    """One worker (solo pool) for the test, on the queue this process sends to; stopped after."""
    from django.db import connection

    from config.celery import app

    broker = settings.CELERY_BROKER_URL
    if not broker.startswith("redis://"):
        pytest.skip("a real Celery worker needs REDIS_URL")
    app.control.purge()  # nothing queued by an earlier run reaches this test's database
    env = {
        **os.environ,
        "REDIS_URL": broker,
        "DATABASE_URL": _database_url(connection.settings_dict),
        "USAGE_TARIFF_RESOLVER": settings.USAGE_TARIFF_RESOLVER,
        "OPERATOR_TIME_ZONE": settings.TIME_ZONE,
        "DJANGO_SETTINGS_MODULE": "config.settings",
    }
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    log = (tmp_path / "celery-worker.log").open("w")
    worker = subprocess.Popen(
        [str(CELERY), "-A", "config", "worker", "--pool", "solo", "--loglevel", "info",
         "--without-gossip", "--without-mingle", "--without-heartbeat",
         "--hostname", f"usage-test-{os.getpid()}@%h"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + READY_SECONDS
        while "ready" not in (tmp_path / "celery-worker.log").read_text():
            if worker.poll() is not None or time.monotonic() > deadline:
                pytest.fail("the Celery worker did not start:\n" + _log(tmp_path))
            time.sleep(0.2)
        yield
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
        log.close()


def _log(tmp_path: Path) -> str:
    return (tmp_path / "celery-worker.log").read_text()[-4000:]


def wait_until(check: Callable[[], bool], *, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"not done within {seconds} s")
        time.sleep(0.25)
