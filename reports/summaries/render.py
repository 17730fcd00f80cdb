"""One recipient's summary email: subject / text / HTML trio, inline chart, optional CSV."""
from __future__ import annotations

from email.mime.image import MIMEImage
from email.mime.multipart import MIMEMultipart

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import translation

from reports.exports import csv_lines, summary_rows
from reports.models import ReportSubscription
from reports.summaries.figures import Summary
from reports.summaries.unsubscribe import unsubscribe_url

CHART_CID = "daily-calls@switchboard"


class SummaryMessage(EmailMultiAlternatives):
    """Text + HTML alternatives wrapped in multipart/related with the inline images.

    Django puts inline images next to attachments (multipart/mixed); Outlook and Gmail only
    show a `cid:` image reliably when it sits in multipart/related beside the HTML.
    """

    def __init__(self, *args, inline_images: list[MIMEImage] | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.inline_images = inline_images or []

    def _create_alternatives(self, msg):
        msg = super()._create_alternatives(msg)
        if not self.inline_images:
            return msg
        related = MIMEMultipart(_subtype="related")
        related.attach(msg)
        for image in self.inline_images:
            related.attach(image)
        return related


def summary_csv(summary: Summary) -> str:
    """The attachment: `reports.exports.summary_rows` as one CSV text."""
    return "".join(csv_lines(summary_rows(summary)))


def chart_image(summary: Summary, language: str) -> MIMEImage:
    image = MIMEImage(summary.chart_png(language), _subtype="png")
    image.add_header("Content-ID", f"<{CHART_CID}>")
    image.add_header("Content-Disposition", "inline", filename="daily-calls.png")
    return image


def build_message(
    subscription: ReportSubscription, summary: Summary, recipient: str, *, is_test: bool = False
) -> SummaryMessage:
    """The email for one recipient (own unsubscribe link and List-Unsubscribe headers)."""
    unsubscribe = unsubscribe_url(subscription.pk, recipient)
    context = {
        "subscription": subscription, "s": summary, "org": summary.organization,
        "recipient": recipient, "unsubscribe_url": unsubscribe, "is_test": is_test,
        "chart_cid": CHART_CID, "tz_name": subscription.tz_name,
    }
    with translation.override(subscription.language):
        subject = " ".join(render_to_string("emails/summary_subject.txt", context).split())
        text = render_to_string("emails/summary.txt", context)
        html = render_to_string("emails/summary.html", context)
    message = SummaryMessage(
        subject=subject, body=text, from_email=settings.DEFAULT_FROM_EMAIL, to=[recipient],
        headers={
            "List-Unsubscribe": f"<{unsubscribe}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "Auto-Submitted": "auto-generated",
        },
        inline_images=[chart_image(summary, subscription.language)],
    )
    message.attach_alternative(html, "text/html")
    if subscription.attach_csv:
        period = summary.period
        name = f"switchboard-{summary.organization.slug}-{period.start}-{period.end}.csv"
        message.attach(name, summary_csv(summary), "text/csv")
    return message
