# Build stage: the API binary. SQLite, libpq and OpenSSL are compiled from source and linked statically
# (libsqlite3-sys, pq-sys and openssl-sys with their bundled/vendored features): no -dev package needed.
FROM rust:1-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release -p api --bin api

# Run stage: a slim image with the binary (it needs libc only) and the CA certificates for TLS to PostgreSQL.
FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates && rm -rf /var/lib/apt/lists/* \
    && useradd --system --create-home app
COPY --from=build /src/target/release/api /usr/local/bin/api
USER app
WORKDIR /home/app
ENV APP_BIND=0.0.0.0:8080 RUST_LOG=info LOG_FORMAT=json SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt
EXPOSE 8080
CMD ["api", "serve"]
