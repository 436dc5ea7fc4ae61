from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser


def demo_environment(environ: Mapping[str, str]) -> dict[str, str]:
    """The environment the demo's server and workers start with (they read their settings from
    it, as any deployment does): the caller's, except that two-factor sign-in is required of
    nobody unless MFA_REQUIRED_ROLES is set, since the demo's users have no authenticator app."""
    environment = dict(environ)
    environment.setdefault("MFA_REQUIRED_ROLES", "")
    return environment


class Command(BaseCommand):
    help = (
        "Migrate, load the demo operator and serve everything at http://127.0.0.1:8000; with "
        "REDIS_URL set, also run a Celery worker and beat (otherwise tasks run in-process)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--addrport", default="127.0.0.1:8000")
        parser.add_argument("--customers", type=int, default=1000)
        parser.add_argument("--no-demo", action="store_true", help="Skip loading demo data.")

    def handle(self, *args: Any, addrport: str, customers: int, no_demo: bool, **opts: Any) -> None:
        call_command("migrate", interactive=False, verbosity=1)
        if not no_demo:
            call_command("demo_data", customers=customers)
        call_command("collectstatic", interactive=False, verbosity=0)
        environment = demo_environment(os.environ)
        children: list[subprocess.Popen[bytes]] = []
        if settings.REDIS_URL:
            celery = [sys.executable, "-m", "celery", "-A", "config"]
            children.append(
                subprocess.Popen([*celery, "worker", "-l", "info", "-c", "2"], env=environment)
            )
            children.append(
                subprocess.Popen(
                    [
                        *celery,
                        "beat",
                        "-l",
                        "info",
                        "-s",
                        str(settings.BASE_DIR / ".celerybeat-schedule"),
                    ],
                    env=environment,
                )
            )
            self.stdout.write("Celery worker and beat started on " + settings.REDIS_URL)
        else:
            self.stdout.write("No REDIS_URL: background tasks run in-process.")
        self.stdout.write(
            f"Serving on http://{addrport}/ — console /console/, partner portal /partner/, "
            "self-care /my/, back office /backoffice/, API docs /api/docs/"
        )
        if not any(role.strip() for role in environment["MFA_REQUIRED_ROLES"].split(",")):
            self.stdout.write(
                "Two-factor sign-in is not required on this demo; start with "
                "MFA_REQUIRED_ROLES=csr,supervisor,admin to require it of staff."
            )
        # The server runs in a process of its own, so that it reads its settings from the
        # demo's environment at start-up (this process read them before it knew of the demo).
        server = [sys.executable, str(settings.BASE_DIR / "manage.py"), "runserver", addrport]
        try:
            served = subprocess.run([*server, "--noreload"], env=environment, check=False)
            if served.returncode not in (0, -signal.SIGINT):
                raise CommandError(f"The server stopped with exit code {served.returncode}.")
        except KeyboardInterrupt:
            pass
        finally:
            for child in children:
                child.send_signal(signal.SIGTERM)
            for child in children:
                child.wait(timeout=30)
