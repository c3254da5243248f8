"""One file per `tiny` subcommand: each defines HELP, add_arguments(parser) and run(args) -> int."""
