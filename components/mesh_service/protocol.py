"""What a service's protocol (catalog `protocol`: http, http2, grpc) changes: Service Connect's appProtocol,
the ALB target groups' protocol version and health check, and the container health check.
docs/mesh-service.md ("Protocols: HTTP/1.1, HTTP/2, gRPC") gives the AWS sources and what is unconfirmed."""

from __future__ import annotations

from components.core.types import APP_PROTOCOLS, AppProtocol

# The standard gRPC health service (grpc/grpc doc/health-checking.md); a grpc service's healthPath is this.
GRPC_HEALTH_PATH = "/grpc.health.v1.Health/Check"
# CreateTargetGroup ProtocolVersion: HTTP1 | HTTP2 | GRPC (botocore elbv2).
TARGET_GROUP_PROTOCOL_VERSION: dict[str, str] = {"http": "HTTP1", "http2": "HTTP2", "grpc": "GRPC"}
# Matcher: HttpCode for HTTP1/HTTP2, GrpcCode (0-99, default 12) for GRPC. 0 = OK: the health service
# answered; 12 (UNIMPLEMENTED, ALB's default for its own /AWS.ALB/healthcheck) would pass a server that has
# no health service at all.
HTTP_HEALTHY_CODES = "200"
GRPC_HEALTHY_CODES = "0"


def target_group_matcher(protocol: AppProtocol) -> str:
    return GRPC_HEALTHY_CODES if protocol == "grpc" else HTTP_HEALTHY_CODES


def protocol_problem(protocol: str, health_path: str, *, routed: bool, https_listener: bool) -> str | None:
    """Combinations AWS or the protocol refuse, in words; None when the service can run so."""
    if protocol not in APP_PROTOCOLS:
        return f"protocol {protocol!r} must be one of {APP_PROTOCOLS}"
    if protocol == "grpc" and health_path != GRPC_HEALTH_PATH:
        return (f"a grpc service's healthPath is the gRPC health service {GRPC_HEALTH_PATH} (the container check "
                f"and the ALB call it), not {health_path!r}")
    if routed and protocol != "http" and not https_listener:
        # ALB target groups with protocol version HTTP2 or GRPC are reachable only through HTTPS listeners.
        return (f"a routed {protocol} service needs the ALB's HTTPS listener, which only a stack with `dns` has; "
                "leave pathPrefix out (internal only) or give the stack dns")
    return None


def container_health_command(protocol: AppProtocol, port: int, path: str, max_seconds: int) -> list[str]:
    """The ECS container health check, run with the image's /bin/sh (dash) and curl only (the image contract)."""
    url = f"http://127.0.0.1:{port}{path}"
    if protocol == "http":
        return ["CMD-SHELL", f"curl -fsS --max-time {max_seconds} -o /dev/null {url} || exit 1"]
    if protocol == "http2":
        return ["CMD-SHELL", f"curl -fsS --http2-prior-knowledge --max-time {max_seconds} -o /dev/null {url} || exit 1"]
    # gRPC Health/Check with an empty HealthCheckRequest (a 5-byte frame: uncompressed, length 0) over h2c.
    # grpc-status arrives as a trailer (or a header in a trailers-only answer); curl prints both with -D -.
    call = (f"printf '\\000\\000\\000\\000\\000' | curl -sS --http2-prior-knowledge --max-time {max_seconds} "
            "-H 'content-type: application/grpc' -H 'te: trailers' --data-binary @- -o /dev/null -D - "
            f"{url}")
    return ["CMD-SHELL", f"case \"$({call})\" in *'grpc-status: 0'*) exit 0 ;; esac; exit 1"]
