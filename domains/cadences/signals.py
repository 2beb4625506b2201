"""What the cadences' activities send a running enrollment workflow.

The workflows module imports the activities, so the activities cannot import
`EnrollmentWorkflow`; they call through these declarations instead, which carry the wire
names of its handlers (tests/replay/test_signal_declarations.py checks they match).
"""

from __future__ import annotations

from temporalio import workflow

from .messages import CancelEnrollment, EnrollmentView, UpdateSteps


class EnrollmentCalls:
    """Implemented by `EnrollmentWorkflow.update_steps` and `EnrollmentWorkflow.cancel`."""

    @workflow.signal(name="update_steps")
    def update_steps(self, update: UpdateSteps) -> None:
        raise NotImplementedError  # a declaration only: the enrollment workflow handles it

    @workflow.update(name="cancel")
    def cancel(self, request: CancelEnrollment) -> EnrollmentView:
        raise NotImplementedError  # a declaration only: the enrollment workflow handles it
