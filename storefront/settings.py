"""Django settings. Everything comes from the environment (see infra.config);
the defaults run the embedded stack from the data folder."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from infra.config import load_config
from infra.logs import logging_config

COMMERCE = load_config()
BASE_DIR = Path(__file__).resolve().parent.parent
DEBUG = os.environ.get("DJANGO_DEBUG", "0") == "1"


# Production mode: the site is served over HTTPS only (see "Security" below).
HTTPS = os.environ.get("DJANGO_HTTPS", "0") == "1"
PLACEHOLDER_SECRETS = {"change-me-in-production"}  # docker-compose's default when none is given


def _secret_key() -> str:
    """From the environment in production; otherwise a dev secret kept in the data folder."""
    key = os.environ.get("DJANGO_SECRET_KEY", "").strip()
    if HTTPS and (not key or key in PLACEHOLDER_SECRETS):
        # A generated per-machine secret would differ between web processes and sign everyone out.
        raise ImproperlyConfigured("DJANGO_HTTPS=1 needs DJANGO_SECRET_KEY (a long random string of your own)")
    if key:
        return key
    path = COMMERCE.data_dir / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:  # created owner-only from the first byte, not chmod-ed after a window
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process made it first: use theirs
            return path.read_text().strip()
        with os.fdopen(fd, "w") as file:
            file.write(secrets.token_urlsafe(50))
    return path.read_text().strip()


SECRET_KEY = _secret_key()
ALLOWED_HOSTS = [h.strip() for h in os.environ.get("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",")]

INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "rest_framework",
    "drf_spectacular",
    "django.contrib.staticfiles",  # storefront/static: the pages' CSS and JS (no inline ones: CSP)
    "storefront",
]

MIDDLEWARE = [
    # outermost: the request id is in the log context for everything below, and the figures
    # count the final status (docs/observability.md)
    "storefront.observability.RequestObservabilityMiddleware",
    "storefront.csp.ContentSecurityPolicyMiddleware",  # outermost: every response gets the policy
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",  # /static/ under gunicorn too, straight from the app
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "storefront.accounts.csrf.ApiCsrfMiddleware",  # the JSON API's cookie-identified calls too
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "storefront.accounts.middleware.AccountsMiddleware",
    "storefront.unavailable.TemporalUnavailableMiddleware",
    "storefront.rate_limit.RetryAfterMiddleware",
]

# Checked when a password is set (sign-up, change, reset, createstaff); hashing is Django's default PBKDF2.
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator",
     "OPTIONS": {"user_attributes": ("email", "username")}},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

ROOT_URLCONF = "storefront.urls"
TEMPLATES = [{
    "BACKEND": "django.template.backends.django.DjangoTemplates",
    "DIRS": [],
    "APP_DIRS": True,
    "OPTIONS": {"builtins": ["storefront.template_labels"], "context_processors": [
        "django.template.context_processors.request",
        "django.template.context_processors.csrf",
        "storefront.shop.cart_pages.cart_badge",
        "storefront.admin_panel.common.nav.admin_nav",
    ]},
}]
WSGI_APPLICATION = "storefront.wsgi.application"

# Django keeps no state: domain data lives in Temporal, the write store and the index.
DATABASES: dict = {}
# Sessions live in the write store (storefront/session_store.py), so signing out ends every
# copy of the cookie; the cookie itself carries only a random key.
SESSION_ENGINE = "storefront.session_store"

# --- Security -------------------------------------------------------------------------
# Always: no framing, no MIME sniffing, no referrer to other sites (password reset links
# carry a token in the path). Lax, not Strict, SameSite: a shopper following a link from
# an email must arrive signed in; POSTs are guarded by the CSRF token either way.
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
CSRF_FAILURE_VIEW = "storefront.accounts.csrf.page_refused"  # a page the CSP allows, saying what to do
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# DJANGO_HTTPS=1 (production): cookies only over TLS, plain HTTP redirected, and HSTS.
# DJANGO_SECURE_COOKIES=1 alone still means secure cookies only (as before).
SESSION_COOKIE_SECURE = HTTPS or os.environ.get("DJANGO_SECURE_COOKIES", "0") == "1"
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_SSL_REDIRECT = HTTPS
# the container's health check and the metrics scraper call plain HTTP inside the private network
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^metrics$"]
# A year, and subdomains too: a shop has no business serving anything on its domain without
# TLS. Preload is a separate, slow-to-undo commitment (browsers' built-in list), so opt-in.
SECURE_HSTS_SECONDS = int(os.environ.get("DJANGO_HSTS_SECONDS", "31536000") or 0) if HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = HTTPS and os.environ.get("DJANGO_HSTS_PRELOAD", "0") == "1"
# Only when TLS ends at a proxy that sets (and strips clients' own) X-Forwarded-Proto;
# trusting the header anywhere else would let a client claim HTTPS.
if os.environ.get("DJANGO_TLS_PROXY", "0") == "1":
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# `check --deploy` warns when preload is off; that is the operator's choice above.
SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]

USE_TZ = True
STATIC_URL = "/static/"  # storefront/static (CSS, JS); images are rendered SVG
# whitenoise serves the apps' static folders as they are (no collectstatic step to forget)
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG
TIME_ZONE = "UTC"
LANGUAGE_CODE = "en-us"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Anonymous product search, per client address. Every limit below is counted in the write
# store (storefront.rate_limit), so all web processes share one count.
PUBLIC_SEARCH_RATE = os.environ.get("COMMERCE_PUBLIC_SEARCH_RATE", "").strip() or "300/min"
# Guest order lookups (email + confirmation code) per client address.
ORDER_LOOKUP_RATE = os.environ.get("COMMERCE_ORDER_LOOKUP_RATE", "").strip() or "20/min"
# Sign-in attempts (shop and admin) and password-reset requests per client address.
SIGN_IN_RATE = os.environ.get("COMMERCE_SIGN_IN_RATE", "").strip() or "30/min"
# Behind a proxy, the client address is the last one the proxy adds (X-Forwarded-For).
NUM_PROXIES = int(os.environ.get("COMMERCE_NUM_PROXIES", "0") or 0)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["storefront.accounts.tokens.BearerTokenAuthentication"],
    "NUM_PROXIES": NUM_PROXIES,
    "DEFAULT_PERMISSION_CLASSES": [],
    "UNAUTHENTICATED_USER": None,
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # JSON bodies only. This is no CSRF defence (a cross-site form can POST an empty body):
    # storefront.accounts.csrf.ApiCsrfMiddleware checks the calls the session or cart cookie
    # identifies (same Origin or the X-CSRFToken header); header-identified clients need neither.
    # (DRF's JSON parser with a nesting limit: 400 invalid_json, never a RecursionError)
    "DEFAULT_PARSER_CLASSES": ["storefront.api.json_parser.DepthLimitedJSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "storefront.api.errors.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Commerce API",
    "DESCRIPTION": ("Product search, catalog, cart, checkout and orders. Money is integer cents. "
                    "Outbound webhooks (registered under /api/staff/webhooks): the JSON schema of every body, "
                    "the envelope and each event type's versioned data, is at "
                    "[/api/webhooks/schema.json](/api/webhooks/schema.json)."),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
}

# Email (password reset links) through Django's email framework. By default each message is
# a file under the data folder's mail/ (a person can read what was sent); SMTP in production.
EMAIL_BACKEND = {
    "file": "django.core.mail.backends.filebased.EmailBackend",
    "smtp": "django.core.mail.backends.smtp.EmailBackend",
    "console": "django.core.mail.backends.console.EmailBackend",
}[COMMERCE.email_backend]
EMAIL_FILE_PATH = str(COMMERCE.mail_path)
EMAIL_HOST = COMMERCE.email_host
EMAIL_PORT = COMMERCE.email_port
EMAIL_HOST_USER = COMMERCE.email_host_user
EMAIL_HOST_PASSWORD = COMMERCE.email_host_password
EMAIL_USE_TLS = COMMERCE.email_use_tls
EMAIL_TIMEOUT = 10  # a slow mail server never holds a web worker for long
DEFAULT_FROM_EMAIL = COMMERCE.default_from_email

# Human-readable lines by default; COMMERCE_LOG_FORMAT=json for one JSON object a line with the
# request id (and the workflow ids of the Temporal calls), as the workers write theirs (infra/logs.py).
LOGGING = logging_config(COMMERCE.log_format, os.environ.get("LOG_LEVEL", "INFO"))
