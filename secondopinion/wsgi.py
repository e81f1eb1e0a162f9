"""The WSGI application gunicorn serves (gunicorn.conf.py), behind the slow-client guard."""

from __future__ import annotations

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "secondopinion.settings")

from secondopinion.slowclients import SlowClientGuard  # noqa: E402  (needs the settings module set)

application = SlowClientGuard(get_wsgi_application())
