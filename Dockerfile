# syntax=docker/dockerfile:1
# One image, two commands: the API (default) and the worker (`node … dist/worker.js`).
# Migrations run as their own step: `docker compose run --rm migrate`.

FROM node:20-bookworm-slim AS base
ENV PNPM_HOME=/pnpm PATH=/pnpm:$PATH
RUN npm install -g pnpm@10.34.9
WORKDIR /app

FROM base AS deps
COPY package.json pnpm-lock.yaml ./
RUN pnpm install --frozen-lockfile

FROM deps AS build
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN pnpm build

FROM base AS prod-deps
COPY package.json pnpm-lock.yaml ./
RUN pnpm install --frozen-lockfile --prod

FROM node:20-bookworm-slim AS runtime
RUN apt-get update && apt-get install -y --no-install-recommends tini && rm -rf /var/lib/apt/lists/*
ENV NODE_ENV=production
# Heap settings measured with `pnpm bench` / `pnpm bench:memory` (bench/README.md): a bounded
# old space makes V8 collect before the container limit instead of growing lazily, and
# smaller semi-spaces cut the young generation's footprint. The bench reads this line.
ENV NODE_OPTIONS="--max-old-space-size=192 --max-semi-space-size=8"
WORKDIR /app
COPY --from=prod-deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY drizzle ./drizzle
# The local storage driver's directory (STORAGE_LOCAL_DIR); mount a volume here to keep files.
RUN mkdir -p /app/.data/uploads && chown -R node:node /app/.data
USER node
EXPOSE 3000
# tini reaps zombies and forwards SIGTERM; node runs directly (pnpm would swallow the signal).
# dist/otel-register.js starts OpenTelemetry and Sentry before the app loads (each only when
# OTEL_EXPORTER_OTLP_ENDPOINT / SENTRY_DSN is set); the worker: same flags, dist/worker.js.
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["node", "--enable-source-maps", "--import", "./dist/otel-register.js", "dist/server.js"]
