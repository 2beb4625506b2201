"""Production settings (DJANGO_HTTPS=1) as a separate process sees them: Django's own deploy
checks pass, HTTPS is enforced with HSTS and secure cookies, and the process refuses to start
without a secret of its own. The dev secret is private to its owner and none is in the repo."""

from __future__ import annotations

import json
import os
import secrets
import stat
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PROBE = """
import json, django
django.setup()
from django.conf import settings
from django.test import Client
c = Client()
out = {}
for name, kw in {"http": {}, "https": {"secure": True}, "forwarded": {"HTTP_X_FORWARDED_PROTO": "https"}}.items():
    r = c.get("/admin/login/", **kw)
    out[name] = {"status": r.status_code, "location": r.get("Location"), "headers": dict(r.headers.items()),
                 "cookies": {k: dict(v.items()) for k, v in r.cookies.items()}}
out["session_cookie"] = {"secure": settings.SESSION_COOKIE_SECURE, "samesite": settings.SESSION_COOKIE_SAMESITE,
                         "httponly": settings.SESSION_COOKIE_HTTPONLY}
out["healthz_redirects"] = c.get("/healthz").status_code in (301, 302)
out["key_sha"] = __import__("hashlib").sha256(settings.SECRET_KEY.encode()).hexdigest()
print("PROBE" + json.dumps(out))
"""


def django_process(tmp_path: Path, args: list[str], **env: str) -> subprocess.CompletedProcess:
    """Python with Django settings loaded from this environment only (no test overrides)."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "COMMERCE_"))}
    full = {**base, "DJANGO_SETTINGS_MODULE": "storefront.settings", "COMMERCE_DATA_DIR": str(tmp_path), **env}
    return subprocess.run([sys.executable, *args], cwd=ROOT, env=full, capture_output=True, text=True, timeout=120,
                          check=False)


def production(**extra: str) -> dict:
    return {"DJANGO_HTTPS": "1", "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
            "DJANGO_ALLOWED_HOSTS": "shop.example.com,testserver", **extra}


def probe(tmp_path: Path, **env: str) -> dict:
    done = django_process(tmp_path, ["-c", PROBE], **env)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.split("PROBE", 1)[1])


def test_the_deploy_checks_pass_in_production_mode(tmp_path):
    done = django_process(tmp_path, ["manage.py", "check", "--deploy", "--fail-level", "WARNING"], **production())
    assert done.returncode == 0, done.stdout + done.stderr
    # The one silenced check: HSTS preload is an opt-in (DJANGO_HSTS_PRELOAD=1), see settings.
    assert "System check identified no issues (1 silenced)" in done.stdout + done.stderr


def test_the_deploy_checks_pass_with_preload_and_nothing_silenced(tmp_path):
    done = django_process(tmp_path, ["manage.py", "check", "--deploy", "--fail-level", "WARNING"],
                          **production(DJANGO_HSTS_PRELOAD="1"))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "System check identified no issues (0 silenced)" in done.stdout + done.stderr


def test_development_settings_do_fail_the_deploy_checks(tmp_path):
    """The check above can fail: without DJANGO_HTTPS the same command complains."""
    done = django_process(tmp_path, ["manage.py", "check", "--deploy", "--fail-level", "WARNING"])
    assert done.returncode != 0
    for check in ("security.W004", "security.W008", "security.W011", "security.W016"):
        assert check in done.stderr, check


@pytest.mark.parametrize("key", [None, "", "change-me-in-production"])
def test_production_mode_refuses_to_start_without_a_secret_of_its_own(tmp_path, key):
    env = production()
    if key is None:
        del env["DJANGO_SECRET_KEY"]
    else:
        env["DJANGO_SECRET_KEY"] = key
    done = django_process(tmp_path, ["manage.py", "check"], **env)
    assert done.returncode != 0
    assert "DJANGO_HTTPS=1 needs DJANGO_SECRET_KEY" in done.stderr
    assert not (tmp_path / "secret_key").exists()  # no generated fallback either


def test_production_mode_sends_http_to_https_with_hsts_and_secure_cookies(tmp_path):
    seen = probe(tmp_path, **production())
    assert seen["http"]["status"] == 301 and seen["http"]["location"] == "https://testserver/admin/login/"
    # Not behind a proxy: a client's own X-Forwarded-Proto claims nothing.
    assert seen["forwarded"]["status"] == 301
    page = seen["https"]
    assert page["status"] == 200
    headers = page["headers"]
    assert headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"
    csrf = page["cookies"]["csrftoken"]
    assert csrf["secure"] is True and csrf["samesite"] == "Lax"
    # the session cookie is only set at sign-in; its settings are the same
    assert seen["session_cookie"] == {"secure": True, "samesite": "Lax", "httponly": True}
    assert seen["healthz_redirects"] is False  # the container health check speaks plain HTTP on loopback


def test_behind_a_tls_proxy_its_forwarded_proto_is_trusted(tmp_path):
    seen = probe(tmp_path, **production(DJANGO_TLS_PROXY="1", DJANGO_HSTS_SECONDS="600", DJANGO_HSTS_PRELOAD="1"))
    assert seen["http"]["status"] == 301
    assert seen["forwarded"]["status"] == 200
    assert seen["forwarded"]["headers"]["Strict-Transport-Security"] == "max-age=600; includeSubDomains; preload"


def test_development_serves_plain_http_without_hsts_but_with_the_other_headers(tmp_path):
    seen = probe(tmp_path)
    page = seen["http"]
    assert page["status"] == 200
    assert "Strict-Transport-Security" not in page["headers"]
    assert page["headers"]["X-Frame-Options"] == "DENY"
    assert page["cookies"]["csrftoken"]["secure"] == ""
    assert seen["session_cookie"] == {"secure": False, "samesite": "Lax", "httponly": True}
    # the old switch alone still makes the cookies secure
    assert probe(tmp_path, DJANGO_SECURE_COOKIES="1")["http"]["cookies"]["csrftoken"]["secure"] is True


def test_the_dev_secret_is_generated_once_and_private(tmp_path):
    first = probe(tmp_path)
    path = tmp_path / "secret_key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(path.read_text().strip()) >= 50
    assert probe(tmp_path)["key_sha"] == first["key_sha"]  # sessions survive a restart


SECRET_SHAPES = {
    "a literal Django secret": r"SECRET_KEY\s*=\s*['\"][^'\"]{8,}['\"]",
    "a private key": r"-----BEGIN [A-Z ]*PRIVATE KEY-----",
    "an API token": r"\bck_[0-9a-f]{8,}_[A-Za-z0-9-]{20,}",
    "a password in a URL": r"://[^/\s:@'\"]+:[^/\s@'\"{}$]{6,}@",
}


def test_no_secret_is_in_the_repository():
    listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                            capture_output=True, text=True, check=True).stdout.split()
    assert not [f for f in listed if Path(f).name in ("secret_key", ".env") or f.endswith((".pem", ".key"))]
    for what, pattern in SECRET_SHAPES.items():
        found = subprocess.run(["git", "grep", "--untracked", "-I", "-n", "-E", "-e", pattern, "--", ".",
                                ":!tests/security/test_security_settings.py"],
                               cwd=ROOT, capture_output=True, text=True, check=False)
        assert found.returncode == 1, f"{what}:\n{found.stdout}"  # 1: no match
