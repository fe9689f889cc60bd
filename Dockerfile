# Likeness in a container: the steps of docs/deployment.md and scripts/cluster, which is where
# they are tested (no Docker engine runs where Likeness is developed, so this file is kept a
# faithful transcription of those scripts rather than built by the tests).
#
#   docker build -t likeness .
#   docker run --env-file likeness.env likeness python manage.py migrate --noinput   # release
#   docker run --env-file likeness.env -p 8000:8000 likeness                         # web
#   docker run --env-file likeness.env likeness python manage.py db_worker --no-reload --threads 8
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    DATA_DIR=/app/var \
    WEB_CONCURRENCY=2

WORKDIR /app
RUN useradd --create-home --uid 1000 likeness

# Dependencies first (pinned in pyproject.toml), so code changes reuse this layer.
COPY pyproject.toml ./
RUN pip install --upgrade pip && pip install -e .

COPY . .
# Hashed, compressed static files for whitenoise, as the release step of deployment.md. The
# settings refuse DEBUG=0 without a key and hosts; these build-time values never run.
RUN DEBUG=0 SECRET_KEY=build-only-not-a-secret-0123456789abcdef ALLOWED_HOSTS=build \
    python manage.py collectstatic --noinput \
    && mkdir -p /app/var && chown -R likeness /app/var

USER likeness
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s CMD python -c \
    "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"
# The web process; WEB_CONCURRENCY sets gunicorn's --workers.
CMD ["gunicorn", "likeness.wsgi:application", "--bind", "0.0.0.0:8000", \
     "--worker-class", "gthread", "--threads", "4", "--timeout", "60", \
     "--graceful-timeout", "30", "--access-logfile", "-"]
