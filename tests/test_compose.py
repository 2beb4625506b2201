"""docker-compose.yml cannot run here (no Docker engine), so check what can be checked."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
WORKERS = ("worker-shop", "worker-back")
WEBS = {"web": 8000, "web-2": 8001}
APP_SERVICES = (*WORKERS, *WEBS)


def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def variables_the_app_reads() -> set[str]:
    names = set()
    for path in [ROOT / "infra" / "config.py", ROOT / "storefront" / "settings.py"]:
        names |= set(re.findall(r"""(?:_env|_choice|environ\.get|environ)\(?\[?\s*["']([A-Z][A-Z0-9_]+)["']""",
                                path.read_text()))
    return names


def test_compose_parses_and_has_the_whole_stack():
    whole = compose()
    services = whole["services"]
    assert {"temporal", "temporal-ui", "cassandra", "elasticsearch", *APP_SERVICES} <= set(services)
    assert "worker" not in services  # split in two (below)
    for name in APP_SERVICES:
        assert "temporal" in services[name]["depends_on"], name
    for name in ("temporal", "cassandra", "elasticsearch", *APP_SERVICES):
        assert "healthcheck" in services[name], name
    for web in WEBS:
        assert set(WORKERS) <= set(services[web]["depends_on"]), web
    assert set(whole["volumes"]) >= {"cassandra-data", "es-data", "app-data"}


def test_app_services_set_every_variable_the_app_reads():
    services = compose()["services"]
    wanted = variables_the_app_reads()
    assert {"TEMPORAL_ADDRESS", "COMMERCE_STORE", "CASSANDRA_HOSTS", "ELASTICSEARCH_URL", "COMMERCE_CODEC_KEYS",
            "COMMERCE_LOG_FORMAT", "COMMERCE_WEB_METRICS_TOKEN", "COMMERCE_METRICS_HOST"} <= wanted
    for name in APP_SERVICES:
        missing = wanted - set(services[name]["environment"])
        assert not missing, f"{name} does not set {sorted(missing)}"


def _option(command: list[str], flag: str) -> str:
    return command[command.index(flag) + 1]


def test_workers_split_the_queues_between_them_with_their_own_metrics_ports():
    from workers.registry import QUEUES

    services = compose()["services"]
    queues = {name: set(_option(services[name]["command"], "--queues").split(",")) for name in WORKERS}
    assert queues["worker-shop"] == {"cart", "checkout", "inventory"}
    assert queues["worker-shop"].isdisjoint(queues["worker-back"])  # each queue polled by one service
    assert queues["worker-shop"] | queues["worker-back"] == set(QUEUES)  # and none left without a worker
    for name, port in zip(WORKERS, ("9464", "9465"), strict=True):
        service = services[name]
        assert _option(service["command"], "--metrics-port") == port, name
        assert f"127.0.0.1:{port}/metrics" in service["healthcheck"]["test"][1], name
        assert port in [str(p) for p in service["expose"]], name
        assert service["environment"]["COMMERCE_METRICS_HOST"] == "0.0.0.0", name  # a scraper on the network
        assert service["stop_grace_period"] == "30s", name


def test_two_web_processes_on_8000_and_8001():
    services = compose()["services"]
    dockerfile_cmd = (ROOT / "Dockerfile").read_text().split("CMD", 1)[1]
    for name, port in WEBS.items():
        service = services[name]
        assert f"{port}:{port}" in service["ports"], name
        bind = _option(service["command"], "--bind") if "command" in service else (
            re.search(r'"--bind", "([^"]+)"', dockerfile_cmd).group(1))
        assert bind == f"0.0.0.0:{port}", name
        assert f"127.0.0.1:{port}/healthz" in service["healthcheck"]["test"][1], name
        if "command" in service:  # the image's gunicorn settings (server header, metrics folder, logs)
            assert "python:storefront.gunicorn_conf" in service["command"], name


def test_temporal_runs_with_the_clusters_dynamic_config():
    temporal = compose()["services"]["temporal"]
    (mount,) = [v for v in temporal["volumes"] if v.startswith("./ops/cluster/dynamicconfig.yaml:")]
    target = mount.split(":")[1]
    assert (ROOT / "ops" / "cluster" / "dynamicconfig.yaml").is_file()
    # auto-setup runs from /etc/temporal and reads the file at DYNAMIC_CONFIG_FILE_PATH, relative to it
    assert "/etc/temporal/" + temporal["environment"]["DYNAMIC_CONFIG_FILE_PATH"] == target
    cluster_config = yaml.safe_load((ROOT / "ops" / "cluster" / "dynamicconfig.yaml").read_text())
    # Temporal's default of 10 in-flight updates per workflow: the inventory shards live with it
    assert "history.maxInFlightUpdates" not in cluster_config


def test_every_app_service_shares_the_codec_key_and_the_data_volume():
    services = compose()["services"]
    for name in (*APP_SERVICES, "catalog"):
        service = services[name]
        # one key for all: the given one, or the same file on the shared data volume
        assert service["environment"]["COMMERCE_CODEC_KEYS"] == "${COMMERCE_CODEC_KEYS:-}", name
        assert service["environment"]["COMMERCE_DATA_DIR"] == "/data", name
        assert "app-data:/data" in service["volumes"], name
    ui = services["temporal-ui"]["environment"]
    assert ui["TEMPORAL_CODEC_ENDPOINT"].endswith("/admin/temporal-codec")


def test_the_image_copies_every_package():
    dockerfile = (ROOT / "Dockerfile").read_text()
    for package in ("infra", "domains", "projections", "workers", "storefront", "fixtures", "manage.py"):
        assert f"COPY {package}" in dockerfile, package
