# Build stage: install Velora and its pinned dependencies into a virtualenv.
FROM python:3.11-slim AS build
WORKDIR /src
RUN python -m venv /opt/velora
COPY pyproject.toml README.md alembic.ini ./
COPY domain domain
COPY eventstore eventstore
COPY services services
COPY projections projections
COPY adapters adapters
COPY api api
COPY migrations migrations
RUN /opt/velora/bin/pip install --no-cache-dir .

# Runtime stage: the virtualenv only, run as an unprivileged user.
FROM python:3.11-slim
RUN useradd --system --uid 10001 --home-dir /var/lib/velora --create-home velora
COPY --from=build /opt/velora /opt/velora
ENV PATH=/opt/velora/bin:$PATH VELORA_DATA_DIR=/var/lib/velora PYTHONUNBUFFERED=1
USER velora
WORKDIR /var/lib/velora
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --retries=5 \
  CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz')"
CMD ["velora", "serve", "--host", "0.0.0.0", "--port", "8000"]
