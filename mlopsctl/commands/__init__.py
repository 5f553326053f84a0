"""One module per subcommand: arguments and orchestration only."""
