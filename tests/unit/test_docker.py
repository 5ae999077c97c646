"""The Docker files hold together (no Docker engine here to build them): compose's build points at the
Dockerfile, the entrypoint exists and runs, ports are published on the loopback address only, and no
password is written into them."""

from __future__ import annotations

import os
import re

import yaml

from tests.support import REPO

DOCKER = REPO / "docker"


def compose() -> dict[str, dict[str, dict[str, object]]]:
    loaded = yaml.safe_load((DOCKER / "compose.yaml").read_text())
    assert isinstance(loaded, dict)
    return loaded


def test_compose_builds_the_dockerfile_whose_entrypoint_exists() -> None:
    build = compose()["services"]["platform"]["build"]
    assert isinstance(build, dict)
    context = (DOCKER / str(build["context"])).resolve()
    assert context == REPO
    dockerfile = context / str(build["dockerfile"])
    entrypoint = re.search(r'ENTRYPOINT \["([^"]+)"\]', dockerfile.read_text())
    assert entrypoint is not None
    script = REPO / entrypoint.group(1)
    assert script.is_file() and os.access(script, os.X_OK)


def test_ports_are_published_on_loopback_only_and_no_secret_is_written() -> None:
    services = compose()["services"]
    published = [port for service in services.values() for port in service.get("ports", [])]  # type: ignore[attr-defined]
    assert published and all(str(port).startswith("127.0.0.1:") for port in published)
    text = (DOCKER / "compose.yaml").read_text()
    for password in re.findall(r"PASSWORD: (.*)", text):
        assert password.strip().strip('"').startswith("${"), f"a password in compose.yaml: {password}"
