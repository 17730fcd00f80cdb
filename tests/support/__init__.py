"""Helpers shared by tests: the cast, one factory per model, worlds, processes, simulators."""
