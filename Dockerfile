# One image for the whole platform: the coordinator (default CMD) and the party services
# (docker-compose.yml overrides the command with `node dist/apps/party/src/main.js`).

# ---- build: compile TypeScript to dist/ ----------------------------------------------------
FROM node:20-bookworm-slim AS build
WORKDIR /app
# A C compiler for the PSI hash-to-group addon (scripts/build-native.ts); the image's Node headers serve.
RUN apt-get update && apt-get install -y --no-install-recommends gcc libc6-dev && rm -rf /var/lib/apt/lists/*
ENV SCARF_ANALYTICS=false
COPY package.json package-lock.json ./
# Optional dependencies are skipped here too: @tensorflow/tfjs-node only matters at runtime
# (where it is omitted as well), and its install script downloads libtensorflow. tsc needs none.
RUN npm ci --omit=optional --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY apps ./apps
COPY libs ./libs
COPY scripts ./scripts
RUN npm run build

# ---- runtime: production dependencies + compiled JS, run as non-root ----------------------
FROM node:20-bookworm-slim AS runtime
WORKDIR /app
ENV NODE_ENV=production \
    SCARF_ANALYTICS=false \
    HOST=0.0.0.0 \
    PARTY_HOST=0.0.0.0
COPY package.json package-lock.json ./
# tfjs-node (optional) cannot install offline; the code falls back to the tfjs WASM backend.
RUN npm ci --omit=dev --omit=optional --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
# /data: a party's read-only input CSVs (bind mount); /models: its trained weights (volume).
# Named volumes take the ownership of the image's directory, so the `node` user can write.
RUN mkdir -p /data /models && chown node:node /models
USER node
EXPOSE 8080 7101 7102
CMD ["node", "dist/apps/coordinator/src/main.js"]
