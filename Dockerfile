# syntax=docker/dockerfile:1
# hark server image: `docker build -t hark .` then `docker run -p 8080:8080 -v hark-data:/data hark`
# (or `docker compose up`, see docker-compose.yml). The first start prints an admin token once:
# `docker logs <container>` shows it.
#
# Base: the official Node.js 20 image on Debian 12 (bookworm), the Debian release and Node.js major that
# hark is built and tested on. Debian's own nodejs package is 18, too old for hark (engines: node >= 20.19).

# ---- build: compile the FAISS addon, install every npm dependency, build the TypeScript and the dashboard ----
FROM node:20-bookworm-slim AS build
# The same Debian packages as scripts/install-system-deps.sh, minus the test-only ones (chromium,
# docker-compose) and the microphone tools.
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      build-essential python3 libfaiss-dev libopenblas0-openmp liblapack-dev libblas-dev \
 && rm -rf /var/lib/apt/lists/*
# The repository's .npmrc points node-gyp at Debian's Node headers (/usr); this image's Node lives in /usr/local.
# onnxruntime-node ships its CPU binaries in the package; skip its optional CUDA download.
ENV npm_config_nodedir=/usr/local \
    ONNXRUNTIME_NODE_INSTALL=skip
WORKDIR /app
# Dependencies first (a cached layer while package-lock.json is unchanged).
COPY package.json package-lock.json .npmrc ./
COPY libs/protocol/package.json libs/protocol/
COPY libs/dsp/package.json libs/dsp/
COPY libs/detection/package.json libs/detection/
COPY native/package.json native/
COPY apps/server/package.json apps/server/
COPY apps/dashboard/package.json apps/dashboard/
COPY apps/cli/package.json apps/cli/
COPY apps/cli/bin apps/cli/bin
COPY test/package.json test/
RUN npm ci
COPY . .
RUN npm run build:addon -w @hark/native \
 && npm run build \
 && npm prune --omit=dev

# ---- run: the built tree and the run-time libraries only --------------------------------------------------------
FROM node:20-bookworm-slim
# OpenBLAS (OpenMP) behind Debian's libblas.so.3 / liblapack.so.3, and GNU OpenMP, for the FAISS addon.
RUN apt-get update \
 && apt-get install -y --no-install-recommends libopenblas0-openmp libgomp1 \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --create-home --home-dir /home/hark --uid 10001 hark \
 && mkdir /data && chown hark:hark /data
WORKDIR /app
COPY --from=build /app /app
# Backbones converted to ONNX on first use are cached in the user's home (not in the data volume).
ENV NODE_ENV=production \
    HARK_CACHE_DIR=/home/hark/.cache/hark/backbones
USER hark
EXPOSE 8080
VOLUME /data
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:8080/api/docs-json').then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["node", "--single-threaded-gc", "--initial-old-space-size=256", "apps/cli/bin/hark.js", "serve", "--host", "0.0.0.0", "--port", "8080", "--data", "/data"]
