# syntax=docker/dockerfile:1
#
# Gatehouse images. Targets:
#   server   (default) the authorization server: compiled JavaScript, production dependencies only
#   demo-api the demo recipes API, run from the workspace sources (it bundles its page at start)
#
#   docker build -t gatehouse .
#   docker build -t gatehouse-demo-api --target demo-api .
#
# Why compile instead of running the TypeScript sources with Node's type stripping:
# `pnpm deploy --prod` copies each workspace package as published (`files: ["dist"]`), and Node
# refuses to strip types from files under node_modules, so a deployed package must be
# JavaScript. Compiling also type-checks the tree at image build time (a broken tree fails the
# build, not the rollout) and leaves the compiler and the sources out of the image.

ARG NODE_VERSION=24

FROM node:${NODE_VERSION}-slim AS base
ENV PNPM_HOME=/pnpm \
    PATH=/pnpm:$PATH
RUN npm install --global --no-fund --no-audit pnpm@12.4.2
WORKDIR /app

# ---- build: the whole workspace with dev dependencies; compile; deploy the server ------------
FROM base AS build
# Manifests first: the install layer is reused until a manifest or the lockfile changes.
COPY package.json pnpm-lock.yaml pnpm-workspace.yaml ./
COPY packages/client/package.json packages/client/
COPY packages/demo-api/package.json packages/demo-api/
COPY packages/e2e/package.json packages/e2e/
COPY packages/react/package.json packages/react/
COPY packages/resource/package.json packages/resource/
COPY packages/server/package.json packages/server/
COPY packages/testkit/package.json packages/testkit/
RUN --mount=type=cache,id=pnpm-store,target=/pnpm/store \
    pnpm install --frozen-lockfile --store-dir /pnpm/store
COPY tsconfig.base.json ./
COPY packages packages
RUN pnpm --filter "@gatehouse/server..." build
# A self-contained directory: package.json, dist/ and production node_modules, nothing else.
RUN --mount=type=cache,id=pnpm-store,target=/pnpm/store \
    pnpm --filter @gatehouse/server deploy --prod --store-dir /pnpm/store /out/server

# ---- demo-api: a demo, not a production artefact ---------------------------------------------
# It bundles its browser page with esbuild from the SDK's sources at start, so it needs the
# workspace sources and esbuild (a dev dependency); it runs them with Node's type stripping.
FROM base AS demo-api
ENV NODE_ENV=production \
    PORT=4001
COPY --from=build --chown=node:node /app /app
USER node
EXPOSE 4001
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||4001)+'/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
CMD ["node", "--conditions=@gatehouse/source", "packages/demo-api/src/main.ts"]

# ---- server: the final image ------------------------------------------------------------------
FROM node:${NODE_VERSION}-slim AS server
ENV NODE_ENV=production \
    PORT=4000
WORKDIR /app
# Owned by root and not writable by the process: the server writes nothing to disk.
COPY --from=build /out/server /app
# The `node` user (uid 1000) ships with the official image.
USER node
EXPOSE 4000
# /healthz says the process serves; /readyz also checks Redis (use it for load-balancer readiness).
HEALTHCHECK --interval=15s --timeout=3s --start-period=15s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||4000)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# Exec form: node is PID 1 and receives SIGTERM, which drains in-flight requests (main.ts).
# Admin CLI in the same image: docker compose exec server node dist/cli/main.js keys list
CMD ["node", "dist/main.js"]
