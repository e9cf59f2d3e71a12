# One image for every sanpi service; the command picks the service:
#   docker run sanpi python -m sanpi.registry   (or sanpi.milestone, sanpi.notification)
# On an intranet: --build-arg REGISTRY_MIRROR=harbor.example.gov.cn/dockerhub/ (the base image),
# PIP_INDEX_URL and UV_INDEX_URL (a PyPI mirror); docker compose passes them from the environment.
ARG REGISTRY_MIRROR=
FROM ${REGISTRY_MIRROR}python:3.11-slim AS build
ARG PIP_INDEX_URL=https://pypi.org/simple
ARG UV_INDEX_URL=https://pypi.org/simple
ENV UV_PYTHON_DOWNLOADS=never UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy
RUN pip install --no-cache-dir uv==0.13.9
WORKDIR /app
COPY pyproject.toml uv.lock ./
COPY libs libs
COPY services services
RUN uv sync --locked --no-dev --no-editable

FROM ${REGISTRY_MIRROR}python:3.11-slim
# The 通报 PDF embeds a Chinese TrueType font (Debian's fonts-wqy-zenhei).
RUN apt-get update && apt-get install -y --no-install-recommends fonts-wqy-zenhei \
    && rm -rf /var/lib/apt/lists/*
RUN useradd --uid 10001 --create-home sanpi && mkdir /data && chown sanpi /data
COPY --from=build /app/.venv /app/.venv
ENV PATH=/app/.venv/bin:$PATH SANPI_DATA_DIR=/data PYTHONUNBUFFERED=1 SANPI_HEALTH_PORT=8001
USER sanpi
WORKDIR /app
EXPOSE 8001 8002 8003
# Liveness of whichever service runs: SANPI_HEALTH_PORT is set to its port (compose does).
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ['SANPI_HEALTH_PORT'], timeout=2)"]
CMD ["python", "-m", "sanpi.registry"]
