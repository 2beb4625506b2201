"""`python -m tests.orders.crash_worker`: the production worker (`python -m workers`) with a
pause after every charge, refund, authorization, capture, void, stock settlement and restock has done its
work and before its activity completes, so a crash test can see the activity started and not finished in the
workflow and kill the worker in exactly that window: the side effect made, the activity
not yet recorded as done. Every call is appended to CRASH_CALL_LOG (one JSON line: what,
its idempotency key or owner, this process), so the test counts calls, not only results.
"""

from __future__ import annotations

import asyncio
import json
import os
import time

from temporalio import activity

from domains.fulfillment.activities import FulfillmentActivities, StockSettlement
from domains.orders.activities import OrderActivities, Restock
from domains.payments import gateway
from domains.payments.ledger import Payments

PAUSE = float(os.environ.get("CRASH_PAUSE_SECONDS", "3"))
CALL_LOG = os.environ["CRASH_CALL_LOG"]


def log_call(kind: str, key: str) -> None:
    with open(CALL_LOG, "a") as out:  # one short line per write: appends from threads do not interleave
        out.write(json.dumps({"kind": kind, "key": key, "pid": os.getpid()}) + "\n")


def _paused(kind: str, money_call):
    def call(store, request, *args, **kwargs):
        log_call(kind, request.idempotency_key)
        result = money_call(store, request, *args, **kwargs)
        time.sleep(PAUSE)  # activities calling the gateway are sync: they run in the worker's threads
        return result
    return call


gateway.charge = _paused("charge", gateway.charge)  # checkout's and order management's activities
gateway.refund = _paused("refund", gateway.refund)  # look these up on the module at each call


def _paused_ledger(kind: str, operation):
    """The authorize flow's calls through the payments port: logged with their idempotency key,
    paused after the provider and the ledger have done their work."""
    def call(self, *args, **kwargs):
        key = kwargs.get("idempotency_key") or getattr(args[0], "idempotency_key", "")
        log_call(kind, key)
        result = operation(self, *args, **kwargs)
        time.sleep(PAUSE)
        return result
    return call


for _kind in ("authorize", "capture", "void", "refund"):
    setattr(Payments, _kind, _paused_ledger(_kind, getattr(Payments, _kind)))
_fulfil = FulfillmentActivities.fulfil_stock


@activity.defn(name="fulfil_stock")
async def _paused_fulfil(self, settlement: StockSettlement) -> dict[str, int]:
    log_call("fulfil", f"{settlement.owner}:{','.join(settlement.skus)}")
    result = await _fulfil(self, settlement)
    await asyncio.sleep(PAUSE)
    return result


FulfillmentActivities.fulfil_stock = _paused_fulfil
_restock = OrderActivities.restock


@activity.defn(name="restock")
async def _paused_restock(self, request: Restock) -> None:
    log_call("restock", request.key)
    await _restock(self, request)
    await asyncio.sleep(PAUSE)


OrderActivities.restock = _paused_restock

if __name__ == "__main__":
    from workers.__main__ import main

    main()
