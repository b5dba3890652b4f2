# fedsettle: one image for every service of docker-compose.yml (anvil, coordinator + SuperLink,
# silo daemons + SuperNodes, auditor).
#
# - Python 3.11 slim base; torch comes from the CPU wheel index at the project's pin (the default
#   index would pull several GB of CUDA libraries);
# - Node.js + `npm ci` install the pinned toolchain of package-lock.json: Foundry's anvil (the
#   compose file's chain service runs it from this image, so chain and clients share one build)
#   and solc-js (only needed to recompile contracts; the committed artifacts are used as is);
# - flwr is pinned to the version the deployment engine was measured with.
FROM python:3.11-slim

ENV PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    FLWR_TELEMETRY_ENABLED=0 \
    FLWR_DISABLE_UPDATE_CHECK=1 \
    FLWR_DISABLE_RUNTIME_DEPENDENCY_INSTALLATION=1

RUN apt-get update \
    && apt-get install -y --no-install-recommends nodejs npm ca-certificates \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app

# toolchain first: it changes least often
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund && node_modules/.bin/anvil --version
ENV PATH=/app/node_modules/.bin:$PATH

# the heavy Python dependency in its own layer
RUN pip install --index-url https://download.pytorch.org/whl/cpu torch==2.13.0

COPY pyproject.toml README.md ./
COPY solver ./solver
COPY settlement ./settlement
COPY fl_node ./fl_node
RUN pip install . flwr==1.41.0 && fedsettle --help > /dev/null

# example configs (deploy/README.md); state and credentials live in volumes
COPY deploy ./deploy
# mount points of docker-compose.yml's volumes, owned by the user the services run as
RUN useradd --create-home --uid 10001 fedsettle \
    && mkdir -p /var/lib/fedsettle /credentials /coordinator /silo-credentials/silo-1 \
       /silo-credentials/silo-2 /silo-credentials/silo-3 \
    && chown -R fedsettle /var/lib/fedsettle /credentials /coordinator /silo-credentials
USER fedsettle

CMD ["fedsettle", "--help"]
