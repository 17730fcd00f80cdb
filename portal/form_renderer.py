"""The form renderer: the hottest widget templates written in Python, the rest as templates.

The calls explorer's filter form holds eight selects (~170 options) and six inputs; through
the template engine they were a third of a search page's template time (a loop, an `if` and
a filter per attribute of every option). `WidgetRenderer` writes `select.html` (our override
in templates/django/forms/widgets/, options inline) and the `<input>` family exactly as those
templates do — same escaping (`conditional_escape`), same localisation of values
(`render_value_in_context`), same `stringformat:'s'` of values — and renders any other
template as `TemplatesSetting` does, so an override added later still works. A template
override of one of the written widgets is honoured too: the Python spelling is used only
while the template is the one it was written from (`SPELLED`, checked once per process).
tests/portal/test_form_renderer.py holds both spellings equal over the explorer's and the
dashboard's forms and hostile values. `KeptSelect` keeps a select's HTML per process for its
inputs (the filter forms' selects).
"""
from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable
from functools import cache
from html import escape
from typing import Any

from django import forms
from django.forms.renderers import TemplatesSetting
from django.template.base import render_value_in_context
from django.template.context import Context
from django.template.loader import get_template
from django.utils.functional import Promise
from django.utils.safestring import SafeData, SafeString, mark_safe
from django.utils.translation import get_language

_CONTEXT = Context(autoescape=True)


def template_text(value: Any) -> str:
    """`{{ value }}` in a widget template (localised, escaped unless safe).

    Text, safe text and lazy text (nearly every value of a select: names, values, labels)
    take the short way: for them `render_value_in_context` localises nothing and escapes
    with `html.escape`, but through two lazy-aware wrappers that were most of a select's
    cost (a 25-option select: 54 values)."""
    kind = type(value)
    if kind is str:
        return escape(value)
    if kind is SafeString:
        return value
    if isinstance(value, Promise):
        return escape(str(value))
    return render_value_in_context(value, _CONTEXT)


def _formatted(value: Any) -> str:
    """`{{ value|stringformat:'s' }}`: "%s" of the value (a tuple's `str`, as the filter does:
    the same text), safe only if the value was."""
    shown = str(value)
    return template_text(mark_safe(shown) if isinstance(value, SafeData) else shown)


def _attrs(attrs: dict) -> str:
    """django/forms/widgets/attrs.html."""
    out = []
    for name, value in attrs.items():
        if value is not False:
            out.append(f" {template_text(name)}" if value is True
                       else f' {template_text(name)}="{_formatted(value)}"')
    return "".join(out)


def _select(context: dict) -> str:
    """templates/django/forms/widgets/select.html."""
    widget = context["widget"]
    out = [f'<select name="{template_text(widget["name"])}"{_attrs(widget["attrs"])}>']
    for group_name, group_choices, _index in widget["optgroups"]:
        if group_name:
            out.append(f'\n  <optgroup label="{template_text(group_name)}">')
        for option in group_choices:
            out.append(f'\n  <option value="{_formatted(option["value"])}"'
                       f'{_attrs(option["attrs"])}>{template_text(option["label"])}</option>')
        if group_name:
            out.append("\n  </optgroup>")
    out.append("\n</select>\n")
    return "".join(out)


def _input(context: dict) -> str:
    """django/forms/widgets/input.html."""
    widget = context["widget"]
    value = widget["value"]
    shown = f' value="{_formatted(value)}"' if value != None else ""  # noqa: E711 (as `!=`)
    return (f'<input type="{template_text(widget["type"])}" '
            f'name="{template_text(widget["name"])}"{shown}{_attrs(widget["attrs"])}>\n')


def _input_kind(context: dict) -> str:
    """text.html, date.html, …: `{% include "django/forms/widgets/input.html" %}` + newline."""
    return _input(context) + "\n"


SELECT, INPUT, ATTRS = (f"django/forms/widgets/{name}.html" for name in ("select", "input",
                                                                        "attrs"))
# The sha256 of each template source the Python spelling was written from.
SOURCES = {
    SELECT: "0f1dd4acc24ca4a82a018bea34977b87a7628cdfb4b71fc41fc8e8c4db2f96d7",
    INPUT: "770cf3acba1c18b65021a19efbf5fc93bcfcee357a005b67dbc2e2967527507d",
    ATTRS: "f729483efe44660fabc76a8f2e0a1b464c3a66afd625233c92dd74e8fa5261ad",
    # text.html, date.html, …: `{% include "django/forms/widgets/input.html" %}` + newline.
    "input kind": "7d7a5bc4ccc075bbff6af7d60b9e3ae200f68c59e0f77d44abbbf36f3cb5fb20",
}
INPUT_KINDS = ("text", "date", "checkbox", "number", "search", "email", "url", "password",
               "hidden", "tel", "time", "datetime", "color")
# Each written template: the sources it reads, and its writer.
SPELLED: dict[str, tuple[tuple[str, ...], Callable[[dict], str]]] = {
    SELECT: ((SELECT, ATTRS), _select), INPUT: ((INPUT, ATTRS), _input),
    **{f"django/forms/widgets/{kind}.html": ((INPUT, ATTRS), _input_kind)
       for kind in INPUT_KINDS},
}


def source_digest(template_name: str) -> str:
    """The sha256 of the template source the engine would load for `template_name`."""
    template = get_template(template_name).template
    return hashlib.sha256(template.source.encode()).hexdigest()


@cache
def _writer(template_name: str) -> Callable[[dict], str] | None:
    """The Python spelling of `template_name`, or None: not written, or a template it reads
    is not the source it was written from (an override: the template is then rendered)."""
    spelled = SPELLED.get(template_name)
    if spelled is None:
        return None
    sources, write = spelled
    if template_name not in sources:
        sources = (*sources, template_name)
    for name in sources:
        expected = SOURCES.get(name) or SOURCES["input kind"]
        if source_digest(name) != expected:
            return None
    return write


class WidgetRenderer(TemplatesSetting):
    """`TemplatesSetting` with the written widgets (see the module docstring)."""

    def render(self, template_name: str, context: dict, request=None) -> str:
        write = _writer(template_name)
        if write is None:
            return super().render(template_name, context, request)
        return SafeString(write(context).strip())  # as `BaseRenderer.render` strips


class _Same:
    """A lazy label in a kept select's key, by identity: the key holds the label itself, so
    no other object takes its id while the entry lives."""

    __slots__ = ("label",)

    def __init__(self, label: Promise) -> None:
        self.label = label

    def __hash__(self) -> int:
        return id(self.label)

    def __eq__(self, other: object) -> bool:
        return type(other) is _Same and other.label is self.label


def _label_key(label: Any) -> Any:
    """What a choice's label puts in a kept select's key: text as it is (an agent's name:
    a renamed agent is a new key); a lazy label by identity, its text being a function of
    the language, which the key holds (turning the explorer's ~120 lazy labels into text was
    ~8 % of a search page's CPU, for the same text each time); a group's choices each
    so; anything else its type and text (a safe label is not a plain one of the same text)."""
    kind = type(label)
    if kind is str:
        return label
    if isinstance(label, Promise):
        return _Same(label)
    if kind in (list, tuple):
        return tuple((v, _label_key(inner)) for v, inner in label)
    return kind, str(label)


class KeptSelect(forms.Select):
    """A select whose HTML is kept in the process for what it is a function of: its name,
    value, attributes, choices (values, and labels as `_label_key` keys them), the language and
    the renderer.

    Django builds a dict per option before any template or writer sees it; for the explorer's
    eight selects that was ~1.5 ms of every search page, for the same few inputs each time.
    Choices read from the database (agents) are part of the key, so a renamed agent is a new
    entry, never a stale one. Anything unhashable is rendered as `Select` renders it; the
    last `KEPT_SELECTS` entries are kept (hostile values cannot grow it)."""

    def render(self, name, value, attrs=None, renderer=None):
        try:
            key = (type(self), name, tuple(self.format_value(value)),
                   tuple(self.build_attrs(self.attrs, attrs).items()),
                   tuple((v, _label_key(label)) for v, label in self.choices), get_language(),
                   type(renderer), self.is_required)
            hash(key)
        except (TypeError, ValueError):  # an unhashable value, attribute or choice
            return super().render(name, value, attrs, renderer)
        with _kept_lock:
            html = _kept_selects.get(key)
            if html is not None:
                _kept_selects.move_to_end(key)
        if html is None:
            html = super().render(name, value, attrs, renderer)
            with _kept_lock:
                _kept_selects[key] = html
                if len(_kept_selects) > KEPT_SELECTS:
                    _kept_selects.popitem(last=False)
        return html


KEPT_SELECTS = 512
_kept_selects: OrderedDict[tuple, str] = OrderedDict()
_kept_lock = threading.Lock()
