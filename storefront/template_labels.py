"""`{{ value|label:"order_status" }}` in every template (a builtin in settings.TEMPLATES): the
human word from the one table in domains/labels.py, shared with the emails."""

from django import template

from domains.labels import label as human_label

register = template.Library()


@register.filter(name="label")
def label(value: object, kind: str) -> str:
    return human_label(kind, value)
