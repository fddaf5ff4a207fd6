# syntax=docker/dockerfile:1
# The credits API: compiled in one stage, production dependencies installed in another (better-sqlite3
# compiles its native module there when no prebuilt binary fits), and a slim runtime stage that holds
# only what the server runs and runs it as the unprivileged `node` user.
ARG NODE_IMAGE=node:20-bookworm-slim

# --- toolchain for native modules (better-sqlite3) -----------------------------------------------
FROM ${NODE_IMAGE} AS toolchain
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app

# --- build: all dependencies, then tsc -> dist/ -------------------------------------------------
FROM toolchain AS build
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
COPY projections ./projections
COPY reactions ./reactions
RUN npm run build

# --- production dependencies only ----------------------------------------------------------------
FROM toolchain AS deps
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

# --- runtime ---------------------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=4000 \
    DATA_DIR=/data
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY config ./config
COPY web ./web
COPY --from=build /app/dist ./dist
# Read models and their checkpoints (and the embedded event store when EVENTSTORE_URL is unset).
RUN mkdir -p /data && chown node:node /data
VOLUME ["/data"]
USER node
EXPOSE 4000
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 4000) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["node", "dist/src/main.js"]
