"""Calls partitioned by month and retention tier.

The layout and DDL (`ddl`), the sync's merge (`upsert`), the conversion of a plain table
(`convert`) and retention tiers (`retention`).
"""
