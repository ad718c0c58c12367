# Production image: the Pulumi CLI and its AWS plugin are installed at build time, and the
# service runs the real engine. Build: docker build -t stepladder .
FROM python:3.11-slim-bookworm

ARG PULUMI_VERSION=3.272.0
ARG PULUMI_AWS_VERSION=7.51.1

RUN apt-get update \
 && apt-get install -y --no-install-recommends curl ca-certificates tini \
 && rm -rf /var/lib/apt/lists/*

RUN useradd --create-home --uid 10001 stepladder
WORKDIR /app

COPY requirements.lock pyproject.toml README.md ./
RUN pip install --no-cache-dir -r requirements.lock
COPY db ./db
COPY programs ./programs
COPY service ./service
RUN pip install --no-cache-dir --no-deps .

USER stepladder
ENV PATH="/home/stepladder/.pulumi/bin:${PATH}"
RUN curl -fsSL https://get.pulumi.com | sh -s -- --version "${PULUMI_VERSION}" \
 && pulumi plugin install resource aws "v${PULUMI_AWS_VERSION}"

ENV STEPLADDER_ENGINE=pulumi \
    STEPLADDER_DATA_DIR=/home/stepladder/data \
    STEPLADDER_HOST=0.0.0.0 \
    STEPLADDER_PORT=8000 \
    PYTHONUNBUFFERED=1
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s \
  CMD curl -fsS http://127.0.0.1:8000/healthz || exit 1
# tini is PID 1: it reaps the orphaned Pulumi CLIs and plugins that `serve` would leave as zombies.
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["stepladder", "serve", "--host", "0.0.0.0"]
