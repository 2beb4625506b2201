"""Django sessions kept in the write store (`SESSION_ENGINE = "storefront.session_store"`).

The browser holds only a random session key; what it stands for lives in the store's
`web_sessions` table (SQLite embedded, Cassandra in production), so deleting the row ends
the session for every copy of the cookie. Signing out, signing in and a password change
delete the old row (Django's `flush` / `cycle_key`), which a signed-cookie session cannot do.

Expiry: every row carries `expires_at`, checked on each read (SQLite keeps expired rows
until `manage.py clearsessions`); on Cassandra the row's TTL also drops it then.
"""

from __future__ import annotations

from datetime import UTC, datetime

from django.contrib.sessions.backends.base import CreateError, SessionBase, UpdateError

from infra.store.schema import WEB_SESSIONS

from . import services

TABLE = WEB_SESSIONS.name


def _now() -> datetime:
    return datetime.now(UTC)


class SessionStore(SessionBase):
    def _row(self, session_key: str | None) -> dict | None:
        if not session_key:
            return None
        row = services.store().get(TABLE, {"session_key": session_key})
        if row is None or row["expires_at"] is None or row["expires_at"] <= _now():
            return None
        return row

    def load(self) -> dict:
        row = self._row(self.session_key)
        if row is None:
            self._session_key = None  # an unknown, ended or expired key is never reused
            return {}
        return self.decode(row["data"])

    def exists(self, session_key: str) -> bool:
        return self._row(session_key) is not None

    def create(self) -> None:
        while True:
            self._session_key = self._get_new_session_key()
            try:
                self.save(must_create=True)
            except CreateError:
                continue  # a key collision: draw another
            self.modified = True
            return

    def save(self, must_create: bool = False) -> None:
        if self.session_key is None:
            return self.create()
        data = self.encode(self._get_session(no_load=must_create))
        expires_at = self.get_expiry_date()
        ttl = max(1, int((expires_at - _now()).total_seconds()))
        store = services.store()
        key = {"session_key": self._get_or_create_session_key()}
        if must_create:
            if not store.insert_if_absent(TABLE, {**key, "data": data, "expires_at": expires_at, "live": True},
                                          ttl_seconds=ttl):
                raise CreateError
            return None
        # Only while the row exists: a request still running on a session that was just signed
        # out must not write it back (Django answers that request 400 SessionInterrupted).
        if not store.update_if(TABLE, key, {"data": data, "expires_at": expires_at, "live": True},
                               {"live": True}, ttl_seconds=ttl):
            raise UpdateError
        return None

    def delete(self, session_key: str | None = None) -> None:
        session_key = session_key or self.session_key
        if session_key:
            services.store().delete(TABLE, {"session_key": session_key})

    @classmethod
    def clear_expired(cls) -> None:
        """`manage.py clearsessions`: drops expired rows (Cassandra's TTL does this by itself)."""
        store, cursor, now = services.store(), None, _now()
        while True:
            rows, cursor = store.scan(TABLE, cursor=cursor)
            for row in rows:
                if row["expires_at"] is None or row["expires_at"] <= now:
                    store.delete(TABLE, {"session_key": row["session_key"]})
            if cursor is None:
                return
