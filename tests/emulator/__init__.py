"""The emulator's pytest fixtures (fixtures.py); the emulator itself is the top-level ``emulator``
package, which ships with Vigil for ``python bot.py demo``."""
