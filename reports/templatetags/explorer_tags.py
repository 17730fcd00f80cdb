"""`{% explorer_fields filter %}`: the calls explorer's filter form, each field with its label.

Written in Python: the template's loop asked each of the form's 15 fields for its name, label
and id, and the template engine looks each of those up on a bound field as an item first (a
`TypeError` raised and caught every time): 1.2 ms of a search page's 14 ms of template time.
The same bytes as the loop it replaced (`LOOP` in tests/reports/test_explorer_env_choice.py,
rendered beside it): the "Include test calls" checkbox wrapped in its label, the environment
choice left out when the organisation has one environment, every other field after its label.
"""
from __future__ import annotations

from django import template
from django.utils.safestring import SafeString

from portal.form_renderer import template_text

register = template.Library()


@register.simple_tag
def explorer_fields(filterset) -> str:
    out = []
    one_environment = len(filterset.environment_ids) < 2
    for field in filterset.form:
        if field.name == "testing":
            shown = (f"<div><label>{template_text(field)} {template_text(field.label)}"
                     f"</label></div>\n    ")
        elif field.name == "env" and one_environment:
            shown = "\n    "
        else:
            shown = (f'<div><label for="{template_text(field.id_for_label)}">'
                     f"{template_text(field.label)}</label>{template_text(field)}</div>")
        out.append(f"\n    {shown}\n  ")
    return SafeString("".join(out))
