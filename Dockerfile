# Labelwise: one image for the API (uvicorn), the Celery worker and Celery beat.
# Build: docker compose build     Run: docker compose up
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    LABELWISE_DATA_DIR=/data \
    PYTHONPATH=/app

WORKDIR /app
# PYTHONPATH=/app: uvicorn, alembic and celery all import `app`/`workers` from /app (next to
# templates/ and static/) rather than mixing in the copy that `pip install .` puts in site-packages.

# torch first, from the CPU-only index: the project pins torch==2.13.0, and a plain PyPI install
# of torch on Linux pulls several GB of CUDA libraries that the CPU image never uses.
RUN pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu

# The package itself; its dependencies find torch==2.13.0 already installed.
COPY pyproject.toml ./
COPY app ./app
COPY workers ./workers
RUN pip install . && python -c "import torch; assert torch.__version__.startswith('2.13.0'), torch.__version__"

COPY migrations ./migrations
COPY alembic.ini ./
COPY templates ./templates
COPY static ./static

# Run as an unprivileged user; /data is the shared volume for images, masks and model weights.
RUN useradd --create-home --uid 10001 labelwise \
    && mkdir -p /data && chown labelwise:labelwise /data
USER labelwise
VOLUME ["/data"]

EXPOSE 8000
CMD ["uvicorn", "--factory", "app.main:create_app", "--host", "0.0.0.0", "--port", "8000"]
