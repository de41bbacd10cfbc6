# syntax=docker/dockerfile:1
# Multi-stage build: a cached dependency layer, then a small non-root runtime image serving MCP over HTTP.
FROM rust:1.95-bookworm AS build
WORKDIR /src
# The production binary: `--no-default-features` leaves out the simulator (`demo`,
# `serve --simulator`) with its own HTTPS server, rcgen and seeded state (see README).
# Dependency layer: manifests only, with stub sources, so `cargo build` caches the dependency tree.
COPY Cargo.toml Cargo.lock ./
COPY .cargo .cargo
COPY crates/opnsense-api/Cargo.toml crates/opnsense-api/
COPY crates/opnsense-mcp-tools/Cargo.toml crates/opnsense-mcp-tools/
COPY crates/opnsense-mcp/Cargo.toml crates/opnsense-mcp/
COPY crates/opnsense-sim/Cargo.toml crates/opnsense-sim/
COPY crates/opnsense-change/Cargo.toml crates/opnsense-change/
COPY crates/test-support/Cargo.toml crates/test-support/
COPY xtask/Cargo.toml xtask/
RUN for c in crates/opnsense-api crates/opnsense-mcp-tools crates/opnsense-sim crates/opnsense-change crates/test-support; do \
      mkdir -p $c/src && echo "" > $c/src/lib.rs; done \
 && mkdir -p crates/opnsense-mcp/src crates/opnsense-sim/src/bin xtask/src \
 && echo "fn main() {}" > crates/opnsense-mcp/src/main.rs \
 && echo "fn main() {}" > crates/opnsense-sim/src/bin/opnsense-sim.rs \
 && echo "fn main() {}" > xtask/src/main.rs \
 && cargo build --release --locked -p opnsense-mcp --no-default-features || true
COPY . .
# The commit for `--version` (.git is not in the build context): `--build-arg GIT_COMMIT=$(git rev-parse --short=12 HEAD)`.
ARG GIT_COMMIT=unknown
ENV BUILD_GIT_COMMIT_OPNSENSE_MCP=$GIT_COMMIT
RUN touch crates/*/src/*.rs \
 && cargo build --release --locked -p opnsense-mcp --no-default-features

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates curl \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin mcp \
 && mkdir -p /var/lib/opnsense-mcp && chown 10001 /var/lib/opnsense-mcp
COPY --from=build /src/target/release/opnsense-mcp /usr/local/bin/opnsense-mcp
USER 10001
# Nothing but the state volume is written: the image runs with a read-only root filesystem
# (`--read-only`, compose.yaml's `read_only: true`).
# Binding 0.0.0.0 inside the container: the server refuses to start without OPNSENSE_HTTP_TOKEN.
ENV OPNSENSE_TRANSPORT=http OPNSENSE_HTTP_HOST=0.0.0.0 OPNSENSE_HTTP_PORT=8000
# The change journal: keep it on a volume so a restarted container reverts what it left pending.
ENV OPNSENSE_STATE_DIR=/var/lib/opnsense-mcp
VOLUME /var/lib/opnsense-mcp
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
  CMD curl -fsS http://127.0.0.1:8000/healthz || exit 1
ENTRYPOINT ["opnsense-mcp"]
CMD ["serve"]
