"""Ray Serve application: encoder deployments, the search ingress (HTTP + gRPC), web UI assets."""
