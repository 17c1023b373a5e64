# syntax=docker/dockerfile:1
# Build: docker build -t mfa-recovery .
# Run:   docker run -e DATABASE_URL=... -e COGNITO_USER_POOL_ID=... -e COGNITO_CLIENT_ID=... \
#          -e SES_FROM_ADDRESS=... -e CODE_PEPPER=... -e AWS_REGION=... -p 8080:8080 mfa-recovery
# Settings are described in docs/OPERATIONS.md; AWS credentials come from the standard chain
# (IRSA, ECS task role, instance profile, or AWS_* variables).

FROM rust:1.95-slim-bookworm AS chef
RUN cargo install cargo-chef --locked --version ^0.1
WORKDIR /app

FROM chef AS planner
COPY . .
RUN cargo chef prepare --recipe-path recipe.json

FROM chef AS builder
# Dependencies first, in their own cached layer.
COPY --from=planner /app/recipe.json recipe.json
RUN cargo chef cook --release --locked --recipe-path recipe.json
COPY . .
# Migrations and templates are compiled into the binary. All SQL is checked at run time (no
# sqlx query! macros), so no database and no SQLX_OFFLINE data are needed to build.
RUN cargo build --release --locked --bin mfa-recovery

FROM debian:bookworm-slim AS runtime
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin mfa-recovery
WORKDIR /app
COPY --from=builder /app/target/release/mfa-recovery /usr/local/bin/mfa-recovery
COPY config ./config
ENV APP_ENV=production \
    APP_CONFIG_DIR=/app/config \
    BIND_ADDR=0.0.0.0:8080 \
    ADMIN_BIND_ADDR=0.0.0.0:9091
USER 10001
# 8080 is the public service; 9091 serves /metrics and the probes, for the cluster only.
EXPOSE 8080 9091
ENTRYPOINT ["mfa-recovery"]
CMD ["serve"]
