"""One ComponentResource per area. Components take typed arguments and never read config."""
