"""English dates as the portal writes them (see `portal.formats`).

Times always with their minutes and without full stops ("9:00 PM", "9:05 PM"): Django's "P"
wrote "9 p.m." beside "9:05 p.m.", and a sentence ending on a time read "12:41 a.m..".
"""
from django.conf.locale.en.formats import SHORT_DATE_FORMAT

TIME_FORMAT = "g:i A"
SHORT_DATETIME_FORMAT = f"{SHORT_DATE_FORMAT} {TIME_FORMAT}"
DATE_FORMAT = SHORT_DATE_FORMAT
DATETIME_FORMAT = SHORT_DATETIME_FORMAT
