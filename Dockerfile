# syntax=docker/dockerfile:1
FROM python:3.11-slim AS build
WORKDIR /srv
RUN python -m venv /venv
COPY pyproject.toml README.md ./
COPY app app
COPY jirasim jirasim
# Install the dependencies, not the project itself: the image runs the source in /srv.
RUN /venv/bin/pip install --no-cache-dir . && /venv/bin/pip uninstall -y helpdesk-jira-sync

FROM python:3.11-slim
RUN useradd --create-home --uid 10001 app
WORKDIR /srv
COPY --from=build /venv /venv
COPY alembic.ini ./
COPY migrations migrations
COPY app app
COPY jirasim jirasim
RUN mkdir -p /srv/data && chown app:app /srv/data
USER app
ENV PATH=/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    HOST=0.0.0.0 \
    PORT=8080 \
    FORWARDED_ALLOW_IPS="*"
EXPOSE 8080
VOLUME ["/srv/data"]
HEALTHCHECK --interval=30s --timeout=3s CMD python -c "import urllib.request,os; urllib.request.urlopen(f'http://127.0.0.1:{os.environ.get(\"PORT\",\"8080\")}/healthz')"
CMD ["python", "-m", "app", "serve"]
