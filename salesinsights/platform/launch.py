"""`python -m salesinsights.platform.launch <service>`: prepares the service (the broker's configuration and
storage, Airflow's environment) and becomes it (exec), so that the supervisor signals the service itself.
`... launch airflow <arguments>` runs the Airflow CLI with the platform's configuration."""

from __future__ import annotations

import os
import sys

from salesinsights.platform.airflow_env import airflow_environment
from salesinsights.platform.services import airflow_cli, launch_command
from salesinsights.settings import get_settings


def main(argv: list[str]) -> int:
    if not argv:
        print(
            "usage: python -m salesinsights.platform.launch SERVICE | airflow ARGUMENTS...", file=sys.stderr
        )
        return 2
    settings = get_settings()
    if argv[0] == "airflow":
        command, extra = [airflow_cli(), *argv[1:]], airflow_environment(settings)
    else:
        try:
            command, extra = launch_command(settings, argv[0])
        except KeyError as unknown:
            print(f"error: {unknown.args[0]}", file=sys.stderr)
            return 2
    os.chdir(settings.home)
    os.execvpe(command[0], command, os.environ | extra)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
