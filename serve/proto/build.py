"""Regenerate cad_retrieval_pb2.py and cad_retrieval_pb2_grpc.py: ``python -m serve.proto.build``.

The generated modules are checked in; run this after editing cad_retrieval.proto. protoc runs from
the repository root, so the messages' module is ``serve.proto.cad_retrieval_pb2``: Ray Serve pickles
request messages between its gRPC proxy and the replicas, which must import them by that name.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]  # the repository root: the import root of the generated modules
PROTO = HERE / "cad_retrieval.proto"


def build() -> list[Path]:
    """Run grpc_tools.protoc on the proto; returns the files written."""
    from grpc_tools import protoc

    args = [
        "grpc_tools.protoc",
        f"-I{ROOT}",
        f"--python_out={ROOT}",
        f"--grpc_python_out={ROOT}",
        str(PROTO.relative_to(ROOT)),
    ]
    if protoc.main(args) != 0:
        raise RuntimeError(f"protoc failed on {PROTO}")
    return [HERE / "cad_retrieval_pb2.py", HERE / "cad_retrieval_pb2_grpc.py"]


if __name__ == "__main__":
    for path in build():
        print(f"wrote {path}")
    sys.exit(0)
