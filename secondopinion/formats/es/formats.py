# The one way dates are written in Spanish pages and e-mails (../en/formats.py says why these
# names and no others).
DATE_FORMAT = r"j \d\e F \d\e Y"  # 3 de diciembre de 2026
DATETIME_FORMAT = r"j \d\e F \d\e Y, H:i"  # 3 de diciembre de 2026, 10:29
SHORT_DATE_FORMAT = "j b Y"  # 3 dic 2026
SHORT_DATETIME_FORMAT = "j b Y, H:i"  # 3 dic 2026, 10:29
TIME_FORMAT = "H:i"
YEAR_MONTH_FORMAT = r"F \d\e Y"
MONTH_DAY_FORMAT = r"j \d\e F"
