"""Every status, stage and step type a page or an email shows has a human word in the one table
(domains/labels.py): a value added to an enum without a label fails here, not on a customer's screen."""

from enum import StrEnum

import pytest

from domains.cadences.messages import ApplyTo, EnrollmentStatus, Trigger
from domains.cadences.steps import StepType
from domains.catalog.messages import ReindexStage
from domains.checkout.messages import CheckoutOutcome, Step
from domains.fulfillment.messages import Strategy, SupplierOrderStatus
from domains.identity.roles import Role
from domains.inventory.messages import ReservationStatus
from domains.labels import _TABLE, label
from domains.orders.messages import OrderStatus
from domains.returns.messages import LineOutcome, ReturnReason, ReturnStatus
from domains.shared import CartStatus
from domains.webhooks.messages import EventType

ENUMS: dict[str, type[StrEnum]] = {
    "order_status": OrderStatus, "supplier_status": SupplierOrderStatus, "strategy": Strategy,
    "cart_status": CartStatus, "checkout_step": Step, "checkout_outcome": CheckoutOutcome,
    "reservation_status": ReservationStatus, "reindex_stage": ReindexStage, "role": Role,
    "step_type": StepType, "trigger": Trigger, "apply_to": ApplyTo,
    "enrollment_status": EnrollmentStatus, "event_type": EventType,
    "return_status": ReturnStatus, "return_reason": ReturnReason, "return_outcome": LineOutcome,
}


@pytest.mark.parametrize("kind", sorted(ENUMS))
def test_every_enum_value_has_a_word_in_the_table(kind: str) -> None:
    missing = [m.value for m in ENUMS[kind] if m.value not in _TABLE[kind]]
    assert missing == []


def test_the_raw_words_shoppers_and_clerks_saw_read_as_words() -> None:
    assert label("supplier_status", SupplierOrderStatus.IN_PRODUCTION) == "In production"
    assert label("order_status", "partially_shipped") == "Partly shipped"
    assert label("step_type", StepType.SEND_EMAIL) == "Send an email"


def test_a_value_the_table_does_not_know_is_still_not_a_code() -> None:
    assert label("order_status", "on_hold_for_review") == "On hold for review"
    assert label("no_such_kind", "SOME_THING") == "Some thing"
    assert label("order_status", None) == ""


def test_a_fulfillment_history_note_reads_as_a_stage_in_words():
    from domains.labels import fulfillment_note

    assert fulfillment_note("DHC6PU3C-1 in_production") == ("DHC6PU3C-1", "In production", "")
    assert fulfillment_note("DHC6PU3C-2 rejected: out of blanks") == ("DHC6PU3C-2", "Rejected by the supplier",
                                                                      "out of blanks")
    assert fulfillment_note("a note a person wrote") is None and fulfillment_note(None) is None
