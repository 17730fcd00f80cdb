"""`{% page_body body %}…{% end_page_body %}`: a report page's body, kept rendered.

`body` is a `reports.pages.page_cache.PageBody` (or None: rendered every time). When the view found
it kept, its HTML is sent as it is and the enclosed template is not rendered at all; otherwise
the body is rendered here and kept by the page's frame once the page is rendered
(`finish` in `reports.pages.page_cache`).
"""
from __future__ import annotations

from django import template
from django.utils.safestring import mark_safe

register = template.Library()


class PageBodyNode(template.Node):
    def __init__(self, body: template.base.FilterExpression, nodelist: template.NodeList):
        self.body, self.nodelist = body, nodelist

    def render(self, context: template.Context) -> str:
        body = self.body.resolve(context, ignore_failures=True)
        if body is None:
            return self.nodelist.render(context)
        if body.html is None:  # kept by the frame's `finish`, after the page is rendered
            body.html = str(self.nodelist.render(context))
        return mark_safe(body.html)  # noqa: S308 - our own rendering, kept as rendered


@register.tag("page_body")
def page_body(parser: template.base.Parser, token: template.base.Token) -> PageBodyNode:
    bits = token.split_contents()
    if len(bits) != 2:
        raise template.TemplateSyntaxError("{% page_body body %} takes one argument")
    nodelist = parser.parse(("end_page_body",))
    parser.delete_first_token()
    return PageBodyNode(parser.compile_filter(bits[1]), nodelist)
