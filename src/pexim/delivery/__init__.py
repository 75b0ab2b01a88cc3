"""Routing and delivery: retry rules, the queue runner, bounces (later)."""
