"""Brazilian Portuguese dates as the portal writes them (see `portal.formats`)."""
from django.conf.locale.pt_BR.formats import SHORT_DATE_FORMAT, SHORT_DATETIME_FORMAT

DATE_FORMAT = SHORT_DATE_FORMAT
DATETIME_FORMAT = SHORT_DATETIME_FORMAT
