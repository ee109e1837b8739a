"""Spanish formats that differ from Django's: dates as dd/mm/aaaa (the rest, decimal comma included,
are Django's Spanish formats)."""

DATE_FORMAT = "d/m/Y"
DATETIME_FORMAT = "d/m/Y H:i"
SHORT_DATE_FORMAT = "d/m/Y"
SHORT_DATETIME_FORMAT = "d/m/Y H:i"
