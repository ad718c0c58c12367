# Production image: the service with its runtime dependencies only, the Pulumi CLI built from
# its Go modules (tools/pulumi-cli pins the version) and the AWS plugin; the real engine runs.
#
#   docker build -t stepladder .
#   docker run -p 8000:8000 -e PULUMI_CONFIG_PASSPHRASE_FILE=/run/secrets/passphrase \
#     -v "$PWD/passphrase:/run/secrets/passphrase:ro" -v stepladder-data:/home/stepladder/data \
#     stepladder
#
# The pulumi engine refuses to start without a passphrase or a KMS secrets provider (see the
# README, "Production image"). Not built where it was written (no Docker engine there).

FROM golang:1.26-bookworm AS pulumi-cli
ARG PULUMI_VERSION=v3.274.0
WORKDIR /src
COPY tools/pulumi-cli/ ./
RUN CGO_ENABLED=0 go build -trimpath \
      -ldflags "-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=${PULUMI_VERSION}" \
      -o /out/pulumi github.com/pulumi/pulumi/pkg/v3/cmd/pulumi

FROM python:3.11-slim-bookworm
ARG PULUMI_AWS_VERSION=7.51.1

RUN apt-get update \
 && apt-get install -y --no-install-recommends tini ca-certificates \
 && rm -rf /var/lib/apt/lists/*

RUN useradd --create-home --uid 10001 stepladder
WORKDIR /app

COPY requirements/runtime.txt ./requirements/runtime.txt
RUN pip install --no-cache-dir --require-hashes -r requirements/runtime.txt
COPY pyproject.toml README.md ./
COPY db ./db
COPY programs ./programs
COPY service ./service
RUN pip install --no-cache-dir --no-deps .

COPY --from=pulumi-cli /out/pulumi /usr/local/bin/pulumi

USER stepladder
# Production needs the real provider plugin; the image builder has the internet.
RUN pulumi plugin install resource aws "v${PULUMI_AWS_VERSION}"

ENV STEPLADDER_ENGINE=pulumi \
    STEPLADDER_DATA_DIR=/home/stepladder/data \
    STEPLADDER_HOST=0.0.0.0 \
    STEPLADDER_PORT=8000 \
    PYTHONUNBUFFERED=1
# The embedded database, Pulumi state and workspaces: keep them past the container.
RUN mkdir -p /home/stepladder/data
VOLUME /home/stepladder/data
EXPOSE 8000
# `stepladder healthcheck` asks the port serve listens on (STEPLADDER_PORT; set that, not --port).
HEALTHCHECK --interval=30s --timeout=10s --start-period=60s CMD ["stepladder", "healthcheck"]
# tini reaps the engine's child processes and passes SIGTERM on, so stops are clean.
ENTRYPOINT ["tini", "--"]
CMD ["stepladder", "serve"]
