# Build stage: the API binary, linked against libpq for PostgreSQL (SQLite is bundled).
FROM rust:1-bookworm AS build
RUN apt-get update && apt-get install -y --no-install-recommends libpq-dev && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN cargo build --release -p api --bin api

# Run stage: a slim image with the binary and the PostgreSQL client library.
FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends libpq5 ca-certificates && rm -rf /var/lib/apt/lists/* \
    && useradd --system --create-home app
COPY --from=build /src/target/release/api /usr/local/bin/api
USER app
WORKDIR /home/app
ENV APP_BIND=0.0.0.0:8080 RUST_LOG=info LOG_FORMAT=json
EXPOSE 8080
CMD ["api", "serve"]
