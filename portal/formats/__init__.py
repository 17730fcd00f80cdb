"""Date formats (FORMAT_MODULE_PATH): the long ones are the short ones, so a date Django
writes by itself (the admin's object pages, `|date:"DATETIME_FORMAT"`) reads as the portal
writes it (`portal.formatting`: 11/23/2026 9:00 AM / 23/11/2026 09:00)."""
