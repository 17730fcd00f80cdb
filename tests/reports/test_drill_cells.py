"""The dashboard's drill tables are written with f-strings and `html.escape` (their
`format_html` spelling was a fifth of a cold dashboard), and must stay the very HTML the
`format_html` spelling wrote: the reference below is that spelling, kept here verbatim.
Counts are written by `portal.formatting.int_formatter`, held equal to `format_int`, rates by
`percent_formatter`, held equal to `format_percent`, days by `day_formatter`, held equal to
`format_day`, and titles through `active_ngettext`."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace

import pytest
from django.utils import translation
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from portal.formatting import (
    active_ngettext,
    day_formatter,
    format_day,
    format_int,
    format_percent,
    int_formatter,
    percent_formatter,
)
from reports import drill
from reports.templatetags import drill_tags

LANGUAGES = ["en", "pt-br"]


def reference_link(text, calls, url):
    title = ngettext("Open the %(n)s call behind this figure",
                     "Open the %(n)s calls behind this figure", calls) % {"n": format_int(calls)}
    return format_html('<a class="drill" href="{}" data-calls="{}" title="{}">{}</a>',
                       url, calls, title, text)


def reference_series_rows(doors, series) -> str:
    notes = {"missing": _("not mirrored"), "partial": _("partial")}

    def label(point) -> str:
        day = date_format(point.start, "SHORT_DATE_FORMAT")
        note = notes.get(getattr(point, "state", "covered"))
        return f"{day} ({note})" if note else day

    def row(point):
        f = point.figures
        if f is None:
            return label(point), format_html_join("", '<td class="num">{}</td>',
                                                  [("–",)] * 6)
        span = {"start": point.start, "end": point.end}
        cells = [(f.total, {})] + [(drill.outcome_count(f, o), {"outcome": o})
                                   for o in ("answered", "no_answer", "busy", "failed")]
        html = format_html_join("", '<td class="num">{}</td>', (
            (reference_link(format_int(n), n, doors.url(**span, **extra))
             if n else format_int(n),) for n, extra in cells))
        return label(point), format_html('{}<td class="num">{}</td>', html,
                                         format_percent(f.answer_rate))

    return format_html_join("", "<tr><td>{}</td>{}</tr>", (row(p) for p in series))


def reference_heatmap_rows(doors, rows) -> str:
    def cells(weekday, values):
        out = []
        for hour, (n, share) in enumerate(values):
            text = reference_link(format_int(n), n, doors.url(weekday=weekday, hour=hour)) \
                if n else format_int(n)
            out.append((f"{share * 0.6:.2f}", text))
        return format_html_join("", '<td style="background: rgba(29,78,216,{})">{}</td>', out)

    return format_html_join("", '<tr><th scope="row">{}</th>{}</tr>', (
        (str(day), cells(i, values)) for i, (day, values) in enumerate(rows)))


def scope():
    return SimpleNamespace(start=date(2026, 5, 1), end=date(2026, 6, 30),
                           environments=[SimpleNamespace(pk=4), SimpleNamespace(pk=9)],
                           agent_ids=["agent <&> \"ç\""], direction="inbound")


def figures(n: int):
    return SimpleNamespace(total=n * 7, answered=n * 3, no_answer=n, busy=0, failed=n * 2 + 1,
                           other=n, answer_rate=None if n == 0 else 3 / 7)


def series():
    first = date(2026, 5, 1)
    points = []
    for i in range(12):
        state = "missing" if i == 4 else "partial" if i == 11 else "covered"
        points.append(SimpleNamespace(start=first + timedelta(days=i),
                                      end=first + timedelta(days=i), state=state,
                                      figures=None if state == "missing" else figures(i * 517)))
    return points


HEATMAP = [(name, [(n, round(n / 4000, 2)) for n in (0, 1, 2, 999, 1000, 3999, 1234567)])
           for name in ("Mon", "Tue", "<Wed & co>")]


@pytest.mark.parametrize("language", LANGUAGES)
def test_series_rows_are_the_format_html_spelling(language):
    doors = drill.Drill("org-a", scope())
    with translation.override(language):
        written = drill_tags.drill_series_rows({"drill": doors}, series())
        assert isinstance(written, SafeString)
        assert written == reference_series_rows(doors, series())


@pytest.mark.parametrize("language", LANGUAGES)
def test_heatmap_rows_are_the_format_html_spelling(language):
    doors = drill.Drill("org-a", scope())
    with translation.override(language):
        written = drill_tags.drill_heatmap_rows({"drill": doors}, HEATMAP)
        assert written == reference_heatmap_rows(doors, HEATMAP)


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("text", ["Agent <b>&</b> \"7\"", mark_safe("<i>kept</i>"), 1234,
                                  _("partial")])
def test_a_drill_link_escapes_as_format_html(language, text):
    with translation.override(language):
        assert drill_tags._link(text, 1234, "/o/a/calls/?x=1&y=<2>") == reference_link(
            text, 1234, "/o/a/calls/?x=1&y=<2>")


@pytest.mark.parametrize("language", [*LANGUAGES, None])
def test_int_formatter_writes_what_format_int_writes(language):
    values = [None, 0, 1, -1, 7, 999, 1000, -1000, 12345, 999999, 1000000, -7654321,
              10**15 + 3, True, 12.5, "1234"]
    with translation.override(language):
        write = int_formatter()
        for value in values:
            assert write(value) == format_int(value), value


@pytest.mark.parametrize("language", [*LANGUAGES, None])
def test_percent_formatter_writes_what_format_percent_writes(language):
    """Every rate a table can hold (0-1, rounding edges, each thousandth) and what it cannot
    (None, ints, above 1, negative, not a number): the same text as `format_percent`."""
    values = [None, 0, 1, 0.0, 1.0, 0.00049, 0.0005, 0.00051, 0.12345, 0.12355, 0.98765,
              0.99949, 0.9995, 0.99951, 2 / 3, 1 / 7, 1.5, 12.345, -0.1, -0.00001,
              float("nan"), float("inf"), True, "0.5"]
    values += [i / 1000 for i in range(1001)] + [i / 1000 + 0.0005 for i in range(1000)]
    with translation.override(language):
        write = percent_formatter()
        for value in values:
            try:
                expected = format_percent(value)
            except (TypeError, ValueError, ArithmeticError) as refused:
                with pytest.raises(type(refused)):
                    write(value)
                continue
            assert write(value) == expected, value


@pytest.mark.parametrize("language", [*LANGUAGES, None])
@pytest.mark.parametrize("fmt", [None, "j.n.y", "D, d M Y", r"\\d\\a\\y d"])
def test_day_formatter_writes_what_format_day_writes(language, fmt, monkeypatch):
    """The languages' own formats, and others: numbers only (the short path), names and an
    escape (through `format_day`)."""
    from django.utils import formats

    import portal.formatting

    if fmt is not None:
        original = formats.get_format

        def get_format(name, *args, **kwargs):
            return fmt if name == "SHORT_DATE_FORMAT" else original(name, *args, **kwargs)

        monkeypatch.setattr(formats, "get_format", get_format)
        monkeypatch.setattr(portal.formatting, "get_format", get_format)
    days = [None, date(1, 1, 1), date(999, 12, 31), date(2026, 2, 28), date(9999, 12, 31)]
    days += [date(2026, 1, 1) + timedelta(days=i * 37) for i in range(200)]
    days += [datetime(2026, 11, 24, 23, 59, tzinfo=UTC)]
    with translation.override(language):
        write = day_formatter()
        assert (write is format_day) == (fmt is not None and fmt != "j.n.y")
        for day in days:
            assert write(day) == format_day(day), day
        assert fmt is None or format_day(date(2026, 3, 4)) == date_format(
            date(2026, 3, 4), fmt)


@pytest.mark.parametrize("language", LANGUAGES)
def test_active_ngettext_is_the_language_ngettext(language):
    with translation.override(language):
        plural = active_ngettext()
        for n in (0, 1, 2, 5, 1000):
            assert plural("Open the %(n)s call behind this figure",
                          "Open the %(n)s calls behind this figure", n) == ngettext(
                "Open the %(n)s call behind this figure",
                "Open the %(n)s calls behind this figure", n)
    assert language == "en" or plural("Open the %(n)s call behind this figure",
                                      "Open the %(n)s calls behind this figure", 2) != (
        "Open the %(n)s calls behind this figure")


TOP_AGENTS_TEMPLATE = (
    '{% load portal_tags drill_tags %}{% for a in top_agents %}<tr><td>'
    '{% agent_label a scope as label %}{% drill_link label a.figures.total '
    'env_id=a.environment_id agent_id=a.agent_id %}</td><td class="num">{% drill_link '
    'a.figures.total|count a.figures.total env_id=a.environment_id agent_id=a.agent_id %}'
    '</td><td class="num">{% drill_link a.figures.answered|count a.figures.answered '
    'env_id=a.environment_id agent_id=a.agent_id outcome="answered" %}</td><td class="num">'
    '{{ a.figures.answer_rate|percent }}</td><td class="num">'
    '{{ a.figures.talk_time_total|duration }}</td><td class="num">'
    '{{ a.figures.talk_time_avg|duration }}</td></tr>{% endfor %}')


def agent_rows():
    def figures_of(total, answered):
        return SimpleNamespace(total=total, answered=answered,
                               answer_rate=answered / total if total else None,
                               talk_time_total=answered * 61.5 if total else None,
                               talk_time_avg=61.5 if answered else None)

    return [SimpleNamespace(name=name, agent_id=agent_id, environment_id=env, figures=f)
            for name, agent_id, env, f in [
                ("Desk <&> \"1\"", "agent/1?&", 4, figures_of(123456, 7890)),
                ("", "", 9, figures_of(3, 0)),
                ("Nobody", "agent-0", 4, figures_of(0, 0)),
                ("Atendimento São Paulo", "a b", 9, figures_of(1, 1))]]


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("several", [False, True])
def test_top_agent_rows_are_the_template_spelling(language, several):
    from django.template import engines

    the_scope = scope()
    the_scope.environments = [SimpleNamespace(pk=4, name="Main <env>"),
                              SimpleNamespace(pk=9, name="Second & co")][: 2 if several else 1]
    doors = drill.Drill("org-a", the_scope)
    context = {"drill": doors, "scope": the_scope, "top_agents": agent_rows()}
    with translation.override(language):
        reference = engines["django"].from_string(TOP_AGENTS_TEMPLATE).render(context)
        written = drill_tags.drill_top_agent_rows(context, agent_rows(), the_scope)
        assert written == reference


BREAKDOWN_LOOP = (
    '{% load portal_tags %}{% for label, n, d in items %}<tr><th scope="row">{{ label }}</th>'
    '<td class="num">{% if d.calls %}<a class="drill" href="{{ d.url }}" '
    'data-calls="{{ d.calls }}">{{ n|count }}</a>{% else %}{{ n|count }}{% endif %}'
    '</td></tr>{% endfor %}')


@pytest.mark.parametrize("language", LANGUAGES)
def test_breakdown_rows_are_the_template_loop(language):
    """The dashboard's loop before `drill_breakdown_rows`, verbatim, over counts of every size
    (and none), lazy, escaped and safe labels, doors with and without calls."""
    from django.template import engines
    from django.utils.translation import gettext_lazy

    labels = ["Answered", gettext_lazy("In progress"), "<Unknown & \"stale\">",
              mark_safe("<b>kept</b>")]
    items = [(labels[i % 4], n, drill.Door(f"/o/a/calls/?n={n}&x=<{i}>", n if i % 3 else 0))
             for i, n in enumerate([0, 1, 999, 1000, 1234567, None, 42])]
    with translation.override(language):
        reference = engines["django"].from_string(BREAKDOWN_LOOP).render({"items": items})
        assert drill_tags.drill_breakdown_rows(items) == reference
        assert "1.234.567" in reference or language == "en"


@pytest.mark.parametrize("language", LANGUAGES)
def test_heatmap_hours_are_the_template_loop(language):
    from django.template import engines

    loop = '{% for h in hours %}<th scope="col">{{ h }}</th>{% endfor %}'
    for hours in (range(24), ["0h", "<1>", mark_safe("<b>2</b>")], [1234, 0.5]):
        with translation.override(language):
            reference = engines["django"].from_string(loop).render({"hours": hours})
            assert drill_tags.heatmap_hours(hours) == reference
