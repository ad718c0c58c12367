"""`python -m tests.integration.aws_plugin <engine address>`: run the simulated provider."""

from tests.integration.aws_plugin.server import main

main()
