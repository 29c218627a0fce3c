"""gRPC API of the search service: cad_retrieval.proto and its generated modules."""
