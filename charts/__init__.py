"""Images Vigil renders itself (server-side, no display): the `/reports stats` chart."""
