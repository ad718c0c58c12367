"""IAM documents the components share."""

import json


def assume_role_policy(service: str) -> str:
    """A trust policy letting an AWS service (`ec2.amazonaws.com`, ...) assume the role."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}
            ],
        }
    )
