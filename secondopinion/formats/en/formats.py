# One way to write a date in English, day first and the month in words, so that no reader takes
# 12/03 for 3 December or 12 March; times on the 24-hour clock, in the person's own time zone
# (accounts.middleware.UserTimeZoneMiddleware). Templates use these names, never their own
# format strings: DATE_FORMAT in sentences, SHORT_* in tables.
DATE_FORMAT = "j F Y"  # 3 December 2026
DATETIME_FORMAT = "j F Y, H:i"  # 3 December 2026, 10:29
SHORT_DATE_FORMAT = "j M Y"  # 3 Dec 2026
SHORT_DATETIME_FORMAT = "j M Y, H:i"  # 3 Dec 2026, 10:29
TIME_FORMAT = "H:i"
YEAR_MONTH_FORMAT = "F Y"
MONTH_DAY_FORMAT = "j F"
