"""`manage.py returns list|show|approve|reject|receive|refund` against the real workflows: text and
--json output, --dry-run that sends nothing, per-line receive, and the role table's refusals
(exit 4), as the fulfillment command's."""

from __future__ import annotations

import io
import json
import time

from django.core.management import CommandError, call_command
from django.test import Client

from .accounts import create_shopper, create_staff
from .orders_helpers import run
from .returns_helpers import delivered_order, one_line, open_return


def cli(*args: str) -> tuple[int, str]:
    out = io.StringIO()
    try:
        call_command("returns", *args, stdout=out)
    except CommandError as exc:
        return exc.returncode, str(exc)
    return 0, out.getvalue()


async def opened(shop, variant_id: str, quantity: int = 1, reason: str = "too_small") -> tuple[dict, str]:
    shopper = Client()
    order = await delivered_order(shop, shopper, variant_id, quantity=quantity)
    response = await run(open_return, shopper, order["confirmation_code"], one_line(order, quantity, reason))
    assert response.status_code == 201, response.content
    return order, response.json()["id"]


async def test_list_show_and_a_dry_run_that_sends_nothing(orders_web, order_variant):
    order, rid = await opened(orders_web, order_variant.id)
    support = (await run(create_staff, orders_web, "support")).email

    code, out = await run(cli, "list", "--json", "--staff", support)
    assert code == 0 and [r["id"] for r in json.loads(out)] == [rid]
    code, out = await run(cli, "list", "--status", "approved", "--staff", support)
    assert code == 0 and "no returns match" in out
    code, out = await run(cli, "show", rid, "--staff", support)
    assert code == 0 and rid in out and "requested" in out and order["lines"][0]["line_id"] in out
    code, out = await run(cli, "show", rid, "--json", "--staff", support)
    shown = json.loads(out)
    assert code == 0 and shown["id"] == rid and shown["status"] == "requested"

    code, out = await run(cli, "approve", rid, "--dry-run", "--json", "--staff", support)
    assert code == 0 and json.loads(out)["dry_run"] is True
    assert json.loads((await run(cli, "show", rid, "--json", "--staff", support))[1])["status"] == "requested"
    code, out = await run(cli, "receive", rid, "--restock", "all", "--staff", support)
    assert code == 2 and "cannot receive" in out  # not on its way yet: refused before anything is sent

    code, out = await run(cli, "approve", rid, "--note", "ok", "--staff", support)
    assert code == 0 and f"{rid}: requested ->" in out
    assert (await run(cli, "show", "NOPE1234-R7", "--staff", support))[0] == 3
    assert (await run(cli, "show", "not-an-id", "--staff", support))[0] == 3


async def test_receive_per_line_then_the_refund(orders_web, order_variant):
    from storefront import return_staff

    _order, rid = await opened(orders_web, order_variant.id, quantity=2)
    owner = (await run(create_staff, orders_web, "owner")).email
    assert (await run(cli, "approve", rid, "--staff", owner))[0] == 0

    def in_transit() -> str:
        for _ in range(80):
            view = return_staff.view(rid)
            if view.can_mark_in_transit:
                return return_staff.mark_in_transit(rid, "staff:cli@example.com", "owner", "1Z999AA1CLI").status
            time.sleep(0.25)
        raise AssertionError("no label")

    assert await run(in_transit) == "in_transit"
    line = (await run(return_staff.view, rid)).lines[0].line_id
    code, out = await run(cli, "receive", rid, "--line", f"{line}=restock:1,damaged:2", "--staff", owner)
    assert code == 2 and "add up" in out  # 3 units of a 2-unit return: refused by the workflow
    code, out = await run(cli, "receive", rid, "--line", "nope=restock:1", "--staff", owner)
    assert code == 2 and "no line nope" in out
    code, out = await run(cli, "receive", rid, "--line", f"{line}=restock:one", "--staff", owner)
    assert code == 2
    code, out = await run(cli, "receive", rid, "--restock", "none", "--line", f"{line}=restock:1,damaged:1",
                          "--json", "--staff", owner)
    assert code == 0, out
    after = json.loads(out)["return"]
    assert (after["lines"][0]["restocked"], after["lines"][0]["damaged"]) == (1, 1)
    assert after["status"] == "closed" and after["refund_amount"] > 0  # an owner's receive refunds at once


async def test_the_returns_command_asks_the_role_table(orders_web, order_variant):
    _order, rid = await opened(orders_web, order_variant.id)

    def check() -> dict:
        staff = {role: create_staff(orders_web, role).email for role in ("owner", "manager", "support", "fulfillment")}
        shopper = create_shopper(orders_web).email
        got = {}
        for who, email in [*staff.items(), ("shopper", shopper), ("stranger", "nobody@example.com")]:
            got[who] = (cli("show", "NOSUCHXX-R1", "--staff", email)[0],
                        cli("approve", "NOSUCHXX-R1", "--staff", email)[0],
                        cli("reject", rid, "--reason", "x", "--dry-run", "--staff", email)[0])
        got["nobody"] = (cli("list", "--staff", "")[0],)
        return got

    got = await run(check)
    #                 show approve reject-dry-run   (3: allowed, no such return; 4: not allowed; 0: dry run ok)
    assert got == {"owner":       (3, 3, 0),
                   "manager":     (3, 3, 0),
                   "support":     (3, 3, 0),
                   "fulfillment": (3, 4, 4),
                   "shopper":     (4, 4, 4),
                   "stranger":    (4, 4, 4),
                   "nobody":      (4,)}
