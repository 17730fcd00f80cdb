"""CSV responses for report pages: every chart's numbers, and the filtered calls."""
from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence

from django.http import HttpResponse, StreamingHttpResponse


class _Echo:
    def write(self, value: str) -> str:
        return value


def csv_response(filename: str, header: Sequence[str], rows: Iterable[Sequence]) -> HttpResponse:
    """A streamed CSV download; rows may be a generator over millions of records."""
    writer = csv.writer(_Echo())

    def lines():
        yield writer.writerow(header)
        for row in rows:
            yield writer.writerow(row)

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
