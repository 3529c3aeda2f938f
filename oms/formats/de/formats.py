"""German date formats for the cockpit (settings.FORMAT_MODULE_PATH): day and month as numbers,
as on a German receipt, so a date fits a table column. Everything else is Django's German."""

DATE_FORMAT = "d.m.Y"
DATETIME_FORMAT = "d.m.Y H:i"
SHORT_DATE_FORMAT = "d.m.Y"
SHORT_DATETIME_FORMAT = "d.m.Y H:i"
