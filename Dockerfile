# The patas image: one image, two roles (web and worker), chosen by the command.
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PATAS_DATA_DIR=/data
WORKDIR /app
COPY pyproject.toml README.md ./
COPY src ./src
COPY content ./content
RUN pip install --no-cache-dir . && useradd --system --home /data patas && mkdir -p /data \
    && chown patas /data
ENV PATAS_CONTENT_DIR=/app/content
USER patas
EXPOSE 8000
CMD ["patas", "web", "--host", "0.0.0.0", "--port", "8000"]
