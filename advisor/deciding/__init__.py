"""Deciding: the descriptor, the rulebook, the engine and its answer. Pure and light (no zoo, no heavy imports)."""
