# One image for every sanpi service; the command picks the service:
#   docker run sanpi python -m sanpi.registry   (or sanpi.milestone, sanpi.notification)
FROM python:3.11-slim AS build
ENV UV_PYTHON_DOWNLOADS=never UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy
RUN pip install --no-cache-dir uv==0.13.9
WORKDIR /app
COPY pyproject.toml uv.lock ./
COPY libs libs
COPY services services
RUN uv sync --locked --no-dev --no-editable

FROM python:3.11-slim
RUN useradd --uid 10001 --create-home sanpi
COPY --from=build /app/.venv /app/.venv
ENV PATH=/app/.venv/bin:$PATH SANPI_DATA_DIR=/data
RUN mkdir /data && chown sanpi /data
USER sanpi
WORKDIR /app
EXPOSE 8001 8002 8003
CMD ["python", "-m", "sanpi.registry"]
