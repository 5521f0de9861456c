"""Admission, mempool, ordering, execution, soft confirmations, blocks and batches."""
