"""Running: measure data, train, predict, compare. The only layer that calls the zoo."""
