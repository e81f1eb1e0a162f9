# One image for every process of secondopinion: web (gunicorn, the default command), Celery
# worker and beat, and one-shot management commands (migrate). See docker-compose.yml.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    VAR_DIR=/app/var

# gettext: compilemessages. Pango, HarfBuzz and a font: WeasyPrint renders the report PDFs.
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        gettext \
        libpango-1.0-0 \
        libpangoft2-1.0-0 \
        libharfbuzz-subset0 \
        fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*

# A fixed uid so that secret files on the host can be made readable to it (see docker-compose.yml).
RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --home-dir /nonexistent --no-create-home \
        --shell /usr/sbin/nologin app

WORKDIR /app

# Dependencies first, so that a code change does not reinstall them.
# requirements.txt is generated from pyproject.toml, with pinned versions.
COPY requirements.txt ./
RUN pip install --no-cache-dir -r requirements.txt

# The code stays owned by root: the app user can read it, not change it.
COPY . .

# Build-time only: development mode and a throwaway key, so settings load without secrets.
# Neither is kept in the image; production takes its own SECRET_KEY at run time. Afterwards
# drop anything settings may have generated under var/ (dev keys, SQLite) except the static
# files, and give var/ itself (not the static files in it) to the app user.
RUN DEPLOYMENT=development SECRET_KEY=build-only-not-a-secret python manage.py compilemessages \
    && DEPLOYMENT=development SECRET_KEY=build-only-not-a-secret python manage.py collectstatic --noinput \
    && find "$VAR_DIR" -mindepth 1 -maxdepth 1 ! -name static -exec rm -rf {} + \
    && chown app:app "$VAR_DIR"

USER app

EXPOSE 8000

CMD ["gunicorn", "--config", "gunicorn.conf.py", "--bind", "0.0.0.0:8000", "secondopinion.wsgi:application"]
