"""Batch import: reading manifests (`manifest`), checking rows (`rows`), unpacking uploaded ZIPs
(`unpack`). The import itself is an operation: `portal.operations.imports`."""
