"""A cadence subject is a template staff type in: it may print values and use if/for, and
anything else is the 400 `template_not_allowed`, checked before Django compiles it (compiling
`{% include '../settings.py' %}` raised AttributeError: a 500 on save)."""

from __future__ import annotations

import pytest

from domains.cadences.steps import subject_tags_not_allowed
from storefront.cadence_email import subject_problem

# each one a tag that reaches other templates, files, settings or the request
HOSTILE_SUBJECTS = [
    "{% include '../settings.py' %}",
    '{%include "cadence_emails/welcome.txt"%}',
    "{% include '/etc/passwd' %}",
    "Hi {{ name }} {% extends 'shop/base.html' %}",
    "{% load static %}{% static 'x' %}",
    "{% ssi '/etc/passwd' %}",
    "{% debug %}",
    "{% url 'shop' %}",
    "{% csrf_token %}",
    "{% with a=name %}{{ a }}{% endwith %}",
    "{% filter upper %}x{% endfilter %}",
    "{% if name %}{% include '../settings.py' %}{% endif %}",
    "{% block x %}{% endblock %}",
    "{%%}",
]


@pytest.mark.parametrize("subject", HOSTILE_SUBJECTS)
def test_tags_other_than_if_and_for_are_not_allowed(subject):
    assert subject_tags_not_allowed(subject)
    code, message = subject_problem(subject)
    assert code == "template_not_allowed", message


@pytest.mark.parametrize("subject", [
    "Welcome, {{ name }}", "Still looking?", "{% if order_code %}Order {{ order_code }}{% else %}Hi{% endif %}",
    "{% for line in lines %}{{ line.name|upper }}{% empty %}nothing{% endfor %}", "{# a note #}Hello",
    "50% off {{ shop_name }}", "{ not a tag }",
])
def test_values_if_and_for_are_allowed(subject):
    assert subject_tags_not_allowed(subject) == []
    assert subject_problem(subject) is None


@pytest.mark.parametrize("subject", ["{% if %}", "{% for x %}{% endfor %}", "{{ }}", "{% endif %}"])
def test_a_broken_template_is_an_invalid_parameter(subject):
    code, message = subject_problem(subject)
    assert code == "invalid_parameter" and "not a valid template" in message
