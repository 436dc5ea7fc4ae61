from __future__ import annotations

import signal
import subprocess
import sys
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser


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
        children: list[subprocess.Popen[bytes]] = []
        if settings.REDIS_URL:
            celery = [sys.executable, "-m", "celery", "-A", "config"]
            children.append(subprocess.Popen([*celery, "worker", "-l", "info", "-c", "2"]))
            children.append(
                subprocess.Popen(
                    [
                        *celery,
                        "beat",
                        "-l",
                        "info",
                        "-s",
                        str(settings.BASE_DIR / ".celerybeat-schedule"),
                    ]
                )
            )
            self.stdout.write("Celery worker and beat started on " + settings.REDIS_URL)
        else:
            self.stdout.write("No REDIS_URL: background tasks run in-process.")
        self.stdout.write(
            f"Serving on http://{addrport}/ — console /console/, partner portal /partner/, "
            "self-care /my/, back office /backoffice/, API docs /api/docs/"
        )
        try:
            call_command("runserver", addrport, use_reloader=False)
        finally:
            for child in children:
                child.send_signal(signal.SIGTERM)
            for child in children:
                child.wait(timeout=30)
