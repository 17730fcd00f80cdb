"""A table of rows, or its empty state, written once:
`{% data_table rows as row %}<thead>…</thead>{% row %}<td>…</td>{% empty %}…{% end_data_table %}`.

A list page showed either `<div class="empty">why</div>` or the boxed table (the
`table-wrap` scroll box that keeps a wide table from scrolling the page at 390 px, its
`<tbody>` and one `<tr>` a row), and each page spelled that frame out around its own cells.
Here the page gives only what is its own: the head, the cells of one row (with `row` bound to
the item) and the empty state's words.
"""
from __future__ import annotations

from django import template
from django.utils.safestring import SafeString

register = template.Library()


class DataTableNode(template.Node):
    def __init__(self, rows: template.base.FilterExpression, name: str,
                 head: template.NodeList, cells: template.NodeList,
                 empty: template.NodeList) -> None:
        self.rows, self.name = rows, name
        self.head, self.cells, self.empty = head, cells, empty

    def render(self, context: template.Context) -> str:
        rows = self.rows.resolve(context, ignore_failures=True)
        if not rows:
            return SafeString(f'<div class="empty">{self.empty.render(context).strip()}</div>')
        parts = ['<div class="table-wrap"><table>', self.head.render(context), "<tbody>\n"]
        with context.push():
            for row in rows:
                context[self.name] = row
                parts += ["<tr>", self.cells.render(context), "</tr>\n"]
        parts.append("</tbody>\n</table></div>")
        return SafeString("".join(parts))


@register.tag("data_table")
def data_table(parser: template.base.Parser, token: template.base.Token) -> DataTableNode:
    bits = token.split_contents()
    if len(bits) != 4 or bits[2] != "as":
        raise template.TemplateSyntaxError("{% data_table rows as row %} takes a list and a name")
    head = parser.parse(("row",))
    parser.delete_first_token()
    cells = parser.parse(("empty",))
    parser.delete_first_token()
    empty = parser.parse(("end_data_table",))
    parser.delete_first_token()
    return DataTableNode(parser.compile_filter(bits[1]), bits[3], head, cells, empty)
