"""The AWS world of a stage, created from `infra/template.yaml`, the one definition production uses.

`create_stack` is what the local stack calls against its moto server; tests can call it too (with an
in-process moto client or a moto server client), so there is never a second definition to drift.
"""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE_PATH = ROOT / "infra" / "template.yaml"


def create_stack(cloudformation, stack_name: str, stage: str) -> dict[str, str]:
    """Create the stack from the template with the `Stage` parameter and return its outputs
    (TableName, TableStreamArn, FulfilmentQueueUrl, EmailQueueUrl...). Raises botocore's
    ClientError if a stack of that name exists already."""
    cloudformation.create_stack(StackName=stack_name, TemplateBody=TEMPLATE_PATH.read_text(),
                                Parameters=[{"ParameterKey": "Stage", "ParameterValue": stage}])
    # moto completes a stack on creation; the waiter makes the same code correct against real CloudFormation.
    cloudformation.get_waiter("stack_create_complete").wait(StackName=stack_name,
                                                             WaiterConfig={"Delay": 2, "MaxAttempts": 150})
    stack = cloudformation.describe_stacks(StackName=stack_name)["Stacks"][0]
    return {output["OutputKey"]: output["OutputValue"] for output in stack.get("Outputs", [])}
