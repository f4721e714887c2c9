# Node 22 is the LTS line (Node 20 left support in April 2026); the code still runs on
# Node >= 20.19. Pinned to a minor, so rebuilds pick up its patch releases.
# Build: compile TypeScript with the dev dependencies, then keep only what runs.
FROM node:22.22-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build && npm prune --omit=dev

FROM node:22.22-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY templates ./templates
COPY scripts/docker-entrypoint.sh ./scripts/docker-entrypoint.sh
# The outbox and the generated secrets live in volumes; a new named volume takes this
# ownership, so the node user can write there.
RUN mkdir -p /app/var/outbox /app/secrets && chown -R node:node /app/var /app/secrets \
  && chmod 700 /app/secrets
USER node
EXPOSE 3000
# node:22-slim has no curl: ask /health with node's own fetch.
HEALTHCHECK --interval=10s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/health').then(r=>process.exit(r.ok?0:1)).catch(()=>process.exit(1))"]
ENTRYPOINT ["sh", "/app/scripts/docker-entrypoint.sh"]
CMD ["node", "dist/main.js"]
