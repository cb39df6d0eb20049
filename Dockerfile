# One image for both services: docker build -t tracingdemo . and then
# docker run tracingdemo frontend, or backend (docker-compose.yml does
# both). The result is one static binary on distroless, run as a non-root
# user, with no shell: about 22 MB.

# The two base images. Build arguments, so that a test on a machine with no
# registry can put local stand-ins in their place (scripts/docker-stand-ins.sh);
# left alone, they are the official images.
ARG GO_IMAGE=golang:1.27.3
ARG RUN_IMAGE=gcr.io/distroless/static-debian12:nonroot

# Build stage: the Go toolchain.
FROM ${GO_IMAGE} AS build
WORKDIR /src
# Dependencies first, in a layer of their own: it is rebuilt only when
# go.mod or go.sum change, not on every edit of the code.
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# Static (no cgo), reproducible (-trimpath), and stripped (-s -w).
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/tracingdemo ./cmd/tracingdemo

# Run stage: CA certificates, /etc/passwd, and the binary; nothing else.
FROM ${RUN_IMAGE}
COPY --from=build /out/tracingdemo /tracingdemo
# 65532 is distroless' "nonroot"; numeric, so that a runtime can check it.
USER 65532:65532
# The argument names the service. So does its health check, which the
# binary runs itself (there is no curl in the image):
# /tracingdemo frontend -healthcheck, as docker-compose.yml sets it.
ENTRYPOINT ["/tracingdemo"]
