"""`python manage.py webhooks add|list|show|ping|disable|enable|rotate|delete|redeliver|prune|schema`:
outbound webhook endpoints from a terminal, with the rules of the admin.

`add URL --events a,b [--secret S]` registers an endpoint and prints its id and secret (the
only time the secret is shown; `--json`: an object with `id` and `secret`). `show ENDPOINT`
prints the endpoint, its deliveries, its latest attempts and its audit trail. `redeliver
EVENT_ID [--endpoint E]` sends an event again with the same id. `rotate ENDPOINT [--secret S]`
prints a new secret (both sign for a day, so receivers can switch). `delete ENDPOINT` removes an
endpoint (its log stays until pruned). `prune [--older-than DAYS]` deletes events, deliveries
and attempts older than the retention (COMMERCE_WEBHOOK_RETENTION_DAYS, 30), never an event
still being delivered. `schema [--check]` prints the JSON schema of every body
(docs/webhooks.schema.json; `--check` exits 1 when that file differs from the models).
Exit codes: 2 for refused input, 3 when the endpoint or event does not exist, 4 when the staff
user named by --staff (or COMMERCE_STAFF) does not exist, is disabled, or has no role for the
action.
"""

from __future__ import annotations

import asyncio
import json
import os
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from domains.identity.roles import Permission
from domains.webhooks import client as webhooks
from domains.webhooks import retention
from domains.webhooks.errors import WebhookError, WebhookErrorCode
from domains.webhooks.messages import EventType
from infra.temporal import connect
from storefront import services, webhook_payloads
from storefront.management.staff_actor import staff_actor

NEEDS = {"add": Permission.WEBHOOKS_WRITE, "list": Permission.WEBHOOKS_READ, "show": Permission.WEBHOOKS_READ,
         "ping": Permission.WEBHOOKS_WRITE, "disable": Permission.WEBHOOKS_WRITE,
         "enable": Permission.WEBHOOKS_WRITE, "rotate": Permission.WEBHOOKS_WRITE,
         "redeliver": Permission.WEBHOOKS_WRITE, "delete": Permission.WEBHOOKS_WRITE,
         "prune": Permission.WEBHOOKS_WRITE}
NOT_FOUND = {WebhookErrorCode.ENDPOINT_NOT_FOUND, WebhookErrorCode.EVENT_NOT_FOUND}


class Command(BaseCommand):
    help = "Register, inspect, ping and disable outbound webhook endpoints; redeliver events."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")

        def common(p, changes: bool = True):
            p.add_argument("--json", action="store_true", help="print JSON instead of text")
            p.add_argument("--staff", default=os.environ.get("COMMERCE_STAFF", ""), metavar="EMAIL",
                           help="the staff user doing this (default $COMMERCE_STAFF); their role must allow it")
            if changes:
                p.add_argument("--dry-run", action="store_true", help="check everything, change nothing")
            return p

        add = common(sub.add_parser("add", help="register an endpoint; prints its id and secret once"))
        add.add_argument("url", metavar="URL")
        add.add_argument("--events", required=True,
                         help="comma-separated: " + ",".join(t.value for t in EventType if t != EventType.PING))
        add.add_argument("--secret", help="whsec_... (default: a new random one)")
        add.add_argument("--description", default="")
        common(sub.add_parser("list", help="every endpoint"), changes=False)
        show = common(sub.add_parser("show", help="an endpoint, its deliveries and latest attempts"), changes=False)
        show.add_argument("endpoint", metavar="ENDPOINT")
        show.add_argument("--limit", type=int, default=20, help="attempts to show")
        for name, text in (("ping", "send a webhook.ping event"), ("disable", "stop delivering to an endpoint"),
                           ("enable", "deliver to a disabled endpoint again"),
                           ("delete", "remove an endpoint (its audit trail stays)")):
            common(sub.add_parser(name, help=text)).add_argument("endpoint", metavar="ENDPOINT")
        rotate = common(sub.add_parser("rotate", help="a new signing secret; the old one also signs for a day"))
        rotate.add_argument("endpoint", metavar="ENDPOINT")
        rotate.add_argument("--secret", help="whsec_... (default: a new random one)")
        again = common(sub.add_parser("redeliver", help="send an event again, with the same id"))
        again.add_argument("event", metavar="EVENT_ID")
        again.add_argument("--endpoint", help="only to this endpoint (default: every active one that wants it)")
        prune = common(sub.add_parser("prune", help="delete events, deliveries and attempts past the retention"))
        prune.add_argument("--older-than", type=float, metavar="DAYS",
                           help=f"days to keep (default $COMMERCE_WEBHOOK_RETENTION_DAYS or "
                                f"{retention.DEFAULT_RETENTION_DAYS})")
        schema = sub.add_parser("schema", help="print the JSON schema of every webhook body")
        schema.add_argument("--check", action="store_true",
                            help=f"exit 1 when {webhook_payloads.PUBLISHED.name} differs from the models")

    def handle(self, *args, **options):
        if options["action"] == "schema":  # documentation: no staff user needed
            return self._schema(options["check"])
        options["actor"] = staff_actor(options["staff"], NEEDS[options["action"]])
        try:
            asyncio.run(self._run(options))
        except WebhookError as exc:
            raise CommandError(str(exc), returncode=3 if exc.code in NOT_FOUND else 2) from None

    async def _run(self, o: dict[str, Any]) -> None:
        store, action, as_json = services.store(), o["action"], o["json"]
        if action == "add":
            events = webhooks.parse_events(o["events"].split(","))
            if o["dry_run"]:
                webhooks.check_endpoint_url(o["url"])
                return self._out(as_json, {"dry_run": True, "url": o["url"], "events": events},
                                 f"dry run: {o['url']} for {', '.join(events)} is allowed; nothing saved")
            made = webhooks.register_endpoint(store, o["url"], events, created_by=o["actor"], secret=o["secret"],
                                              description=o["description"])
            return self._out(as_json, {"id": made.endpoint.endpoint_id, "secret": made.secret,
                                       "url": made.endpoint.url, "events": made.endpoint.events},
                             f"{made.endpoint.endpoint_id}\nsecret: {made.secret}  (shown only now)")
        if action == "prune":
            return self._prune(store, o["older_than"], o["dry_run"], as_json)
        if action == "list":
            return self._list(webhooks.list_endpoints(store), as_json)
        if action == "show":
            return self._show(store, o["endpoint"], o["limit"], as_json)
        if action in ("disable", "enable"):
            endpoint = webhooks.get_endpoint(store, o["endpoint"])
            if not o["dry_run"]:
                endpoint = webhooks.set_active(store, endpoint.endpoint_id, action == "enable", actor=o["actor"])
            return self._out(as_json, {"dry_run": o["dry_run"], **endpoint.model_dump(mode="json")},
                             f"{'dry run: would ' + action if o['dry_run'] else action + 'd'} {endpoint.endpoint_id}")
        if action == "delete":
            endpoint = webhooks.get_endpoint(store, o["endpoint"])
            if not o["dry_run"]:
                webhooks.delete_endpoint(store, endpoint.endpoint_id, actor=o["actor"])
            return self._out(as_json, {"dry_run": o["dry_run"], "deleted": endpoint.endpoint_id, "url": endpoint.url},
                             f"{'dry run: would delete' if o['dry_run'] else 'deleted'} {endpoint.endpoint_id} "
                             f"({endpoint.url})")
        if action == "rotate":
            endpoint = webhooks.get_endpoint(store, o["endpoint"])
            if o["dry_run"]:
                return self._out(as_json, {"dry_run": True, "endpoint": endpoint.endpoint_id},
                                 f"dry run: would rotate the secret of {endpoint.endpoint_id}")
            secret = webhooks.rotate_secret(store, endpoint.endpoint_id, secret=o["secret"], actor=o["actor"])
            return self._out(as_json, {"id": endpoint.endpoint_id, "secret": secret},
                             f"{endpoint.endpoint_id}\nsecret: {secret}  (shown only now; the old one signs for a day)")
        client = await connect(settings.COMMERCE)
        if action == "ping":
            endpoint = webhooks.get_endpoint(store, o["endpoint"])
            if o["dry_run"]:
                return self._out(as_json, {"dry_run": True, "endpoint": endpoint.endpoint_id},
                                 f"dry run: would ping {endpoint.url}")
            event_id = await webhooks.ping(client, store, endpoint.endpoint_id)
            return self._out(as_json, {"event_id": event_id, "endpoint": endpoint.endpoint_id},
                             f"ping {event_id} queued for {endpoint.url}")
        if o["dry_run"]:
            targets = webhooks.redelivery_targets(store, o["event"], o["endpoint"])
            return self._out(as_json, {"dry_run": True, "event_id": o["event"], "endpoints": targets},
                             f"dry run: would redeliver {o['event']} to {', '.join(targets) or 'no endpoint'}")
        targets = await webhooks.redeliver(client, store, o["event"], o["endpoint"])
        self._out(as_json, {"event_id": o["event"], "endpoints": targets},
                  f"{o['event']} queued again for {', '.join(targets) or 'no endpoint'}")

    def _prune(self, store, days: float | None, dry_run: bool, as_json: bool) -> None:
        if days is not None and not 0 < days <= 36500:
            raise CommandError("--older-than takes a number of days above 0", returncode=2)
        result = retention.prune(store, timedelta(days=days) if days is not None else None, dry_run=dry_run)
        verb = "would delete" if dry_run else "deleted"
        self._out(as_json, result.model_dump(mode="json"),
                  f"{'dry run: ' if dry_run else ''}{verb} {result.events} events, {result.deliveries} deliveries, "
                  f"{result.attempts} attempts from before {result.cutoff:%Y-%m-%d %H:%M} UTC; "
                  f"kept {result.kept_pending} older events still being delivered")

    def _schema(self, check: bool) -> None:
        text = webhook_payloads.schema_text()
        if not check:
            return self.stdout.write(text, ending="")
        published = webhook_payloads.PUBLISHED
        if not published.exists() or published.read_text() != text:
            raise CommandError(f"{published} differs from the event models: "
                               f"python manage.py webhooks schema > {published.relative_to(published.parents[1])}",
                               returncode=1)
        self.stdout.write(f"{published.name} matches the event models")

    def _out(self, as_json: bool, data: Any, text: str) -> None:
        self.stdout.write(json.dumps(data, indent=2, default=str) if as_json else text)

    def _list(self, endpoints: list, as_json: bool) -> None:
        if as_json:
            return self.stdout.write(json.dumps([e.model_dump(mode="json") for e in endpoints], indent=2))
        if not endpoints:
            return self.stdout.write("no webhook endpoints")
        for e in endpoints:
            self.stdout.write(f"{e.endpoint_id}  {'active  ' if e.active else 'disabled'}  {e.url}  "
                              f"{','.join(e.events)}")

    def _show(self, store, endpoint_id: str, limit: int, as_json: bool) -> None:
        endpoint = webhooks.get_endpoint(store, endpoint_id)
        deliveries = webhooks.deliveries(store, endpoint_id)
        log = webhooks.attempts(store, endpoint_id, limit=limit)
        summary = webhooks.success_rate(store, endpoint_id)
        changes = webhooks.audit_log(store, endpoint_id, limit=limit)
        if as_json:
            return self.stdout.write(json.dumps({"endpoint": endpoint.model_dump(mode="json"),
                                                 "deliveries": deliveries, "attempts": log, "summary": summary,
                                                 "audit": changes}, indent=2, default=str))
        w = self.stdout.write
        w(f"{endpoint.endpoint_id}  {'active' if endpoint.active else 'disabled'}  {endpoint.url}")
        w(f"  events: {', '.join(endpoint.events)}; created by {endpoint.created_by}")
        rate = summary["success_rate"]
        w(f"  attempts: {summary['attempts']}, succeeded {summary['succeeded']}"
          + (f" ({rate:.0%})" if rate is not None else ""))
        for a in log:
            status = a["http_status"] if a["http_status"] is not None else (a["error"] or "")[:60]
            w(f"  {a['at']:%Y-%m-%d %H:%M:%S} {a['event_id']} {a['type']:<22} try {a['attempt']:<2} "
              f"{status} {a['latency_ms']} ms")
        w("  changes:")
        for c in changes:
            w(f"  {c['at']:%Y-%m-%d %H:%M:%S} {c['action']:<10} by {c['actor']}  {c['detail'] or ''}".rstrip())
