"""A simulated `aws` provider plugin: test tooling for the integration suite, never shipped.

It speaks Pulumi's provider gRPC protocol, so the real Pulumi CLI runs the real programs against
it, and answers from the one simulated AWS the simulator engine also uses
(`service/engines/simulated_aws.py`, `simulated_aws_rules.py`). `install.py` puts it into a test
run's PULUMI_HOME as the `aws` plugin at the version pulumi-aws asks for; `cloud.py` keeps the
simulated resources on disk and reads the test's settings (latency, failing creates).
"""
