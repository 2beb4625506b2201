"""`{{ value|label:"order_status" }}` in every template (a builtin in settings.TEMPLATES): the
human word from the one table in domains/labels.py, shared with the emails."""

from django import template

from domains.labels import fulfillment_note as parse_fulfillment_note
from domains.labels import label as human_label

register = template.Library()


@register.filter(name="label")
def label(value: object, kind: str) -> str:
    return human_label(kind, value)


@register.filter(name="fulfillment_note")
def fulfillment_note(note: str | None) -> str:
    """"DHC6PU3C-1 in_production: why" -> "DHC6PU3C-1: In production (why)"; other text as it is."""
    parsed = parse_fulfillment_note(note)
    if parsed is None:
        return note or ""
    so_id, stage, why = parsed
    return f"{so_id}: {stage}" + (f" ({why})" if why else "")
