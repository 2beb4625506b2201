"""Identity's entity workflows: one per shopper, staff user and API token, and one for
the shop's settings.

Every change follows the same path: validate, apply to a copy, save the copy through an
activity, and only then make it the state. A change the store never received is
therefore never visible in a query either, and changes to one entity are saved in order
(one lock per workflow). Each update returns after its row is in the store, so the web
process can read its own writes on the next request.

One module per workflow; `common` holds the activity options and helpers they share."""

from __future__ import annotations

from .api_token import ApiTokenWorkflow
from .common import MAX_CHANGES_PER_RUN
from .settings_record import ShopSettingsWorkflow
from .shopper import ShopperWorkflow
from .staff import StaffWorkflow

__all__ = ["MAX_CHANGES_PER_RUN", "ApiTokenWorkflow", "ShopSettingsWorkflow", "ShopperWorkflow", "StaffWorkflow"]
