"""Access control lists: parsing (here) and, later, the engine (verbs, conditions)."""
