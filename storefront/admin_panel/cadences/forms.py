"""The cadence form: name, trigger, active, and the steps as a Django formset (one row a
step, reorderable and deletable, plus blank rows to add steps).

This module only reads what was typed: durations are parsed here ("2d 4h"), but whether the
steps can run (at least one, positive waits, known templates, subjects) is the domain's
`check_steps`, so the admin, the API and the workflow refuse the same things with the same
words.
"""

from __future__ import annotations

from django import forms
from pydantic import ValidationError

from domains.cadences.messages import ApplyTo, CadenceDefinition, SaveCadence, Trigger
from domains.cadences.steps import MAX_SUBJECT, Step, StepType, format_duration, parse_duration
from domains.labels import humanize, label

from ...cadence_email import subject_error

BLANK_ROWS = 3
PREFIX = "steps"

TRIGGER_LABELS = {
    Trigger.MANUAL: "manual (staff enroll contacts)",
    Trigger.CART_ABANDONED: "abandoned cart",
    Trigger.ORDER_DELIVERED: "order delivered (review request)",
}
APPLY_LABELS = {
    ApplyTo.RUNNING: "running enrollments too (each continues from where it is)",
    ApplyTo.NEW: "only enrollments started from now on",
}


class FormInvalid(ValueError):
    """What is wrong with the submitted form, as sentences a person can act on."""

    def __init__(self, problems: list[str]):
        super().__init__("; ".join(problems))
        self.problems = problems


class StepForm(forms.Form):
    id = forms.CharField(required=False, max_length=20, widget=forms.HiddenInput)
    type = forms.ChoiceField(required=False, choices=[("", "—"), *((t.value, label("step_type", t)) for t in StepType)])
    template = forms.CharField(required=False, max_length=100, widget=forms.Select)
    subject = forms.CharField(required=False, max_length=MAX_SUBJECT,
                              widget=forms.TextInput(attrs={"size": 36, "placeholder": "Welcome, {{ name }}"}))
    wait = forms.CharField(required=False, max_length=40,
                           widget=forms.TextInput(attrs={"size": 8, "placeholder": "2d 4h"}))

    def __init__(self, *args, templates: list[str] = (), **kwargs):
        super().__init__(*args, **kwargs)
        choices = [("", "—"), *((t, humanize(t)) for t in templates)]
        current = (self.initial or {}).get("template")
        if current and current not in templates:  # keep showing a template whose file went away
            choices.append((current, f"{current} (missing)"))
        self.fields["template"].widget.choices = choices
        self.fields["template"].widget.attrs.pop("maxlength", None)  # a <select> has no maxlength

    def clean(self):
        data = super().clean()
        kind = data.get("type")
        if not kind and any(data.get(f) for f in ("template", "subject", "wait")):
            raise forms.ValidationError("choose SEND_EMAIL or WAIT")
        if kind == StepType.SEND_EMAIL.value and (problem := subject_error(data.get("subject") or "")):
            raise forms.ValidationError(f"subject: {problem}")
        if kind == StepType.WAIT.value:
            try:
                data["seconds"] = parse_duration(data.get("wait") or "")
            except ValueError:
                raise forms.ValidationError(
                    f"{(data.get('wait') or '')[:40]!r} is not a duration like 2d 4h, 90m or 45s") from None
        return data

    def step(self) -> Step | None:
        """The step this row describes; None for a row left empty."""
        data = self.cleaned_data
        if not data.get("type"):
            return None
        if data["type"] == StepType.WAIT.value:
            return Step(id=data.get("id") or "", type=StepType.WAIT, seconds=data["seconds"])
        return Step(id=data.get("id") or "", type=StepType.SEND_EMAIL, template=data.get("template") or None,
                    subject=(data.get("subject") or "").strip() or None)


StepFormSet = forms.formset_factory(StepForm, extra=BLANK_ROWS, can_order=True, can_delete=True)


class CadenceForm(forms.Form):
    name = forms.CharField(max_length=120, widget=forms.TextInput(attrs={"size": 40}))
    trigger = forms.ChoiceField(choices=[(t.value, label) for t, label in TRIGGER_LABELS.items()],
                                initial=Trigger.MANUAL.value)
    active = forms.BooleanField(required=False, initial=True)


class EditCadenceForm(CadenceForm):
    apply_to = forms.ChoiceField(choices=[(a.value, label) for a, label in APPLY_LABELS.items()],
                                 initial=ApplyTo.RUNNING.value, widget=forms.RadioSelect)
    expected_version = forms.IntegerField(min_value=0, widget=forms.HiddenInput)


def step_row(step: Step, position: int) -> dict:
    return {"id": step.id, "type": step.type.value, "template": step.template or "", "subject": step.subject or "",
            "wait": format_duration(step.seconds) if step.seconds else "", "ORDER": position}


def blank(templates: list[str]) -> tuple[CadenceForm, StepFormSet]:
    return CadenceForm(), StepFormSet(prefix=PREFIX, form_kwargs={"templates": templates})


def for_edit(definition: CadenceDefinition, templates: list[str]) -> tuple[EditCadenceForm, StepFormSet]:
    form = EditCadenceForm(initial={"name": definition.name, "trigger": definition.trigger.value,
                                    "active": definition.active, "apply_to": ApplyTo.RUNNING.value,
                                    "expected_version": definition.version})
    rows = [step_row(s, n) for n, s in enumerate(definition.steps, 1)]
    return form, StepFormSet(prefix=PREFIX, initial=rows, form_kwargs={"templates": templates})


def bound(post, templates: list[str], *, editing: bool) -> tuple[CadenceForm, StepFormSet]:
    form = (EditCadenceForm if editing else CadenceForm)(post)
    return form, StepFormSet(post, prefix=PREFIX, form_kwargs={"templates": templates})


def _problems(form: CadenceForm, steps: StepFormSet) -> list[str]:
    problems = [f"{name.replace('_', ' ')}: {message}" for name, errors in form.errors.items() for message in errors]
    problems += [str(message) for message in steps.non_form_errors()]
    for row, step_form in enumerate(steps.forms, 1):
        for name, errors in step_form.errors.items():
            where = f"row {row}" if name == "__all__" else f"row {row} {name}"
            problems += [f"{where}: {message}" for message in errors]
    return problems


def save_request(form: CadenceForm, steps: StepFormSet, actor: str) -> SaveCadence:
    """The SaveCadence the form asks for; FormInvalid when it cannot be read. The steps
    themselves are checked by the domain when saving."""
    form_ok, steps_ok = form.is_valid(), steps.is_valid()  # both, so every problem is listed at once
    if not (form_ok and steps_ok):
        raise FormInvalid(_problems(form, steps))
    chosen = [s for s in (f.step() for f in steps.ordered_forms) if s is not None]
    data = form.cleaned_data
    try:
        return SaveCadence(name=data["name"].strip(), trigger=Trigger(data["trigger"]), active=data["active"],
                           steps=chosen, apply_to=ApplyTo(data.get("apply_to") or ApplyTo.RUNNING.value),
                           expected_version=data.get("expected_version"), actor=actor)
    except ValidationError as exc:
        raise FormInvalid([f"{'.'.join(str(p) for p in e['loc']) or 'form'}: {e['msg']}"
                           for e in exc.errors()]) from None
