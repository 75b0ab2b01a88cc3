"""Router drivers, one module per driver; the registry is pexim.config.drivers."""
