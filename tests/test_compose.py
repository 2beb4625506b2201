"""docker-compose.yml cannot run here (no Docker engine), so check what can be checked."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def variables_the_app_reads() -> set[str]:
    names = set()
    for path in [ROOT / "infra" / "config.py", ROOT / "storefront" / "settings.py"]:
        names |= set(re.findall(r"""(?:_env|_choice|environ\.get|environ)\(?\[?\s*["']([A-Z][A-Z0-9_]+)["']""",
                                path.read_text()))
    return names


def test_compose_parses_and_has_the_whole_stack():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert {"temporal", "temporal-ui", "cassandra", "elasticsearch", "web", "worker"} <= set(services)
    for name in ("web", "worker"):
        assert "temporal" in services[name]["depends_on"]
    for name in ("temporal", "cassandra", "elasticsearch", "web", "worker"):
        assert "healthcheck" in services[name], name
    assert set(compose["volumes"]) >= {"cassandra-data", "es-data"}


def test_app_services_set_every_variable_the_app_reads():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    wanted = variables_the_app_reads()
    assert {"TEMPORAL_ADDRESS", "COMMERCE_STORE", "CASSANDRA_HOSTS", "ELASTICSEARCH_URL"} <= wanted
    for name in ("web", "worker"):
        missing = wanted - set(compose["services"][name]["environment"])
        assert not missing, f"{name} does not set {sorted(missing)}"


def test_the_image_copies_every_package():
    dockerfile = (ROOT / "Dockerfile").read_text()
    for package in ("infra", "domains", "projections", "workers", "storefront", "fixtures", "manage.py"):
        assert f"COPY {package}" in dockerfile, package
