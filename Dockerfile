# One image for web, worker and scheduler (compose.yaml picks the command).
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    INSTANCE_PATH=/var/lib/openfloor

WORKDIR /app
COPY pyproject.toml README.md ./
COPY domain ./domain
COPY intake ./intake
COPY workers ./workers
COPY triage ./triage
COPY openfloor ./openfloor
RUN pip install . \
    && useradd --system --home /var/lib/openfloor --create-home openfloor

USER openfloor
EXPOSE 8000
CMD ["openfloor", "web", "--host", "0.0.0.0", "--port", "8000"]
