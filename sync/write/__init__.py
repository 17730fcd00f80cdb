"""Writing the mirror: the batch writer and the calls' writer (`batch_writer`, `call_writer`),
the merge of staged rows (`upsert`), the per-day completeness ledger (`ledger`) and the
rollup refresh (`rollups`, `quality_rollups`). Streams read the upstream; what they read is
written through here."""
