"""Cadences' workflows.

- `CadenceWorkflow` (`cadence-definition-{id}`): one per cadence. It owns the definition:
  every save is an update that validates, numbers new steps, saves the version and returns
  it; then, when the edit applies to running enrollments, it sends them the new steps.
- `EnrollmentWorkflow` (`cadence-{cadence_id}-{contact_id}`): one contact walking one
  cadence. WAIT is a durable timer, SEND_EMAIL two activities (render, then send) keyed so
  a step is sent at most once. It takes new steps by signal at any time and continues from
  where it stands.
- `UnsubscribeWorkflow` (`cadence-unsubscribe-{contact_id}`): records the unsubscribe, then
  ends every enrollment of the contact.

One module per workflow; `common` holds the activity options and helpers they share."""

from __future__ import annotations

from .cadence import CadenceWorkflow
from .common import CADENCE_CONTACT, CADENCE_ID, CADENCE_STATE, CADENCE_STEP, enrollment_search_attributes
from .enrollment import EnrollmentWorkflow
from .unsubscribe import UnsubscribeWorkflow

__all__ = [
    "CADENCE_CONTACT",
    "CADENCE_ID",
    "CADENCE_STATE",
    "CADENCE_STEP",
    "CadenceWorkflow",
    "EnrollmentWorkflow",
    "UnsubscribeWorkflow",
    "enrollment_search_attributes",
]
