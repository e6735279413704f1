"""Vigil's domain logic. Nothing in this package imports discord, so it is testable offline."""
