# syntax=docker/dockerfile:1
# ssehub: build with dev dependencies, run with production ones only, as the non-root `node` user.
#   docker build -t ssehub .
#   docker run -p 3000:3000 -e REDIS_URL=redis://redis:6379 -e SESSION_KEYS=... ssehub
ARG NODE_VERSION=20

FROM node:${NODE_VERSION}-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY scripts ./scripts
COPY src ./src
# Compiles src/ to dist/ and copies src/broker/*.lua to dist/broker/.
RUN npm run build

FROM node:${NODE_VERSION}-slim AS runtime
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY views ./views
USER node
EXPOSE 3000
HEALTHCHECK --interval=10s --timeout=3s --start-period=15s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# node itself is PID 1 (no npm wrapper), so SIGTERM from `docker stop` reaches the server's
# shutdown handler: it ends open streams (clients reconnect elsewhere and resume) and exits 0.
CMD ["node", "dist/server.js"]
