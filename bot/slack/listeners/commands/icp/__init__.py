"""`/icp <subcommand>`: the listener, the dispatcher, the registry and one module per subcommand."""
